"""Clients that send one message and return the reply, with a timeout on every receive."""

from __future__ import annotations

import errno
import socket
import sys
import time

from labsock.logic.errors import LabsockError, explain, is_refusal
from labsock.logic.validation import validate_size, validate_timeout
from labsock.net.log import readable
from labsock.net.sockets import UDP_MAX_PAYLOAD, bind_port_of, destination, tcp_tune


class Reply(str):
    """The reply text, which also knows how long the round trip took and who answered."""

    rtt_ms: float
    server: str

    def __new__(cls, text: str, rtt_ms: float, server: str):
        reply = super().__new__(cls, text)
        reply.rtt_ms = rtt_ms
        reply.server = server
        return reply


def as_bytes(message) -> bytes:
    if isinstance(message, bytes):
        return message
    if isinstance(message, str):
        try:
            # surrogateescape: a command-line argument that was not UTF-8 goes out as the bytes
            # that were typed.
            return message.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise LabsockError(
                f"The message has a character that cannot be sent as UTF-8 text "
                f"({message[exc.start]!r} at position {exc.start}, half of a surrogate pair). "
                "Retype or remove that character."
            ) from None
    raise LabsockError(
        f"The message must be text (a str), not {type(message).__name__}. To send a number, "
        "turn it into text first: str(37)."
    )


def _client_socket(kind, bind_port, timeout) -> socket.socket:
    """A client socket, bound to bind_port when one is given, every wait at most timeout."""
    timeout = validate_timeout(timeout)
    bind_port = bind_port_of(bind_port)
    sock = socket.socket(socket.AF_INET, kind)
    sock.settimeout(timeout)
    if bind_port is not None:
        if kind == socket.SOCK_STREAM and sys.platform != "win32":
            # A TCP client port stays in TIME_WAIT after use; this lets the next run bind it again.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", bind_port))
        except OSError as exc:
            sock.close()
            proto = "tcp" if kind == socket.SOCK_STREAM else "udp"
            error = explain(exc, action="bind", proto=proto, host="0.0.0.0", port=bind_port)
            if error.failure == "EADDRINUSE":
                from labsock.net.port_holders import closing_said  # only on this failure

                error = closing_said(proto, bind_port, error, "choose another bind port")
            raise error from None
    return sock


def send_udp(
    message,
    host: str = "127.0.0.1",
    port: int = 12000,
    *,
    timeout: float = 2.0,
    bind_port: int | None = None,
    expect_reply: bool = True,
) -> Reply | None:
    """Send one UDP datagram and return the reply (None when expect_reply is False).

    bind_port: send from this local port (the server sees it as the client's port).
    """
    host, port = destination(host, port, "udp")
    data = as_bytes(message)
    validate_size(data, UDP_MAX_PAYLOAD, "udp")
    with _client_socket(socket.SOCK_DGRAM, bind_port, timeout) as sock:
        action = "send"
        try:
            # Connected, so that "nothing listens there" comes back as an error instead of silence.
            sock.connect((host, port))
            start = time.perf_counter()
            sock.send(data)
            if not expect_reply:
                return None
            action = "receive"
            reply, server = sock.recvfrom(65535)
        except OSError as exc:
            if is_refusal(exc):  # a reset included: Windows' way of saying the port is closed
                exc = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
            raise explain(exc, action=action, proto="udp", host=host, port=port) from None
        rtt = (time.perf_counter() - start) * 1000
    return Reply(readable(reply), rtt, f"{server[0]}:{server[1]}")


# A reply longer than this is refused rather than buffered without end.
MAX_REPLY = 1024 * 1024


