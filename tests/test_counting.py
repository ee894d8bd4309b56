"""The counting client, the Task 3 view and report, and `python -m labsock count`, on loopback.

Every server and client here takes a free port (port=0, bind_port=0), so tests can run while
notebooks use the lab's fixed ports.
"""

import errno
import os
import socket
import subprocess
import sys
import threading
import time
import types

import pytest

import labsock
from labsock.net.counting import CountingClient, running_counters, start_counting, stop_counting
from labsock.show.counting_view import ClientControls, CountingView, counting_report
from tests.ports import free_port


@pytest.fixture
def server():
    with labsock.UDPServer(port=0, reply="none") as s:
        yield s


@pytest.fixture(autouse=True)
def no_counters_left():
    yield
    stop_counting()


def counting(count, lap=100):
    return [str(i % lap + 1) for i in range(count)]


def test_counts_past_the_wrap_then_stops_by_itself(server, labsock_threads):
    client = start_counting(bind_port=0, port=server.port, delay=0, count=130)
    assert client.wait(5)
    assert f"labsock-count-{client.bind_port}" not in labsock_threads()
    assert running_counters() == []  # it left the registry by itself
    assert server.log.wait_for(130, 5)
    assert server.log.texts() == counting(130)
    assert {m.port for m in server.log.messages()} == {client.bind_port}
    assert (client.sent, client.last_sent, client.running) == (130, 30, False)


def test_keeps_to_its_delay(server):
    start = time.monotonic()
    client = start_counting(bind_port=0, port=server.port, delay=0.01, count=31)
    assert client.wait(5)
    # 31 messages are 30 delays apart: the schedule, not the send speed, sets the pace.
    assert time.monotonic() - start >= 0.3
    assert server.log.wait_for(31, 2)


def test_counts_until_stopped_and_stop_frees_the_port(server):
    client = start_counting(bind_port=0, port=server.port, delay=0.001)
    assert server.log.wait_for(150, 5)
    client.stop()
    assert not client.running
    sent = client.sent
    assert server.log.wait_for(sent, 2)
    assert server.log.texts() == counting(sent)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("0.0.0.0", client.bind_port))  # free again once stop() has returned


def test_stop_does_not_wait_for_the_delay(server):
    client = start_counting(bind_port=0, port=server.port, delay=30)
    assert server.log.wait_for(1, 2)
    stopping = threading.Thread(target=client.stop)
    stopping.start()
    stopping.join(10)  # far less than the 30 s delay a stop() that waited would take
    assert not stopping.is_alive() and not client.running


def test_start_after_stop_carries_on_the_count(server):
    client = start_counting(bind_port=0, port=server.port, delay=0, count=60)
    assert client.wait(5)
    client.start()  # another 60, from 61: across the wrap, and nothing looks lost
    assert client.wait(5)
    assert server.log.wait_for(120, 2)
    assert server.log.texts() == counting(120)
    assert (client.sent, client.last_sent) == (120, 20)
    report = counting_report(server)
    assert report.tracker.stats(f"127.0.0.1:{client.bind_port}").clean
    fresh = start_counting(bind_port=0, port=server.port, delay=0, count=2)
    assert fresh.wait(5) and fresh.last_sent == 2  # a new client starts at 1


def test_a_taken_bind_port_is_a_clear_error(server):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("0.0.0.0", 0))
        taken = holder.getsockname()[1]
        with pytest.raises(labsock.LabsockError, match=f"Local port {taken} is already in use"):
            CountingClient(bind_port=taken, port=server.port).start()


def test_rerunning_on_the_same_bind_port_stops_the_old_client(server):
    port = free_port()
    old = start_counting(bind_port=port, port=server.port, delay=0.001)
    assert server.log.wait_for(5, 2)
    new = start_counting(bind_port=port, port=server.port, delay=0.001)
    assert not old.running and new.running
    assert new.replaced and "earlier run" in repr(new)
    assert running_counters() == [new]
    stop_counting()
    assert not new.running and running_counters() == []


def test_nothing_listening_is_reported_and_counting_goes_on():
    port = free_port()  # a port where nothing listens
    client = start_counting(bind_port=0, port=port, delay=0.002)
    assert client.wait_refused(2)
    assert client.running
    assert "Nothing listens on 127.0.0.1:" in client.error
    client.stop()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"delay": -1}, "delay=-1"),
        ({"delay": "fast"}, "delay='fast'"),
        ({"count": 0}, "count=0"),
        ({"count": 2.5}, "count=2.5"),
        ({"bind_port": 70000}, "70000 is not a valid bind port"),
        ({"port": 0}, "0 is not a valid port"),
        ({"host": "0.0.0.0"}, "cannot send to it"),
    ],
)
@pytest.mark.fast
def test_bad_settings_are_explained(options, words):
    with pytest.raises(labsock.LabsockError, match=words.replace(".", r"\.")):
        CountingClient(**options)


