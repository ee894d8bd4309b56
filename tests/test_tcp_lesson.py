"""TCP through the slicer: every byte arrives in order, in other pieces; framing recovers it."""

import socket
import threading
import time

import pytest

from labsock import TCPServer, send_tcp
from labsock.lessons.tcp_lesson import through_slicer, udp_vs_tcp
from labsock.logic.slicing import ByteSlicer
from labsock.net.tcp_slicer import TCPSlicer


@pytest.mark.fast
def test_byte_slicer_keeps_every_byte_in_order():
    slicer = ByteSlicer(seed=2, max_piece=5, merge_ms=10, gap_ms=1)
    data = bytes(range(200))
    slicer.push(data[:50], 0.0)
    slicer.push(data[50:], 0.005)  # inside the merge window: joins the first push
    assert slicer.due(0.009) == []
    out, now = [], 0.010
    while slicer.waiting:
        out += slicer.due(now)
        now += 0.001
    assert b"".join(out) == data
    assert all(1 <= len(p) <= 5 for p in out)
    assert slicer.counts.pieces_out == len(out) > 200 // 5


@pytest.mark.parametrize("seed", range(5))
def test_framed_receive_works_and_naive_receive_does_not(seed):
    messages = ["hello", "how are you?", "two\nlines", "x" * 40]
    line = through_slicer(messages[:2] + messages[3:], "line", seed=seed)
    assert line.framed_ok and not line.naive_ok
    assert b"".join(line.pieces) == b"".join(m.encode() + b"\n" for m in line.sent)
    length = through_slicer(messages, "length", seed=seed)
    assert length.framed_ok and not length.naive_ok
    # A newline inside a message is where line framing, unlike a length prefix, goes wrong.
    assert not through_slicer(messages, "line", seed=seed).framed_ok


def test_core_client_and_server_work_through_the_slicer():
    with (
        TCPServer(port=0, reply="upper") as server,
        TCPSlicer(0, ("127.0.0.1", server.port), seed=1, max_piece=3) as slicer,
    ):
        assert send_tcp("hello through the slicer", port=slicer.port) == "HELLO THROUGH THE SLICER"
        assert server.log.texts() == ["hello through the slicer"]
        assert slicer.counts().pieces_out > 2 * 2  # both ways, cut in pieces of at most 3


def test_slicer_stops_promptly_with_a_connection_open():
    with TCPServer(port=0, reply="echo") as server:
        slicer = TCPSlicer(0, ("127.0.0.1", server.port)).start()
        client = socket.create_connection(("127.0.0.1", slicer.port), timeout=2)
        client.sendall(b"partial line without end")
        stopping = threading.Thread(target=slicer.stop)
        stopping.start()
        stopping.join(10)  # a stop() stuck on the open connection would still be running
        assert not stopping.is_alive() and not slicer.running
        client.settimeout(2)
        try:  # the slicer closed its side (a reset if it left bytes unread): no hang either way
            assert client.recv(100) == b""
        except ConnectionResetError:
            pass
        client.close()


def test_udp_vs_tcp_side_by_side():
    side = udp_vs_tcp([str(n) for n in range(1, 31)], network="lossy", seed=2, gap=0.001)
    assert side.tcp_received == side.sent
    assert len(side.udp_received) == side.udp_counts["sent"] < 30
    assert set(side.udp_received) <= set(side.sent)
    assert b"".join(side.tcp_pieces).decode().split() == side.sent


def test_slicer_memory_is_bounded_when_the_sender_floods():
    from labsock.net.tcp_slicer import MAX_BACKLOG

    receiver = socket.create_server(("127.0.0.1", 0))
    with TCPSlicer(0, ("127.0.0.1", receiver.getsockname()[1])) as slicer:
        client = socket.create_connection(("127.0.0.1", slicer.port), timeout=2)
        client.setblocking(False)
        block, sent, end = b"x" * 65536, 0, time.monotonic() + 1.0
        while time.monotonic() < end and sent < 8 * MAX_BACKLOG:
            try:
                sent += client.send(block)
            except BlockingIOError:
                time.sleep(0.01)
        assert sent > 2 * MAX_BACKLOG  # the kernel buffers took the rest: the sender was held
        assert slicer.counts().bytes_in <= MAX_BACKLOG + 65536
        client.close()
    receiver.close()


@pytest.mark.fast
def test_link_queue_is_bounded():
    from labsock.logic.impairment import Impairment, Link

    link = Link(Impairment(delay_ms=1000), seed=0, max_waiting=100)
    for i in range(150):
        link.push(b"%d" % i, now=0.0)
    assert link.waiting == 100 and link.counts.dropped == 50
