"""Received text shown safely: a datagram must not drive a terminal or forge a line (issue 11.5)."""

import json
import socket
import subprocess
import sys

from labsock.logic.text import escape_controls, escape_mathtext, json_line, plot_label
from labsock.net.log import MessageLog

ATTACK = "hi\x1b]0;pwned\x07\x1b[2J\r127.0.0.1:11000: 42\n\u202eevil\x9b"
RAW = ("\x1b", "\x07", "\r", "\n", "\u202e", "\x9b")


def assert_nothing_raw(text: str) -> None:
    assert not any(c in text for c in RAW), repr(text)


def test_controls_become_visible_escapes_and_plain_text_is_unchanged():
    assert escape_controls(ATTACK) == (
        "hi\\x1b]0;pwned\\x07\\x1b[2J\\r127.0.0.1:11000: 42\\n\\u202eevil\\x9b"
    )
    for kept in ("héllo wörld", "tab\tless? no", "👨‍👩‍👧 family", "مرحبا", "a\u00a0b"):
        assert escape_controls(kept) == kept.replace("\t", "\\t")


def test_json_line_escapes_what_json_lets_through():
    line = json_line({"text": ATTACK, "name": "é"})
    assert_nothing_raw(line)
    assert "\x7f" not in json_line({"t": "\x7f"})
    assert json.loads(line) == {"text": ATTACK, "name": "é"}  # still the same text when parsed


def test_plot_labels_have_no_formula():
    assert escape_mathtext("$\\frac{$") == "\\$\\frac{\\$"
    assert plot_label("a$b\x1b") == "a\\$b\\x1b"


def test_message_line_and_text_report_escape_controls():
    log = MessageLog(names={11000: "c1\x1b[31m"})
    log.append(1.0, ("127.0.0.1", 5000), ATTACK.encode(), ATTACK.upper(), "bad\rerror")
    log.append(2.0, ("127.0.0.1", 11000), b"1")
    lines = [m.line() for m in log.entries()]
    for line in lines:
        assert_nothing_raw(line)
    assert lines[0].startswith("127.0.0.1:5000: hi\\x1b]0;pwned")
    report = log.tail_text().split("\n")
    assert len(report) == 3  # a heading and one line per entry: no forged line
    for line in report:
        assert_nothing_raw(line)


def test_serve_prints_received_text_escaped():
    proc = subprocess.Popen(
        [sys.executable, "-m", "labsock", "serve", "udp", "--port", "0", "--count", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.readline().decode()
    port = int(first.split(":")[1].split()[0])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(ATTACK.encode(), ("127.0.0.1", port))
        assert sock.recv(4096)  # the reply: the server has logged it
    out, _ = proc.communicate(timeout=20)
    text = out.decode()
    assert_nothing_raw(text.rstrip("\n"))
    assert text.count("\n") == 1  # one line for one datagram: no forged second line
    assert "\\x1b[2J\\r127.0.0.1:11000: 42\\n" in text


def test_send_prints_the_reply_escaped():
    from labsock import UDPServer

    with UDPServer(port=0, reply=lambda text: "\x1b[2Jcleared") as server:
        done = subprocess.run(
            [sys.executable, "-m", "labsock", "send", "udp", "x", "--port", str(server.port)],
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert done.returncode == 0
    assert done.stdout == "\\x1b[2Jcleared\n"


def test_text_reports_escape_controls():
    from labsock.show.counting_view import CountingView, counting_report
    from labsock.show.flow import Arrow, FlowDiagram

    log = MessageLog()
    log.append(1.0, ("127.0.0.1", 11000), ATTACK.encode())
    for text in (
        counting_report(log).arrivals(),
        CountingView(log, widget=False).text(),
        FlowDiagram([Arrow("client", "server", 1.0, None, "\x1b[2J")]).text(),
    ):
        for line in text.split("\n"):
            assert_nothing_raw(line)


def test_a_dollar_in_received_text_does_not_break_a_flow_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labsock.show.flow import Arrow, FlowDiagram

    flow = FlowDiagram(
        [Arrow("c1", "server", 1.0, 1.001, "$\\frac{$"), Arrow("c1", "server", 1.1, None, "$x$")]
    )
    ax = flow.plot()
    ax.figure.canvas.draw()  # matplotlib parses mathtext here: a bad formula raised
    shown = [t.get_text() for t in ax.texts]
    plt.close(ax.figure)
    assert "\\$\\frac{\\$" in shown and "\\$x\\$ lost" in shown  # the label beside its lane