def test_two_clients_are_told_apart_by_port(server):
    c1 = start_counting(bind_port=0, port=server.port, delay=0.001, count=120, name="c1")
    c2 = start_counting(bind_port=0, port=server.port, delay=0.001, count=110, name="c2")
    assert c1.wait(5) and c2.wait(5)
    assert server.log.wait_for(230, 5)
    names = {c1.bind_port: "c1", c2.bind_port: "c2"}
    report = counting_report(server, names)
    by_port = sorted([(c1.bind_port, "c1", 120, 20), (c2.bind_port, "c2", 110, 10)])
    lines = report.conclusion([c1.bind_port, c2.bind_port]).splitlines()
    assert (
        lines[0]
        == f"ports seen: {by_port[0][0]} ({by_port[0][1]}), {by_port[1][0]} ({by_port[1][1]})"
    )
    for i, (_, name, count, last) in enumerate(by_port):
        assert lines[1 + 2 * i] == f"{name}: {count} numbers: 1..100, 1..{last}"
        assert lines[2 + 2 * i].strip() == "in order from 1, 1 wrap, nothing missing, no duplicates"
    text = str(report.table(rates=False))
    assert f"c1 (127.0.0.1:{c1.bind_port})       120    20        0" in text
    labels = {line.get_label() for line in _lines(report)}
    assert labels == {f"{c.name} (127.0.0.1:{c.bind_port})" for c in (c1, c2)}


def _lines(report):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = report.plot()
    plt.close(ax.figure)
    return ax.get_lines()


@pytest.mark.fast
def test_report_conclusion_flags_trouble():
    log = labsock.MessageLog()
    for text in ["1", "2", "4", "4", "3", "hello"]:
        log.append(1.0, ("127.0.0.1", 11000), text.encode())
    lines = counting_report(log, {11000: "c1"}).conclusion([11000, 13000]).splitlines()
    assert lines == [
        "ports seen: 11000 (c1)",
        "port 13000: NOTHING RECEIVED",
        "c1: 5 numbers: 1, 2, 4, 4, 3",
        "    NOT in order from 1, 0 wraps, nothing missing, 1 DUPLICATES, 1 NOT NUMBERS",
    ]


def test_view_counts_every_message_without_widgets(server):
    view = CountingView(server, {11000: "c1"}, rows=5, widget=False)
    client = start_counting(bind_port=0, port=server.port, delay=0, count=301)
    assert client.wait(5) and server.log.wait_for(301, 5)
    view.update()
    stats = view.tracker.stats(f"127.0.0.1:{client.bind_port}")
    assert (stats.received, stats.missing, stats.wraps, stats.last) == (301, 0, 3, 1)
    assert [m.text for m in view.recent] == ["97", "98", "99", "100", "1"]
    assert view.skipped == 0
    text = view.text()
    assert text.startswith("301 message(s) received")
    assert text.rstrip().endswith(f"127.0.0.1:{client.bind_port}: 1")


@pytest.mark.fast
def test_view_reports_what_the_log_bound_dropped():
    log = labsock.MessageLog(maxlen=10)
    view = CountingView(log, widget=False)
    for i in range(25):
        log.append(float(i), ("127.0.0.1", 11000), str(i + 1).encode())
    view.update()
    assert view.skipped == 15
    assert view.tracker.stats("127.0.0.1:11000").received == 10
    assert "15 came too fast to count" in view.html()


def test_live_view_redraws_at_a_bounded_rate(server, labsock_threads):
    pytest.importorskip("ipywidgets")
    view = CountingView(server, max_rate=10)
    client = start_counting(bind_port=0, port=server.port, delay=0.0005, count=2000)
    start = time.monotonic()
    assert client.wait(10) and server.log.wait_for(2000, 5)
    elapsed = time.monotonic() - start
    server.stop()  # closes the log: the view draws once more and its thread ends
    assert view.wait(2)  # the view ends by itself when the server stops
    assert "labsock-counting-view" not in labsock_threads()
    assert 1 <= view.redraws <= 10 * elapsed + 3
    assert "2000 message(s) received" in view.live.picture.value
    bundle = view._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"] == "<counting view: run this cell in JupyterLab to see it live>"


def test_start_stop_controls(server):
    pytest.importorskip("ipywidgets")
    client = CountingClient(bind_port=0, port=server.port, delay=0.001, name="c1")
    controls = ClientControls(client)
    assert controls.start_button.description == "Start c1"
    assert "running" in controls.start()
    assert server.log.wait_for(3, 2)
    controls.stop_button.click()  # what a click does, without a browser
    assert not client.running
    assert "stopped" in controls.status.value


def test_start_control_shows_a_taken_port():
    pytest.importorskip("ipywidgets")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("0.0.0.0", 0))
        client = CountingClient(bind_port=holder.getsockname()[1], port=12000)
        controls = ClientControls(client)
        controls.start_button.click()
        assert "already in use" in controls.status.value
        assert not client.running


