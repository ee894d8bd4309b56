"""Malformed input at every entry a student reaches: function arguments, widget values, the
command line. Each gets one plain paragraph naming the problem (a LabsockError, or a usage message
on the command line), never a traceback; the servers already running keep running, and what they
had received is still in their logs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import labsock
from labsock import LabsockError
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[1]

BAD_HOSTS = [
    "",
    "   ",
    None,
    12000,
    b"127.0.0.1",
    ["127.0.0.1"],
    "1.2.3",
    "256.0.0.1",
    "1.2.3.4.5",
    "127.0.0.01.",
    "http://127.0.0.1",
    "127.0.0.1:12000",
    "127.0.0.1/24",
    "::1",
    "a b",
    "laptop_of_ana",
    "-bad-",
]
BAD_SERVER_PORTS = [-1, 65536, 99999, 3.5, "abc", "12 000", "", True, None, [12000], float("nan")]
BAD_DESTINATION_PORTS = [*BAD_SERVER_PORTS, 0, "0"]
BAD_TIMEOUTS = [0, -1, "2", None, True, float("nan"), float("inf"), 1e300]
BAD_MESSAGES = [42, None, 3.5, ["hi"], {"text": "hi"}, "a\ud800b"]
BAD_REPLIES = ["shout", "", 42, ["upper"]]


def assert_one_paragraph(exc: BaseException, *words: str) -> None:
    text = str(exc)
    assert isinstance(exc, LabsockError), f"{type(exc).__name__}: {text}"
    assert len(text) > 30, f"too short to help: {text!r}"
    assert "\n" not in text and "Traceback" not in text, text
    for word in words:
        assert word.lower() in text.lower(), f"{word!r} not in: {text}"


# -- the servers that must not notice any of it ----------------------------------------------


@pytest.fixture
def servers():
    udp = labsock.UDPServer(port=0, reply="upper").start()
    tcp = labsock.TCPServer(port=0, reply="upper").start()
    for server, send in ((udp, labsock.send_udp), (tcp, labsock.send_tcp)):
        assert send("received before", port=server.port) == "RECEIVED BEFORE"
    yield udp, tcp
    udp.stop()
    tcp.stop()


@pytest.fixture(autouse=True)
def servers_unharmed(servers):
    before = [server.log.texts() for server in servers]
    yield
    for server, texts in zip(servers, before, strict=True):
        assert server.running, f"{server} stopped"
        assert server.log.texts()[: len(texts)] == texts, "received messages went missing"
        send = labsock.send_udp if server.protocol == "udp" else labsock.send_tcp
        assert send("still here", port=server.port) == "STILL HERE"


# -- function arguments ------------------------------------------------------------------------


@pytest.mark.parametrize("host", BAD_HOSTS, ids=repr)
@pytest.mark.parametrize("make", [labsock.UDPServer, labsock.TCPServer, labsock.serve_udp])
def test_server_with_a_bad_host(make, host):
    with pytest.raises(LabsockError) as caught:
        make(host=host, port=0)
    assert_one_paragraph(caught.value, "address")


@pytest.mark.parametrize("port", BAD_SERVER_PORTS, ids=repr)
@pytest.mark.parametrize("make", [labsock.UDPServer, labsock.TCPServer, labsock.serve_tcp])
def test_server_with_a_bad_port(make, port):
    with pytest.raises(LabsockError) as caught:
        make(port=port)
    assert_one_paragraph(caught.value, "port", "65535")


@pytest.mark.parametrize("reply", BAD_REPLIES, ids=repr)
def test_server_with_a_bad_reply(reply):
    with pytest.raises(LabsockError) as caught:
        labsock.UDPServer(port=0, reply=reply)
    assert_one_paragraph(caught.value, "reply")


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_STREAM], ids=["udp", "tcp"])
def test_server_on_a_port_another_program_holds(kind):
    with socket.socket(socket.AF_INET, kind) as other_program:
        other_program.bind(("127.0.0.1", 0))
        port = other_program.getsockname()[1]
        make = labsock.UDPServer if kind == socket.SOCK_DGRAM else labsock.TCPServer
        if kind == socket.SOCK_STREAM:
            other_program.listen()
        with pytest.raises(LabsockError) as caught:
            make(port=port).start()
    assert_one_paragraph(caught.value, str(port), "in use")
    assert not [s for s in labsock.running_servers() if s.port == port]


SENDERS = [labsock.send_udp, labsock.send_tcp]


@pytest.mark.parametrize("host", [*BAD_HOSTS, "0.0.0.0"], ids=repr)
@pytest.mark.parametrize("send", SENDERS, ids=["udp", "tcp"])
def test_send_to_a_bad_host(send, host):
    with pytest.raises(LabsockError) as caught:
        send("hello", host=host, port=12000)
    assert_one_paragraph(caught.value, "address")


@pytest.mark.parametrize("port", BAD_DESTINATION_PORTS, ids=repr)
@pytest.mark.parametrize("send", SENDERS, ids=["udp", "tcp"])
def test_send_to_a_bad_port(send, port):
    with pytest.raises(LabsockError) as caught:
        send("hello", port=port)
    assert_one_paragraph(caught.value, "port")


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
@pytest.mark.parametrize("send", SENDERS, ids=["udp", "tcp"])
def test_send_with_a_bad_timeout(servers, send, timeout):
    with pytest.raises(LabsockError) as caught:
        send("hello", port=servers[0].port, timeout=timeout)
    assert_one_paragraph(caught.value, "timeout")


@pytest.mark.parametrize("message", BAD_MESSAGES, ids=repr)
@pytest.mark.parametrize("send", SENDERS, ids=["udp", "tcp"])
def test_send_a_bad_message(servers, send, message):
    server = servers[0] if send is labsock.send_udp else servers[1]
    with pytest.raises(LabsockError) as caught:
        send(message, port=server.port)
    assert_one_paragraph(caught.value)


@pytest.mark.parametrize("bind_port", [-1, 65536, "x", 2.5, True], ids=repr)
@pytest.mark.parametrize("send", SENDERS, ids=["udp", "tcp"])
def test_send_from_a_bad_bind_port(servers, send, bind_port):
    with pytest.raises(LabsockError) as caught:
        send("hello", port=servers[0].port, bind_port=bind_port)
    assert_one_paragraph(caught.value, "port")


def test_send_from_a_bind_port_in_use(servers):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("0.0.0.0", 0))
        taken = holder.getsockname()[1]
        with pytest.raises(LabsockError) as caught:
            labsock.send_udp("hello", port=servers[0].port, bind_port=taken)
    assert_one_paragraph(caught.value, str(taken))


def test_udp_message_over_the_maximum(servers):
    with pytest.raises(LabsockError) as caught:
        labsock.send_udp("x" * 65_508, port=servers[0].port)
    assert_one_paragraph(caught.value, "65,507", "TCP")


def test_tcp_message_with_a_newline_inside(servers):
    with pytest.raises(LabsockError) as caught:
        labsock.send_tcp("two\nlines", port=servers[1].port)
    assert_one_paragraph(caught.value, "line")


@pytest.mark.parametrize("proto", ["icmp", "", None, 17], ids=repr)
def test_send_with_an_unknown_protocol(servers, proto):
    with pytest.raises(LabsockError) as caught:
        labsock.send(proto, "hello", port=servers[0].port)
    assert_one_paragraph(caught.value, "udp", "tcp")


@pytest.mark.parametrize("send", SENDERS, ids=["udp", "tcp"])
def test_send_where_nothing_listens(send):
    kind = socket.SOCK_DGRAM if send is labsock.send_udp else socket.SOCK_STREAM
    with pytest.raises(LabsockError) as caught:
        send("hello", port=free_port(kind), timeout=1)
    assert_one_paragraph(caught.value, "running")


@pytest.mark.parametrize("result", [42, b"\xff raw bytes", ["a", "list"], None])
def test_reply_function_returning_odd_things(result):
    with labsock.UDPServer(port=0, reply=lambda text: result) as server:
        reply = labsock.send_udp("hi", port=server.port, expect_reply=result is not None)
        if result is None:
            assert reply is None
        elif isinstance(result, bytes):
            assert reply == result.decode("utf-8", "backslashreplace")
        else:
            assert reply == str(result)
        assert server.log.wait_for(1) and server.running


@pytest.mark.parametrize("make", [labsock.UDPServer, labsock.TCPServer])
def test_reply_function_that_raises(make):
    def broken(text):
        return text[100]

    with make(port=0, reply=broken) as server:
        send = labsock.send_udp if server.protocol == "udp" else labsock.send_tcp
        reply = send("short", port=server.port)
        assert "server error" in reply and "IndexError" in reply
        assert "broken" in server.log.messages()[-1].error
        assert server.running
        server.reply = labsock.upper
        assert send("fixed", port=server.port) == "FIXED"


# -- widget values -----------------------------------------------------------------------------


@pytest.fixture
def message_box_for():
    pytest.importorskip("ipywidgets")

    def make(*args, **kwargs):
        return labsock.message_box(*args, **kwargs)

    return make


@pytest.mark.parametrize(
    "settings, typed, words",
    [
        (("udp", "127.0.0.1", "abc"), "hello", ["port"]),
        (("udp", "127.0.0.1", 0), "hello", ["port"]),
        (("udp", "999.0.0.1", 12000), "hello", ["address"]),
        (("udp", "0.0.0.0", 12000), "hello", ["address"]),
        (("icmp", "127.0.0.1", 12000), "hello", ["udp"]),
        (("udp", "127.0.0.1", "UDP"), "x" * 70_000, ["65,507"]),
        (("tcp", "127.0.0.1", "TCP"), "two\nlines", ["line"]),
        (("udp", "127.0.0.1", "UDP"), "a\ud800b", ["character"]),
    ],
    ids=["port-text", "port-0", "bad-ip", "any-ip", "icmp", "too-long", "newline", "surrogate"],
)
def test_message_box_shows_the_problem_and_goes_on(
    message_box_for, servers, settings, typed, words
):
    proto, host, port = settings
    port = {"UDP": servers[0].port, "TCP": servers[1].port}.get(port, port)
    box = message_box_for(proto, host, port, timeout=1)
    box.text.value = typed
    box.button.click()  # what the browser's click does: runs the on_click handler
    message, outcome = box.history[-1]
    assert message == typed
    assert outcome.startswith("error: ")
    assert_one_paragraph(LabsockError(outcome.removeprefix("error: ")), *words)
    assert "color:#b00" in box.status.value  # shown, in red, under the box
    # The same box works once the input is right.
    box.proto, box.host, box.port = "udp", "127.0.0.1", servers[0].port
    box.text.value = "now right"
    box.button.click()
    assert "NOW RIGHT" in box.history[-1][1]


# -- the command line --------------------------------------------------------------------------


def labsock_cli(*args, timeout=20):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "labsock", *args],
        capture_output=True,
        env=env,
        timeout=timeout,
        cwd=REPO,
    )


USAGE_ERRORS = [
    [],
    ["nonsense"],
    ["serve"],
    ["serve", "icmp"],
    ["serve", "udp", "--port", "abc"],
    ["serve", "udp", "--port", "70000"],
    ["serve", "udp", "--port", "-5"],
    ["serve", "tcp", "--count", "0"],
    ["serve", "tcp", "--count", "many"],
    ["serve", "tcp", "--seconds", "-1"],
    ["serve", "udp", "--reply", "shout"],
    ["send", "udp"],
    ["send", "udp", "hi", "--timeout", "0"],
    ["send", "udp", "hi", "--timeout", "soon"],
    ["send", "udp", "hi", "--timeout", "inf"],
    ["send", "udp", "hi", "--bind-port", "x"],
    ["send", "tcp", "hi", "--port", ""],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_command_line_usage_errors(args):
    done = labsock_cli(*args)
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 2, stderr
    assert "usage:" in stderr and "Traceback" not in stderr


def paragraph_errors(servers):
    udp, tcp = servers[0].port, servers[1].port
    return [
        ["serve", "udp", "--host", "999.1.1.1", "--port", "0"],
        ["serve", "udp", "--host", "::1", "--port", "0"],
        ["send", "udp", "hi", "--port", "0"],
        ["send", "udp", "hi", "--host", "0.0.0.0"],
        ["send", "udp", "hi", "--host", "a b"],
        ["send", "tcp", "two\nlines", "--port", str(tcp)],
        ["send", "udp", "x" * 70_000, "--port", str(udp)],
        ["send", "udp", "hi", "--port", str(free_port()), "--timeout", "1"],
        ["send", "tcp", "hi", "--port", str(free_port(socket.SOCK_STREAM)), "--timeout", "1"],
    ]


def test_command_line_errors_are_one_paragraph(servers):
    for args in paragraph_errors(servers):
        done = labsock_cli(*args)
        stderr = done.stderr.decode(errors="replace").strip()
        shown = " ".join(a[:20] for a in args)
        assert done.returncode == 1, f"{shown}: status {done.returncode}: {stderr}"
        assert stderr.startswith("labsock: ") and "\n" not in stderr, f"{shown}: {stderr}"
        assert "Traceback" not in stderr


@pytest.mark.skipif(sys.platform == "win32", reason="Windows passes arguments as Unicode")
def test_command_line_sends_bytes_that_are_not_utf8(servers):
    """A shell can pass any bytes; they go out as typed, and the server shows them readably."""
    udp = servers[0]
    before = udp.log.total
    done = labsock_cli("send", "udp", os.fsdecode(b"caf\xe9"), "--port", str(udp.port))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "CAF\\XE9"
    assert udp.log.wait(before, 2)
    assert udp.log.messages()[-1].data == b"caf\xe9"


def test_command_line_server_shows_odd_datagrams_as_json_lines():
    server = subprocess.Popen(
        [sys.executable, "-m", "labsock", "serve", "udp", "--port", "0", "--count", "3", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        cwd=REPO,
    )
    try:
        listening = json.loads(server.stdout.readline())
        port = listening["port"]
        odd = [b"\xff\xfe not utf-8", b"", b"z" * 65_507]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            for data in odd:
                client.sendto(data, ("127.0.0.1", port))
        out, err = server.communicate(timeout=10)
    finally:
        server.kill()
    events = [json.loads(line) for line in out.decode().splitlines()]
    assert [e["bytes"] for e in events] == [len(d) for d in odd]
    assert events[0]["text"].startswith("\\xff\\xfe not utf-8")
    assert server.returncode == 0 and b"Traceback" not in err
