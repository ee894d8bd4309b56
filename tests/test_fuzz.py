"""Random datagrams and random TCP byte streams against the servers (hypothesis).

What must hold whatever arrives: the server keeps running and answering, every datagram and
every complete line is in the log, byte for byte and in order, and each gets the reply it should
(or, when that reply cannot be sent, an error in the log). Oversize, empty, invalid UTF-8, half
lines left open, connections reset or simply dropped.
"""

from __future__ import annotations

import socket
import struct
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labsock
from labsock.net.log import DISCONNECTED, ERROR, MESSAGE
from labsock.net.sockets import UDP_MAX_PAYLOAD

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def upper_reply(data: bytes) -> bytes:
    """What reply='upper' must send back for these bytes (the server's text is backslashreplace)."""
    return data.decode("utf-8", "backslashreplace").upper().encode()


@pytest.fixture
def udp_server():
    with labsock.UDPServer(port=0, reply="upper", log_size=1_000_000) as server:
        yield server


@pytest.fixture
def tcp_server():
    # Newline framing only: these streams pause anywhere, and a pause must not end a message.
    with labsock.TCPServer(port=0, reply="upper", log_size=1_000_000, framing="line") as server:
        yield server


def still_answers(server) -> None:
    assert server.running
    send = labsock.send_udp if server.protocol == "udp" else labsock.send_tcp
    assert send("still there?", port=server.port) == "STILL THERE?"


# -- UDP ----------------------------------------------------------------------------------------

datagram = st.one_of(
    st.binary(max_size=1500),  # anything, invalid UTF-8 included
    st.just(b""),
    st.text(max_size=300).map(lambda text: text.encode("utf-8")),  # valid text, any script
    # The largest a datagram can be, in valid and invalid UTF-8 (whose reply is then too long).
    st.integers(UDP_MAX_PAYLOAD - 3, UDP_MAX_PAYLOAD).map(lambda n: b"x" * n),
    st.integers(UDP_MAX_PAYLOAD - 3, UDP_MAX_PAYLOAD).map(lambda n: b"\xff" * n),
)


@FUZZ
@given(datagrams=st.lists(datagram, min_size=1, max_size=8))
def test_udp_server_logs_and_answers_random_datagrams(udp_server, datagrams):
    log = udp_server.log
    before = log.total
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(2)
        client.bind(("127.0.0.1", 0))
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        for data in datagrams:
            client.sendto(data, ("127.0.0.1", udp_server.port))
        expected_replies = [upper_reply(d) for d in datagrams]
        replies = [client.recv(65535) for _ in datagrams]
        me = f"127.0.0.1:{client.getsockname()[1]}"
    # A reply too long for a datagram is replaced by a notice saying so (silence would read as
    # "no server"), and logged as an error.
    sendable = [r for r in expected_replies if len(r) <= UDP_MAX_PAYLOAD]
    too_long = len(datagrams) - len(sendable)
    # Each message, and each "not sent" error, is one entry.
    entries, _ = log.since(before)
    while len(entries) < len(datagrams) + too_long:
        assert log.wait(before + len(entries), timeout=5), "entries missing from the log"
        entries, _ = log.since(before)
    messages = [m for m in entries if m.kind == MESSAGE]
    assert [m.data for m in messages] == datagrams
    assert {m.client for m in messages} == {me}
    for reply, expected in zip(replies, expected_replies, strict=True):
        if len(expected) <= UDP_MAX_PAYLOAD:
            assert reply == expected
        else:
            notice = (
                f"[server error: the reply is {len(expected):,} bytes, more than one UDP "
                "datagram can carry (65,507): not sent]"
            )
            assert reply == notice.encode()
    errors = [m for m in entries if m.kind == ERROR]
    assert len(errors) == too_long
    assert all("more than one UDP datagram can carry" in m.error for m in errors)
    still_answers(udp_server)


def test_udp_oversize_datagram_is_refused_by_the_client_not_the_server(udp_server):
    with pytest.raises(labsock.LabsockError, match="65,507"):
        labsock.send_udp("x" * (UDP_MAX_PAYLOAD + 1), port=udp_server.port)
    still_answers(udp_server)


# -- TCP ----------------------------------------------------------------------------------------


def expected_lines(stream: bytes, closed: bool) -> list[bytes]:
    """The messages a newline-framed server must log for this stream (written independently of
    labsock.logic.framing): complete lines lose their \\n and one \\r before it; at the end of the
    stream an unfinished last line counts too, unless it is empty."""
    *complete, rest = stream.split(b"\n")
    lines = [line[:-1] if line.endswith(b"\r") else line for line in complete]
    if closed:
        rest = rest[:-1] if rest.endswith(b"\r") else rest
        if rest:
            lines.append(rest)
    return lines