def send_tcp(
    message,  # one line: the newline at its end is added here
    host: str = "127.0.0.1",
    port: int = 12000,
    *,
    timeout: float = 2.0,
    bind_port: int | None = None,  # a fixed local port: then the server closes first
    expect_reply: bool = True,
    framing: str = "auto",
    pause: float | None = None,
) -> Reply | None:
    """Connect, send one message, return the reply (None when expect_reply is False).

    framing: "auto" (the default) and "line" send the message as one line (a newline after it);
    the reply ends at a newline or when the server closes the connection, and with "auto" also
    when it pauses for `pause` seconds without one (a textbook TCPServer answers with one send()
    and no newline; pause None: labsock.logic.framing.PAUSE, 0.1 s). "length" sends a 4-byte
    length and then the message, and reads a reply framed the same way.
    """
    host, port = destination(host, port, "tcp")
    data = as_bytes(message)
    # The framing module loads with the first TCP message, not with `import labsock`.
    from labsock.logic.framing import (
        PAUSE,
        FrameTooLarge,
        LineTooLong,
        frame_length_prefixed,
        frame_line,
        validate_framing,
        validate_pause,
    )

    framing = validate_framing(framing)
    pause = validate_pause(PAUSE if pause is None else pause)
    if framing != "length" and b"\n" in data.rstrip(b"\n"):
        raise LabsockError(
            "A labsock TCP message is one line, and this one has a newline inside, so the server "
            "would see two messages. Send the lines one at a time, or use framing='length'."
        )
    if framing == "length":
        validate_size(data, MAX_REPLY, "tcp")
    timeout = validate_timeout(timeout)  # the reply's reader waits with it too
    with _client_socket(socket.SOCK_STREAM, bind_port, timeout) as sock:
        action = "connect"
        try:
            sock.connect((host, port))
            tcp_tune(sock)
            action = "send"
            start = time.perf_counter()
            sock.sendall(
                frame_length_prefixed(data, MAX_REPLY) if framing == "length" else frame_line(data)
            )
            if not expect_reply:
                return None
            action = "receive"
            reply = _read_reply(sock, framing, pause, timeout)
            rtt = (time.perf_counter() - start) * 1000
            if bind_port is not None:
                _let_server_close_first(sock, min(timeout, 1.0))
        except (LineTooLong, FrameTooLarge):
            raise LabsockError(
                f"The reply from {host}:{port} (TCP) is longer than {MAX_REPLY:,} bytes without "
                "its end: labsock's client stops reading there. Is the server really sending "
                f"{'length-prefixed messages' if framing == 'length' else 'one reply per line'}?"
            ) from None
        except OSError as exc:
            raise explain(exc, action=action, proto="tcp", host=host, port=port) from None
    if reply is None:
        raise LabsockError(
            f"The server at {host}:{port} (TCP) closed the connection without replying. Is it a "
            "labsock server with a reply (not reply='none')? A server of your own must send its "
            "reply before it closes the connection."
        )
    return Reply(readable(reply), rtt, f"{host}:{port}")


def _read_reply(sock: socket.socket, framing: str, pause: float, timeout: float) -> bytes | None:
    """One reply: a line, a length-prefixed message, or (framing "auto") what came before the
    server paused or closed; None when it closed without sending anything."""
    from labsock.logic.framing import LengthSplitter, LineSplitter

    splitter = LengthSplitter(MAX_REPLY) if framing == "length" else LineSplitter(MAX_REPLY)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return None if framing == "length" else splitter.finish()
        complete = splitter.feed(chunk)
        if complete:
            return complete[0]
        if framing == "auto":
            # Part of a reply without its newline: a pause of `pause` seconds ends it.
            sock.settimeout(pause)
            try:
                while chunk := sock.recv(65536):
                    complete = splitter.feed(chunk)
                    if complete:
                        return complete[0]
                return splitter.finish()
            except TimeoutError:
                return splitter.finish()
            finally:
                sock.settimeout(timeout)


def _let_server_close_first(sock: socket.socket, wait: float) -> None:
    """Whoever closes a TCP connection first keeps its ports in TIME_WAIT for up to a minute, and
    meanwhile the same client port cannot connect to the same server again. With a fixed bind
    port, say goodbye (half-close) and let the server close first."""
    sock.shutdown(socket.SHUT_WR)
    sock.settimeout(wait)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        pass  # a server that keeps the connection open: close anyway


def check_proto(proto) -> str:
    """'udp' or 'tcp', however it was typed ("UDP", " tcp "); anything else is explained."""
    key = proto.strip().lower() if isinstance(proto, str) else None
    if key not in ("udp", "tcp"):
        raise LabsockError(
            f"{proto!r} is not a protocol here: use 'udp' or 'tcp' (in quotes: it is text)."
        )
    return key


def send(proto: str, message, host: str = "127.0.0.1", port: int = 12000, **options):
    """send_udp or send_tcp, chosen by name ('udp' or 'tcp')."""
    sender = send_udp if check_proto(proto) == "udp" else send_tcp
    return sender(message, host, port, **options)
