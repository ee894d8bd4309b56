"""The TCP server's quick path (the lab's own server: a whole ASCII line answered in capitals)
answers and logs exactly as the long way does, whatever the reads bring, and is the path taken
for the usual read.

The reads are scripted (a stand-in socket), so each case meets the server in exactly the pieces
written here: over real TCP, pieces merge and split as the system likes."""

from __future__ import annotations

import socket
import time

import pytest

from labsock import TCPServer
from labsock.logic.framing import LineSplitter
from labsock.net.tcp_server import _Connection


class ScriptedSocket:
    """recv() hands out the scripted reads in turn; send() keeps what was sent, taking at most
    `takes` bytes a call when given (a full send buffer), or raising BlockingIOError at 0."""

    def __init__(self, reads: list[bytes], takes: list[int] | None = None):
        self.reads = list(reads)
        self.takes = list(takes or [])
        self.sent = bytearray()
        self._stand_in, self._other_end = socket.socketpair()

    def recv(self, _size: int) -> bytes:
        return self.reads.pop(0)

    def send(self, data) -> int:
        take = self.takes.pop(0) if self.takes else len(data)
        if take == 0:
            raise BlockingIOError
        self.sent += bytes(data[:take])
        return min(take, len(data))

    def fileno(self) -> int:
        return self._stand_in.fileno()  # a real descriptor, for the server's poller

    def close(self) -> None:
        self._stand_in.close()
        self._other_end.close()


def run_reads(reads, quick: bool, framing: str = "line", takes=None, max_line=64):
    """Feed the reads to a server's reader; (what it sent, its log, the connection, its server)."""
    server = TCPServer(port=0, framing=framing, max_line=max_line)
    server._open()
    try:
        server._workers = None
        server._quick = quick
        taken_long_way = []
        long_way = server._take

        def take(conn, data, when):
            taken_long_way.append(data)
            long_way(conn, data, when)

        server._take = take
        sock = ScriptedSocket(reads, takes)
        conn = _Connection(sock, ("127.0.0.1", 5555), LineSplitter(max_line), time.time())
        conn.quick = quick and framing == "line"
        server._handlers[conn.fd] = conn
        server._open_connections[sock] = conn
        read = server._quick_reader() if quick else server._read
        for _ in reads:
            if conn.open:
                read(conn)
        while conn.outbox and conn.open:  # the loop's flush once the client reads again
            sock.takes = []
            server._flush(conn)
        logged = [(e.data, e.reply, e.error) for e in server.log.messages()]
        return bytes(sock.sent), logged, taken_long_way
    finally:
        server._close()


CASES = {
    "one line": [b"hello world\n"],
    "capitals, digits, signs": [b"Hello, World 123 !?\n", b"already UPPER\n"],
    "an empty line": [b"\n", b"after it\n"],
    "crlf": [b"from netcat on windows\r\n", b"next\n"],
    "a lone carriage return in a line": [b"a\rb\n"],
    "not ascii": ["h\u00e9llo w\u00f6rld\n".encode(), b"plain\n"],
    "bytes that are not utf-8": [b"\xff\xfe half\n"],
    "two lines in one read": [b"one\ntwo\n", b"three\n"],
    "a half line, then its end": [b"hal", b"f\n", b"whole\n"],
    "a half line left at the end": [b"whole\n", b"half"],
    "a line and a half": [b"one\ntw", b"o\n"],
    "a line of max_line bytes": [b"x" * 64 + b"\n", b"next\n"],
    "a line too long": [b"y" * 65 + b"\n", b"never read\n"],
    "the client closes": [b"bye\n", b""],
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_quick_path_answers_and_logs_as_the_long_way(name):
    reads = CASES[name]
    assert run_reads(reads, quick=True)[:2] == run_reads(reads, quick=False)[:2]


@pytest.mark.parametrize("takes", [[5], [0], [0, 0, 3]])
def test_a_reply_the_system_takes_in_part_keeps_its_order(takes):
    """The send buffer is full: the rest of the reply waits, and later replies go behind it."""
    reads = [b"first line\n", b"second\n", b"third\n"]
    sent, logged, _ = run_reads(reads, quick=True, takes=takes)
    assert sent == b"FIRST LINE\nSECOND\nTHIRD\n"
    assert [data for data, _, _ in logged] == [b"first line", b"second", b"third"]
    assert (sent, logged) == run_reads(reads, quick=False, takes=takes)[:2]


def test_the_usual_read_takes_the_quick_path():
    _, _, long_way = run_reads([b"hello\n", b"Hello There 42\n", b"\n"], quick=True)
    assert long_way == []


def test_the_unusual_reads_go_the_long_way():
    reads = [b"crlf\r\n", "\u00e9\n".encode(), b"one\ntwo\n", b"half", b" line\n"]
    _, _, long_way = run_reads(reads, quick=True)
    assert long_way == reads


def test_framing_auto_takes_the_quick_path_once_the_client_sent_a_newline():
    reads = [b"first\n", b"second\n", b"third\n"]
    sent, _, long_way = run_reads(reads, quick=True, framing="auto")
    assert sent == b"FIRST\nSECOND\nTHIRD\n"
    assert long_way == [b"first\n"]


def test_a_server_with_the_students_reply_function_has_no_quick_path():
    with TCPServer(port=0, reply=lambda text: text[::-1]) as server:
        from labsock import send_tcp

        assert send_tcp("abc", port=server.port) == "cba"
        assert server._quick is False