def cut(stream: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(stream), *(p % (len(stream) + 1) for p in points)})
    return [stream[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def reset(sock: socket.socket) -> None:
    """Close abruptly: linger 0 sends a RST instead of a FIN."""
    linger = struct.pack("HH" if sys.platform == "win32" else "ii", 1, 0)  # on, 0 seconds
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    sock.close()


def close_cleanly(sock: socket.socket) -> bytes:
    """End the stream, then read every reply until the server closes its side.

    Reading first matters: closing with replies unread makes the system send a RST, and a RST
    lets the server's system discard bytes not yet read (that case is the "reset" plan).
    """
    sock.shutdown(socket.SHUT_WR)
    replies = b""
    while chunk := sock.recv(65536):
        replies += chunk
    sock.close()
    return replies


def upper_lines(lines: list[bytes]) -> bytes:
    return b"".join(upper_reply(line) + b"\n" for line in lines)


line_text = st.binary(max_size=200).map(lambda b: b.replace(b"\n", b""))
stream = st.one_of(
    st.binary(max_size=2000),  # raw bytes: newlines wherever they fall
    st.lists(line_text, max_size=12).map(lambda lines: b"\n".join(lines)),
    st.lists(line_text, max_size=12).map(lambda lines: b"\r\n".join(lines) + b"\r\n"),
)
client_plan = st.tuples(
    stream,
    st.lists(st.integers(min_value=0), max_size=6),  # where the stream is cut into writes
    st.sampled_from(["close", "reset", "left open"]),
)


@FUZZ
@given(plans=st.lists(client_plan, min_size=1, max_size=4), order=st.randoms())
def test_tcp_server_logs_every_line_of_random_streams(tcp_server, plans, order):
    log = tcp_server.log
    before = log.total
    clients, chunks = [], []
    for data, points, _ in plans:
        clients.append(socket.create_connection(("127.0.0.1", tcp_server.port), timeout=5))
        chunks.append(cut(data, points))
    # Interleave the clients' writes, each client's own writes staying in order.
    turns = [index for index, mine in enumerate(chunks) for _ in mine]
    order.shuffle(turns)
    for index in turns:
        clients[index].sendall(chunks[index].pop(0))
    names = [f"127.0.0.1:{sock.getsockname()[1]}" for sock in clients]

    # Left open: the complete lines must be logged while the connection stays open.
    for name, (data, _, how) in zip(names, plans, strict=True):
        if how == "left open":
            wanted = expected_lines(data, closed=False)
            assert wait_for_client(log, before, name, len(wanted)) == wanted
    still_answers(tcp_server)

    for sock, name, (data, _, how) in zip(clients, names, plans, strict=True):
        if how == "reset":
            reset(sock)
            logged = wait_for_client(log, before, name, 0, until_gone=True)
            assert_torn_prefix(logged, data)
        else:
            # A clean end ends the last line too: it counts as a message.
            replies = close_cleanly(sock)
            wanted = expected_lines(data, closed=True)
            assert wait_for_client(log, before, name, len(wanted), until_gone=True) == wanted
            assert replies == upper_lines(wanted)
    still_answers(tcp_server)


def assert_torn_prefix(logged: list[bytes], data: bytes) -> None:
    """After a reset, bytes the server's system had not handed over yet may be gone (that is
    TCP), but what the server logged is the stream's lines in order, and at most the last one is
    torn: a beginning of the line that was cut."""
    complete = expected_lines(data, closed=False)
    whole = [line for line, sent in zip(logged, complete, strict=False) if line == sent]
    assert whole == complete[: len(whole)]
    extra = logged[len(whole) :]
    assert len(extra) <= 1, f"more than one line after a reset: {logged!r} for {data!r}"
    if extra:
        remaining = b"\n".join(data.split(b"\n")[len(whole) :])
        assert extra[0] and remaining.startswith(extra[0]), (logged, data)


def wait_for_client(log, before, name, count, *, until_gone=False, timeout=3.0):
    """The messages logged for one client after `before`, once there are count of them (and,
    with until_gone, once its connection has ended)."""
    seen = before
    while True:
        entries, _ = log.since(before)
        mine = [m for m in entries if m.client == name]
        lines = [m.data for m in mine if m.kind == MESSAGE]
        gone = any(m.kind in (DISCONNECTED, ERROR) for m in mine)
        if len(lines) >= count and (gone or not until_gone):
            return lines
        seen = before + len(entries)
        if not log.wait(seen, timeout):
            return lines


def test_tcp_line_too_long_drops_only_that_client(tcp_server):
    """A client that never sends a newline is cut off past the limit; its earlier lines stay."""
    limit = tcp_server.max_line
    before = tcp_server.log.total
    with socket.create_connection(("127.0.0.1", tcp_server.port), timeout=5) as sock:
        name = f"127.0.0.1:{sock.getsockname()[1]}"
        other = socket.create_connection(("127.0.0.1", tcp_server.port), timeout=5)
        other.sendall(b"half a line")
        sock.sendall(b"first\n" + b"y" * (limit + 10))
        answer = b""
        while not answer.endswith(b"closing the connection]\n"):
            chunk = sock.recv(4096)
            assert chunk, f"connection closed before the explanation; got {answer!r}"
            answer += chunk
        assert answer.startswith(b"FIRST\n")
        assert sock.recv(4096) == b""  # the server closed it
    lines = wait_for_client(tcp_server.log, before, name, 1, until_gone=True)
    assert lines == [b"first"]
    other.sendall(b", finished\n")
    assert other.recv(100) == b"HALF A LINE, FINISHED\n"
    other.close()
    still_answers(tcp_server)
