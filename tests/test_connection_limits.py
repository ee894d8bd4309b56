"""Idle or half-finished TCP connections never keep a working client out, and a client that is
turned away is told the real reason (issue 11.3)."""

import socket
import threading

from labsock import TCPServer, send_tcp
from labsock.net.tcp_slicer import TCPSlicer


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_idle_connections_at_the_cap_do_not_lock_a_client_out():
    with TCPServer(port=0, max_connections=10) as server:
        idle = [connect(server.port) for _ in range(10)]
        try:
            assert send_tcp("x", port=server.port) == "X"
            assert send_tcp("still", port=server.port) == "STILL"
            # The oldest idle connection made room, and was told why before it was closed.
            notice = read_all(idle[0]).decode()
            assert notice.startswith("[server error: closed to make room for a new client")
            assert "sent no complete message" in notice
            assert any("closed to make room" in e for e in server.log.errors())
        finally:
            for sock in idle:
                sock.close()


def test_slowloris_half_lines_do_not_lock_a_client_out():
    with TCPServer(port=0, max_connections=20, framing="line") as server:
        slow = [connect(server.port) for _ in range(30)]  # more than the cap, as an attack
        try:
            for sock in slow:
                sock.sendall(b"GET / HTTP/1.1")  # and never the end of the line
            for _ in range(3):
                assert send_tcp("working", port=server.port, framing="line") == "WORKING"
        finally:
            for sock in slow:
                sock.close()


def test_a_connection_that_keeps_working_is_not_the_one_closed():
    with TCPServer(port=0, max_connections=3) as server:
        worker, *idle = [connect(server.port) for _ in range(3)]
        try:
            worker.sendall(b"busy\n")
            assert worker.recv(100) == b"BUSY\n"  # the oldest, but it completed a message
            assert send_tcp("newcomer", port=server.port) == "NEWCOMER"
            worker.sendall(b"still here\n")
            assert worker.recv(100) == b"STILL HERE\n"
            assert read_all(idle[0]).startswith(b"[server error: closed to make room")
        finally:
            for sock in (worker, *idle):
                sock.close()


def test_when_every_connection_waits_for_a_reply_a_newcomer_is_told_why():
    release = threading.Event()
    started = threading.Semaphore(0)

    def blocks(text):
        started.release()
        release.wait(30)
        return text

    with TCPServer(port=0, reply=blocks, max_connections=2) as server:
        busy = [connect(server.port) for _ in range(2)]
        try:
            for sock in busy:
                sock.sendall(b"hold on\n")
            assert started.acquire(timeout=10) and started.acquire(timeout=10)
            answer = send_tcp("me too", port=server.port, timeout=5)
            assert answer.startswith("[server error: refused: all 2 connections are waiting")
        finally:
            release.set()
            for sock in busy:
                sock.close()


def test_idle_connections_do_not_lock_the_slicer():
    with (
        TCPServer(port=0) as server,
        TCPSlicer(0, ("127.0.0.1", server.port), max_connections=3) as slicer,
    ):
        idle = [connect(slicer.port) for _ in range(3)]
        try:
            assert send_tcp("through", port=slicer.port, framing="line") == "THROUGH"
            assert any("closed to make room" in p for p in slicer.problems)
        finally:
            for sock in idle:
                sock.close()