def _cli(*args, timeout=20):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    return subprocess.run(
        [sys.executable, "-m", "labsock", "count", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_cli_counts(server):
    out = _cli("--port", str(server.port), "--bind-port", "0", "--count", "105", "--delay", "0")
    assert out.returncode == 0, out.stderr
    assert "Sent 105 message(s), the last was 5." in out.stdout
    assert server.log.wait_for(105, 5)
    assert server.log.texts() == counting(105)


def test_cli_taken_bind_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("0.0.0.0", 0))
        taken = holder.getsockname()[1]
        out = _cli("--bind-port", str(taken), "--count", "1")
    assert out.returncode == 1
    assert out.stderr.startswith(f"labsock: Local port {taken} is already in use")
    assert "Traceback" not in out.stderr


def test_cli_needs_a_bind_port():
    out = _cli("--count", "1")
    assert out.returncode == 2 and "--bind-port" in out.stderr


def test_wait_returns_at_once_for_a_client_without_a_count(server):
    client = start_counting(bind_port=0, port=server.port, delay=0.05)
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(client.wait(60)))
    waiting.start()
    waiting.join(10)  # a wait() that waited for its 60 s timeout would still be running
    assert answers == [False]
    client.stop()
    assert client.wait() is True


@pytest.mark.fast
def test_view_table_shows_the_first_clients_and_sums_up_the_rest():
    log = labsock.MessageLog()
    view = CountingView(log, {11000: "c1"}, max_clients=2, widget=False)
    for port in (11000, 11001, 11002, 11003):
        for number in (1, 2, 4):  # 3 lost
            log.append(1.0, ("127.0.0.1", port), str(number).encode())
    view.update()
    lines = str(view.table(now=2.0)).splitlines()
    assert len(lines) == 4 and lines[1].startswith("c1 (127.0.0.1:11000)")
    assert lines[3] == (
        "2 more clients not shown. All 4: 12 received, 4 missing, 0 duplicates, 0 out of order."
    )
    assert "2 more clients not shown" in view.html()


class _NoBufferSpaceOnce:
    """A socket whose second send fails as macOS does when its buffer is full."""

    def __init__(self, sock):
        self.sock, self.sends = sock, 0

    def send(self, data):
        self.sends += 1
        if self.sends == 2:
            raise OSError(errno.ENOBUFS, "No buffer space available")
        return self.sock.send(data)

    def __getattr__(self, name):
        return getattr(self.sock, name)


def test_no_buffer_space_is_a_pause_not_a_failure(server, monkeypatch):
    from labsock.net import counting as counting_client_module

    # The counting client's own socket module, with sockets that fail as macOS's do.
    macos_like = types.SimpleNamespace(**vars(socket))
    made = []

    def macos_socket(*args):
        made.append(_NoBufferSpaceOnce(socket.socket(*args)))
        return made[-1]

    macos_like.socket = macos_socket
    monkeypatch.setattr(counting_client_module, "socket", macos_like)
    client = CountingClient(bind_port=0, port=server.port, delay=0, count=5).start()
    assert client.wait(5)
    assert [s.sends for s in made] == [6]  # five numbers, one of them twice
    assert client.error is None
    assert server.log.wait_for(5, 2)
    assert server.log.texts() == counting(5)  # the number that failed was sent again


@pytest.mark.fast
def test_report_lists_arrivals_in_order_with_names():
    log = labsock.MessageLog()
    for i, (port, text) in enumerate([(11000, "1"), (13000, "1"), (11000, "2"), (13000, "2")]):
        log.append(100.0 + i * 0.25, ("127.0.0.1", port), text.encode())
    report = counting_report(log, {11000: "c1", 13000: "c2"})
    assert report.arrivals(3).splitlines() == [
        "   0.000 s  c1 (127.0.0.1:11000): 1",
        "   0.250 s  c2 (127.0.0.1:13000): 1",
        "   0.500 s  c1 (127.0.0.1:11000): 2",
    ]
    assert report.arrivals(start=-1) == "   0.750 s  c2 (127.0.0.1:13000): 2"
    assert counting_report(labsock.MessageLog()).arrivals() == "no messages"


def test_wait_sent_and_wait_replies_are_woken_by_the_client(server):
    echo = labsock.UDPServer(port=0, reply="echo").start()
    try:
        client = start_counting(bind_port=0, port=echo.port, delay=0.001)
        assert client.wait_sent(50) and client.sent >= 50
        assert client.wait_replies(20) and client.replies >= 20
        client.stop()
    finally:
        echo.stop()


def test_waiting_for_more_than_a_client_will_send_ends_when_it_stops(server):
    client = start_counting(bind_port=0, port=server.port, delay=0, count=5)
    result = []
    waiting = threading.Thread(target=lambda: result.append(client.wait_sent(100, timeout=60)))
    waiting.start()
    waiting.join(10)  # far less than its 60 s timeout: the client's end woke it
    assert not waiting.is_alive() and result == [False] and client.sent == 5
