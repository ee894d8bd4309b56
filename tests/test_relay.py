"""The relay over real sockets: a receiver's sequence tracker must agree EXACTLY with what the
relay says it did (its ground truth), for every client and direction we can check."""

import socket
import threading
import time

import pytest

from labsock import UDPServer, send_udp
from labsock.logic.errors import LabsockError
from labsock.logic.impairment import Impairment
from labsock.logic.sequence import SequenceTracker, parse_number
from labsock.net.relay import UDPRelay
from labsock.show.flow import relay_flow


def send_numbers(port, count, bind=None, gap=0.0):
    """Send 1..100, 1..100, ... from one socket; returns the socket's port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", bind or 0))
    for i in range(count):
        sock.sendto(str(i % 100 + 1).encode(), ("127.0.0.1", port))
        if gap:
            time.sleep(gap)
    return sock


def tracked(messages):
    tracker = SequenceTracker()
    for m in messages:
        tracker.feed(m.port, parse_number(m.text))
    return tracker


def figures(stats):
    return {k: getattr(stats, k) for k in ("received", "missing", "duplicates", "out_of_order")}


@pytest.mark.parametrize(
    "network",
    [
        Impairment(loss=0.1, duplicate=0.05, reorder=0.05),
        # Jitter larger than the gap between datagrams reorders them on its own.
        Impairment(loss=0.05, delay_ms=4, jitter_ms=4, duplicate=0.02),
    ],
)
def test_tracker_matches_relay_ground_truth_exactly(network):
    with (
        UDPServer(port=0, reply="none") as server,
        UDPRelay(0, ("127.0.0.1", server.port), network=network, seed=11) as relay,
    ):
        clients = [send_numbers(relay.port, 230, gap=0.0005) for _ in range(2)]
        assert relay.wait_idle(10, received=460)
        expected = relay.counts("forward").sent
        assert server.log.wait_for(expected, timeout=5)
        tracker = tracked(server.log.messages())
        ports = relay.upstream_ports()
        for sock in clients:
            client_port = sock.getsockname()[1]
            view = relay.receiver_view(client_port)
            stats = tracker.stats(ports[client_port])
            assert figures(stats) == {k: view[k] for k in figures(stats)}
            truth = relay.ground_truth(client_port)
            assert truth.received == 230
            assert view["missing"] + view["dropped_unseen"] == truth.dropped > 0
        assert len(tracker) == 2
        assert sum(relay.ground_truth(s.getsockname()[1]).reordered for s in clients) > 0
        for sock in clients:
            sock.close()


def test_replies_are_impaired_on_the_way_back():
    backward = Impairment(loss=0.1, duplicate=0.05, reorder=0.05)
    with (
        UDPServer(port=0, reply="echo") as server,
        UDPRelay(0, ("127.0.0.1", server.port), backward=backward, seed=5) as relay,
    ):
        sock = send_numbers(relay.port, 200, gap=0.0005)
        assert relay.wait_idle(10, received=200, replies=200)  # the server echoes every one
        sock.settimeout(0.5)
        replies = []
        while len(replies) < relay.counts("backward").sent:
            replies.append(int(sock.recv(100)))
        tracker = SequenceTracker()
        for n in replies:
            tracker.feed("me", n)
        view = relay.receiver_view(sock.getsockname()[1], "backward")
        assert relay.counts("forward").dropped == 0
        assert figures(tracker.stats("me")) == {k: view[k] for k in figures(tracker.stats("me"))}
        sock.close()


def test_same_seed_same_decisions_over_sockets():
    def run():
        with (
            UDPServer(port=0, reply="none") as server,
            UDPRelay(0, ("127.0.0.1", server.port), network="crowded wifi", seed=3) as relay,
        ):
            sock = send_numbers(relay.port, 150)
            assert relay.wait_idle(10, received=150)
            port = sock.getsockname()[1]
            sock.close()
            # Seeds derive from the client's port, so compare the decision sequence itself.
            return [e.action for e in relay.events(port)], port

    a, port_a = run()
    b, port_b = run()
    if port_a == port_b:
        assert a == b
    assert a.count("dropped") > 0


def test_delay_is_applied():
    with (
        UDPServer(port=0, reply="echo") as server,
        UDPRelay(0, ("127.0.0.1", server.port), network=Impairment(delay_ms=30), seed=1) as relay,
    ):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(2)
        start = time.perf_counter()
        sock.sendto(b"hi", ("127.0.0.1", relay.port))
        assert sock.recv(100) == b"hi"
        assert time.perf_counter() - start >= 0.060  # 30 ms each way
        sock.close()


def test_stop_drops_what_is_still_delayed_frees_the_port_and_rerun_replaces():
    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target.bind(("127.0.0.1", 0))
    # a minute of delay: if stop() waited for the delay heap, the join below would give up
    relay = UDPRelay(0, target.getsockname(), network=Impairment(delay_ms=60_000)).start()
    port = relay.port
    send_numbers(port, 5).close()
    assert relay.wait_received(5)
    assert relay.counts().received == 5 and relay.counts().sent == 0  # all held back
    stopping = threading.Thread(target=relay.stop)
    stopping.start()
    stopping.join(10)
    assert not stopping.is_alive() and not relay.running
    target.setblocking(False)
    with pytest.raises(BlockingIOError):
        target.recv(100)  # nothing was flushed out at stop
    target.close()
    again = UDPRelay(port, ("127.0.0.1", 9)).start()  # the port is free again
    third = UDPRelay(port, ("127.0.0.1", 9)).start()  # a re-run cell: the old one gives way
    assert not again.running and third.running
    third.stop()


@pytest.mark.fast
def test_bad_target_is_explained():
    with pytest.raises(LabsockError, match="HOST:PORT"):
        UDPRelay(0, "localhost")


def test_relay_command_json_first_line_and_it_relays():
    import json
    import subprocess
    import sys

    with UDPServer(port=0, reply="upper") as server:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "labsock",
                "relay",
                "udp",
                "--listen",
                "0",
                "--to",
                f"127.0.0.1:{server.port}",
                "--delay-ms",
                "5",
                "--seed",
                "1",
                "--json",
                "--seconds",
                "20",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            first = json.loads(proc.stdout.readline())
            assert first["event"] == "listening" and first["port"] > 0
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(2)
            sock.sendto(b"hello", ("127.0.0.1", first["port"]))
            assert sock.recv(100) == b"HELLO"
            sock.close()
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=10)
        last = json.loads(out.strip().splitlines()[-1])
        assert last["event"] == "stopped" and last["forward"]["sent"] == 1


def test_counting_clients_through_the_relay_match_ground_truth():
    from labsock.lessons.ground_truth import compare_with_relay
    from labsock.net.counting import CountingClient

    network = Impairment(loss=0.08, duplicate=0.04, reorder=0.05)
    with (
        UDPServer(port=0, reply="none") as server,
        UDPRelay(0, ("127.0.0.1", server.port), network=network, seed=1) as relay,
    ):
        clients = [
            CountingClient(0, port=relay.port, delay=0.002, count=180).start() for _ in range(2)
        ]
        assert all(c.wait(20) for c in clients)
        assert relay.wait_idle(10, received=360)
        assert server.log.wait_for(relay.counts().sent, timeout=5)
        names = {c.bind_port: f"c{i}" for i, c in enumerate(clients, 1)}
        comparison = compare_with_relay(server, relay, names)
        assert [c.name for c in comparison.clients] == ["c1", "c2"]
        assert comparison.all_match, repr(comparison)
        assert sum(c.relay["missing"] + c.relay["dropped_unseen"] for c in comparison.clients) > 0
        assert "all match exactly" in repr(comparison)
        # A table for students: the figure's name in words, not the code's key
        assert "out of order" in repr(comparison) and "out_of_order" not in repr(comparison)
        # A flow diagram from the same records: lost arrows are exactly the drops it shows.
        port = clients[0].bind_port
        flow = relay_flow(relay, port, server, first=100)
        dropped = sum(1 for e in relay.events(port)[:100] if e.action == "dropped")
        assert flow.lost == dropped
        assert len(flow.arrows) == 100 + sum(len(e.sent_at) > 1 for e in relay.events(port)[:100])


def test_a_mismatch_is_reported():
    from labsock.lessons.ground_truth import compare_with_relay

    with (
        UDPServer(port=0, reply="none") as server,
        UDPRelay(0, ("127.0.0.1", server.port), network=Impairment(loss=0.3), seed=2) as relay,
    ):
        sock = send_numbers(relay.port, 60)
        assert relay.wait_idle(10, received=60)
        assert server.log.wait_for(relay.counts().sent, timeout=5)
        port = sock.getsockname()[1]
        honest = compare_with_relay(server, relay, {port: "me"})
        assert honest.all_match
        server.log.append(time.time(), ("127.0.0.1", relay.upstream_ports()[port]), b"1")
        tampered = compare_with_relay(server, relay, {port: "me"})
        assert not tampered.all_match and "MISMATCH" in repr(tampered)
        sock.close()


def test_a_relay_shows_its_counts_as_html_running_and_stopped():
    from labsock.show.as_html import relay_html

    with UDPServer(port=0) as server:
        relay = UDPRelay(0, ("127.0.0.1", server.port)).start()
        assert (
            "<pre>" in relay_html(relay) and "forward" not in relay_html(relay).split("</pre>")[1]
        )
        send_udp("<b>1</b>", port=relay.port)
        assert relay.wait_idle(5, received=1, replies=1)
        running = relay_html(relay)
        relay.stop()
        stopped = relay_html(relay)  # after stop() the counts stay readable
    for page in (running, stopped):
        assert page.count("<pre>") == 2 and "forward" in page and "&lt;UDPRelay" in page


class _CountedWakes:
    """The relay's wake-up socket, counting what stop() sends on it."""

    def __init__(self, sock):
        self.sock, self.sent = sock, 0
        self.insisted = threading.Event()

    def send(self, data):
        self.sent += 1
        if self.sent >= 2:
            self.insisted.set()
        return self.sock.send(data)

    def close(self):
        self.sock.close()


