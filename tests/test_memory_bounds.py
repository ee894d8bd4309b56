"""Memory bounded by bytes whatever arrives: the relay and the counting view (issue 11.4; the
server log is in test_log.py)."""

import socket

from labsock import MessageLog, UDPServer
from labsock.logic.impairment import EVENT_BYTES, Impairment
from labsock.logic.sequence import MAX_SENDERS, SequenceTracker
from labsock.net.relay import MAX_WAITING_BYTES, UDPRelay
from labsock.show.counting_view import CountingView

BIG = b"x" * 60_000


def test_the_relay_holds_at_most_its_byte_budget_and_gives_it_back_at_stop():
    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target.bind(("127.0.0.1", 0))
    # A minute of delay: everything that is not dropped waits in the relay.
    relay = UDPRelay(0, target.getsockname(), network=Impairment(delay_ms=60_000)).start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        sent = 0
        while sent < 800:  # 48 MB, in steps the relay takes in before the next
            for _ in range(40):
                client.sendto(BIG, ("127.0.0.1", relay.port))
            sent += 40
            relay.wait_received(sent)
            assert relay.held_bytes <= MAX_WAITING_BYTES
        port = client.getsockname()[1]
    counts = relay.counts()
    assert counts.received > MAX_WAITING_BYTES // len(BIG)  # the budget was really reached
    assert counts.dropped == counts.received - relay.held_bytes // len(BIG) > 0
    assert all(len(e.data) <= EVENT_BYTES for e in relay.events(port))
    relay.stop()
    assert relay.held_bytes == 0 and relay.counts().received == counts.received
    target.close()


def test_a_tracker_keeps_at_most_max_senders_and_the_totals_of_the_rest():
    tracker = SequenceTracker()
    for n in range(50_000):
        tracker.feed(f"10.0.{n // 256}.{n % 256}:5000", 1)
        tracker.feed("c1", n % 100 + 1)  # heard all along: never the one to go
    assert len(tracker) == MAX_SENDERS and "c1" in tracker
    totals = tracker.totals()
    assert totals["senders"] == 50_001 and totals["received"] == 100_000
    assert tracker.retired["senders"] == 50_001 - MAX_SENDERS
    assert tracker.stats("c1").received == 50_000 and tracker.stats("c1").clean


def test_the_counting_view_says_when_senders_are_kept_as_totals_only():
    log = MessageLog(maxlen=100_000)
    view = CountingView(log, widget=False)
    for n in range(MAX_SENDERS + 10):
        log.append(1.0, ("10.0.0.1", 1000 + n), b"1")
    view.update()
    text = view.text()
    assert f"All {MAX_SENDERS + 10:,}:" in text
    assert "The 10 heard from least recently are kept as these totals only." in text


def test_a_server_log_of_big_datagrams_stays_within_its_byte_budget():
    from labsock.net.log import MAX_BYTES

    with (
        UDPServer(port=0, reply="echo") as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c,
    ):
        c.settimeout(5)
        for _ in range(700):  # 42 MB, and as much again in replies
            c.sendto(BIG, ("127.0.0.1", server.port))
            c.recv(65536)
        kept = server.log.messages()
        assert sum(len(m.data) + len(m.reply) for m in kept) <= MAX_BYTES
        assert server.log.message_count == 700 and server.log.dropped > 0
        assert f"({server.log.dropped} oldest entries no longer kept)" in server.log.tail_text()
