"""A student's reply function, whatever it does or returns, never stops a server, never holds up
the other clients, and never keeps stop() from freeing the port (issue 11.1 and 11.2)."""

import socket
import threading

import pytest

from labsock import TCPServer, UDPServer, send_tcp, send_udp
from labsock.net.reply_workers import ReplyWorkers

SERVERS = {"udp": (UDPServer, send_udp), "tcp": (TCPServer, send_tcp)}


class Unprintable:
    def __str__(self):
        raise ValueError("no text for you")


def lone_surrogate(text):
    return "\ud800"


def unprintable(text):
    return Unprintable()


def exits(text):
    raise SystemExit(3)


def interrupts(text):
    raise KeyboardInterrupt


def broken_exception(text):
    class Broken(Exception):
        def __str__(self):
            raise RuntimeError("worse")

    raise Broken()


@pytest.mark.parametrize("proto", SERVERS)
@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (lone_surrogate, "lone_surrogate returned a str that cannot be sent as text"),
        (unprintable, "unprintable returned a Unprintable that cannot be sent as text"),
        (exits, "exits raised SystemExit: 3"),
        (interrupts, "interrupts raised KeyboardInterrupt"),
        (broken_exception, "broken_exception raised Broken: (its message could not be shown)"),
    ],
)
def test_whatever_a_reply_function_does_the_server_answers_and_goes_on(proto, reply, words):
    kind, send = SERVERS[proto]
    with kind(port=0, reply=reply) as server:
        answer = send("hello", port=server.port)
        assert answer.startswith("[server error: ") and words in answer
        assert server.running
        assert words in server.log.errors()[0] and server.log.texts() == ["hello"]
        server.reply = str.upper  # the student fixes the function: the same server goes on
        assert send("again", port=server.port) == "AGAIN"


@pytest.mark.parametrize("proto", SERVERS)
def test_a_slow_reply_holds_up_only_its_own_message(proto):
    kind, send = SERVERS[proto]
    started, release = threading.Event(), threading.Event()

    def slow_for_one(text):
        if text == "slow":
            started.set()
            release.wait(30)
        return text.upper()

    with kind(port=0, reply=slow_for_one) as server:
        slow = threading.Thread(target=lambda: send("slow", port=server.port, timeout=30))
        slow.start()
        try:
            assert started.wait(10)
            # Another client is answered while the slow reply is still blocked.
            assert send("quick", port=server.port, timeout=5) == "QUICK"
            assert not release.is_set()
        finally:
            release.set()
            slow.join(30)
        assert server.log.wait_for(2) and sorted(server.log.texts()) == ["quick", "slow"]


def test_replies_on_one_tcp_connection_keep_their_order_behind_a_slow_one():
    release = threading.Event()

    def slow_first(text):
        if text == "first":
            release.wait(30)
        return text.upper()

    with (
        TCPServer(port=0, reply=slow_first) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock,
    ):
        sock.sendall(b"first\nsecond\n")
        assert send_tcp("other", port=server.port, timeout=5) == "OTHER"  # another connection
        release.set()
        replies = b""
        while replies.count(b"\n") < 2:
            replies += sock.recv(100)
        assert replies == b"FIRST\nSECOND\n"


@pytest.mark.parametrize("proto", SERVERS)
def test_stop_frees_the_port_while_a_reply_is_blocked(proto):
    kind, send = SERVERS[proto]
    started, release = threading.Event(), threading.Event()

    def blocks(text):
        started.set()
        release.wait(60)
        return text

    server = kind(port=0, reply=blocks).start()
    port = server.port
    client = threading.Thread(target=lambda: _ignore_errors(send, "stuck", port))
    client.start()
    try:
        assert started.wait(10)
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        stopping.join(10)  # far less than the reply's 60 s: stop() did not wait for it
        assert not stopping.is_alive() and not server.running
        kinds = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}
        with socket.socket(socket.AF_INET, kinds[proto]) as again:
            if proto == "tcp":
                again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))  # the port is free: stop() kept its promise
        (message,) = server.log.messages()  # nothing received is lost
        assert message.text == "stuck" and "not answered" in message.error
        with kind(port=port) as rerun:  # a re-run starts at once
            assert rerun.running
    finally:
        release.set()
        client.join(10)


def _ignore_errors(send, text, port):
    try:
        send(text, port=port, timeout=5)
    except Exception:
        pass


def test_waiting_replies_are_bounded_and_stop_finishes_them_as_not_answered():
    release = threading.Event()
    finished = []

    def answer(data):
        release.wait(30)
        return data

    workers = ReplyWorkers(
        answer,
        lambda job, data, result: finished.append((job, result)),
        name="labsock-test",
        max_threads=2,
        max_waiting_bytes=1000,
    )
    accepted = [workers.submit(n, b"x" * 100) for n in range(10)]
    assert accepted.count(True) < 10  # past 1,000 bytes waiting: "busy", not queued for ever
    workers.stop()
    release.set()
    assert sorted(job for job, result in finished if result is None) == [
        n for n, ok in enumerate(accepted) if ok
    ]
