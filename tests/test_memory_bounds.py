"""Memory bounded by bytes whatever arrives: the relay and the counting view (issue 11.4; the
server log is in test_log.py)."""

import socket

from labsock import UDPServer
from labsock.logic.impairment import EVENT_BYTES, Impairment
from labsock.net.relay import MAX_WAITING_BYTES, UDPRelay

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
