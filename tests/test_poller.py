"""The poller students on macOS and Windows run: selectors, not epoll (net/poller.py picks at
import). Here epoll is taken away and the module loaded again, and the TCP server's own tests
run on what is left."""

from __future__ import annotations

import importlib
import select
import socket
import threading

import pytest

from labsock import TCPServer
from labsock.net import poller
from tests import test_tcp_server


@pytest.fixture
def without_epoll(monkeypatch):
    monkeypatch.delattr(select, "epoll", raising=False)
    importlib.reload(poller)
    yield
    monkeypatch.undo()
    importlib.reload(poller)  # the next test gets the system's own poller back


def test_the_fallback_is_the_one_loaded(without_epoll):
    made = poller.Poller()
    assert hasattr(made, "_selector"), "the epoll poller was loaded"
    made.close()


@pytest.mark.parametrize(
    "test",
    [
        test_tcp_server.test_same_output_as_udp,
        test_tcp_server.test_two_lines_in_one_write_are_two_messages,
        test_tcp_server.test_half_line_waits_for_its_end,
        test_tcp_server.test_end_of_stream_ends_the_last_line,
        test_tcp_server.test_slow_client_does_not_block_another,
        test_tcp_server.test_many_connections_at_once,
        test_tcp_server.test_line_too_long_closes_that_connection_only,
        test_tcp_server.test_abrupt_disconnect_keeps_what_arrived,
        test_tcp_server.test_connection_events_in_the_log,
    ],
    ids=lambda test: test.__name__.removeprefix("test_"),
)
def test_the_tcp_server_on_selectors(without_epoll, test):
    test()


def test_replies_to_a_client_that_reads_late_wait_until_writable(without_epoll):
    """Replies pile up while the client is still sending: the server must wait for its socket to
    be writable (WRITE), not only readable, or the rest of the replies never go out."""
    line, lines = b"a" * 999 + b"\n", 20_000  # 20 MB each way: more than any socket buffer
    server = TCPServer(port=0, reply="echo")
    server.max_outbox = 2 * len(line) * lines  # a late reader, not one that never reads
    with server.start():
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
            half_sent = threading.Event()

            def send_all():
                for sent in range(lines):
                    sock.sendall(line)
                    if sent == lines // 2:
                        half_sent.set()  # by now replies wait in the server's outbox

            sender = threading.Thread(target=send_all)
            sender.start()
            assert half_sent.wait(20)
            received = 0
            while received < len(line) * lines:
                chunk = sock.recv(1 << 20)
                assert chunk, "the server closed before every reply"
                received += len(chunk)
            sender.join()
    assert received == len(line) * lines
