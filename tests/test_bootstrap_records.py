"""What the bootstrap records of each datagram, watched in this process (no program started):
the bytes as they were sent, cut to KEPT_BYTES, with their real size."""

import json
import socket
import threading

import pytest

from labsock.logic import wire
from labsock.net.programs import bootstrap

KEPT = wire.KEPT_BYTES


@pytest.fixture
def watched():
    ours, notebook = socket.socketpair()
    notebook.settimeout(5)
    reporter = bootstrap.Reporter(ours)
    reporter.waited = True  # past the first wait, as a serving program is
    kind, _raw = bootstrap.watched_socket_class(reporter)
    yield kind, reporter, notebook
    # lost first: the reporter's reader then takes the end of the connection calmly (otherwise
    # it ends the process, as it does when a notebook goes away).
    reporter.lost = True
    reporter._urgent.set()  # the report thread sees it now, not at its next 50 ms
    notebook.close()
    for thread in reporter.threads:  # this process goes on: no labsock thread may stay behind
        thread.join(10)
    assert not any(thread.is_alive() for thread in reporter.threads)


def records(reporter, notebook, count: int) -> list[tuple]:
    reporter.flush()
    reader, found = wire.FrameReader(), []
    while len(found) < count:
        for kind, value in reader.feed(notebook.recv(1 << 20)):
            if kind == "batch":
                found += value
    return found


def test_a_datagram_is_recorded_as_sent_whatever_its_buffer_becomes(watched):
    kind, reporter, notebook = watched
    receiver, sender = (
        kind(socket.AF_INET, socket.SOCK_DGRAM),
        kind(socket.AF_INET, socket.SOCK_DGRAM),
    )
    with receiver, sender:
        receiver.bind(("127.0.0.1", 0))
        address = receiver.getsockname()
        buffer = bytearray(b"first")
        sender.sendto(buffer, address)
        buffer[:] = b"XXXXX"  # the program reuses its buffer: the record keeps what went
        long = bytes(range(256)) * (KEPT // 256 + 1)
        sender.sendto(long, address)
        sender.sendto(memoryview(b"a view"), address)
        sender.sendto(b"short", 0, address)
        got = [receiver.recvfrom(65536)[0] for _ in range(4)]
    assert got == [b"first", long, b"a view", b"short"]
    seen = records(reporter, notebook, 8)
    sent = [(r[4], r[5]) for r in seen if r[0] == wire.SENT]
    received = [(r[4], r[5]) for r in seen if r[0] == wire.RECEIVED]
    expected = [(b"first", 5), (long[:KEPT], len(long)), (b"a view", 6), (b"short", 5)]
    assert sent == expected
    assert received == expected


def questions(notebook, reader, count: int) -> list[dict]:
    """The next `count` questions the program asked the notebook (port busy notes)."""
    found = []
    while len(found) < count:
        for kind, value in reader.feed(notebook.recv(1 << 20)):
            if kind == "note" and value.get("event") == "port busy":
                found.append(value)
    return found


def answer(notebook, question: dict, retry) -> None:
    reply = {"retry": retry, "asked": question.get("asked")}
    notebook.sendall(json.dumps(reply).encode() + b"\n")


def test_two_threads_asking_at_once_each_get_their_own_answer(watched):
    """A threaded server's two threads can meet taken ports at once: the notebook's answers,
    whatever their order, go each to the thread that asked."""
    _, reporter, notebook = watched
    got = {}

    def ask(port):
        got[port] = reporter.ask("port busy", 30, proto="tcp", host="", port=port)

    threads = [threading.Thread(target=ask, args=(port,)) for port in (21001, 21002)]
    for thread in threads:
        thread.start()
    asked = questions(notebook, wire.FrameReader(), 2)
    for question in reversed(asked):  # the second asker's answer comes first
        answer(notebook, question, retry=question["port"])
    for thread in threads:
        thread.join(30)
    assert {port: reply["retry"] for port, reply in got.items()} == {21001: 21001, 21002: 21002}


def test_an_answer_that_comes_after_its_asker_gave_up_answers_no_other_question(watched):
    _, reporter, notebook = watched
    reader = wire.FrameReader()
    assert reporter.ask("port busy", 0.05, proto="tcp", host="", port=21003) is None
    (late,) = questions(notebook, reader, 1)
    got = []
    thread = threading.Thread(
        target=lambda: got.append(reporter.ask("port busy", 30, proto="tcp", host="", port=21004))
    )
    thread.start()
    (current,) = questions(notebook, reader, 1)
    answer(notebook, late, retry="the late one")  # arrives while the second question waits
    answer(notebook, current, retry="its own")
    thread.join(30)
    assert got == [{"retry": "its own", "asked": current.get("asked")}]