class _SlowTurn:
    """The relay's progress signal, whose first turn after stop() began is held back until stop
    wakes the loop again or closes the relay: a turn that takes long, as on a loaded machine."""

    def __init__(self, progress, relay, held_back):
        self.progress, self.relay, self.held_back = progress, relay, held_back
        self.loop_alive_at_close: list[bool] = []

    def changed(self):
        if self.relay._stopping.is_set() and not self.held_back.is_set():
            self.held_back.set()
            self.relay._wake_w.insisted.wait(30)
        self.progress.changed()

    def __getattr__(self, name):
        return getattr(self.progress, name)


def test_stop_waits_for_a_slow_loop_so_running_follows_it():
    """running is the loop thread's: stop() returns once that has ended, and only then are the
    relay's sockets closed. It used to give up after 5 s, close the sockets under the live loop
    and say it was stopped. Judged by what was alive when the sockets were closed."""
    server = UDPServer(port=0).start()
    relay = UDPRelay(listen_port=0, to=("127.0.0.1", server.port)).start()
    loop = relay._thread
    held_back = threading.Event()
    relay._wake_w = wakes = _CountedWakes(relay._wake_w)
    relay._progress = _SlowTurn(relay._progress, relay, held_back)
    close = relay._close
    alive_at_close = []

    def closing():
        alive_at_close.append(loop.is_alive())
        wakes.insisted.set()  # the old stop gave up: let the loop go on
        close()

    relay._close = closing
    try:
        relay.stop()
        assert held_back.is_set()  # the slow turn did happen
        assert alive_at_close == [False]  # closed once the loop had ended, not under it
        assert not relay.running and not loop.is_alive()
    finally:
        wakes.insisted.set()
        relay.stop()
        server.stop()
