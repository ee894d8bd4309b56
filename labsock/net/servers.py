"""UDP and TCP servers that run in a background thread, inside a Jupyter kernel or a terminal.

Life cycle (labsock.net.lifecycle): build, start(), stop(), or use `with`.
start() returns once the port is bound (so a client in the next cell finds it); stop() returns once
the thread has ended and the port is free again.

Three things make them safe to use from a notebook:
- the threads never print: every message goes into server.log, and views read the log;
- starting a server where labsock already holds the port (an earlier run of the cell) stops the
  old one first, so re-running a cell never gives "Address already in use";
- stop() wakes the thread at once (no polling timeout), because a socket closed from another
  thread does not wake a thread blocked on it.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time

from labsock.logic.framing import MAX_LINE, LineSplitter, LineTooLong
from labsock.logic.replies import as_reply_bytes, describe_failure, none, reply_function
from labsock.net.lifecycle import ANY, LifeCycle, running
from labsock.net.log import CONNECTED, DISCONNECTED, ERROR, MESSAGE, MessageLog, readable
from labsock.net.sockets import (
    UDP_MAX_PAYLOAD,
    server_address,
    tcp_listener,
    tcp_tune,
    udp_socket,
)


def running_servers() -> list[Server]:
    """The servers labsock runs in this process."""
    return running(Server)


class Server(LifeCycle):
    """What UDP and TCP servers share: address checks, the log, the thread, the registry."""

    protocol = "?"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 12000,
        reply="upper",
        *,
        names: dict | None = None,
        log_size: int = 10_000,
    ):
        self.host, self.port = server_address(host, port)
        self._requested_port = self.port
        self.reply = reply_function(reply)
        self.log = MessageLog(log_size, names)
        self.names = self.log.names
        self.replaced: str | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- life cycle (see labsock.net.lifecycle) ---------------------------------------------------

    @property
    def what(self) -> str:
        return f"the {self.protocol.upper()} server"

    def claims(self) -> set[tuple]:
        port = self.port if self.running else self._requested_port
        return {(self.protocol, self.host, port)} if port else set()

    def _begin(self) -> None:
        self.port = self._requested_port
        self._open()
        self.log.closed = False
        self._stopping = False
        self._thread = threading.Thread(
            target=self._serve_then_close,
            name=f"labsock-{self.protocol}-{self.port}",
            daemon=True,  # a forgotten server must not keep a terminal or kernel from exiting
        )
        self._thread.start()

    def _end(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wake()
        thread.join(0.5)
        if thread.is_alive():  # the wake-up was lost (a full receive buffer, say): insist
            self._force_wake()
            thread.join(2.0)
        self._thread = None
        self.log.close()

    def _serve_then_close(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # a bug must show in the log, not vanish with the thread
            self.log.add_event(time.time(), ("-", 0), ERROR, f"server stopped: {exc!r}")
        finally:
            self._close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    # -- replies --------------------------------------------------------------------------------

    def _answer(self, data: bytes) -> tuple[bytes | None, str | None, str | None]:
        """(reply bytes, reply text for the log, error text) for one message."""
        try:
            out = self.reply(data.decode("utf-8", "backslashreplace"))
        except Exception as exc:
            error = describe_failure(self.reply, exc)
            # The client hears about it too, or it would only see a puzzling timeout.
            return f"[server error: {error}]".encode(), None, error
        if out.__class__ is str:  # the usual case, kept short: this runs for every message
            return out.encode(), out, None
        out = as_reply_bytes(out)
        return out, (None if out is None else readable(out)), None

    # -- showing --------------------------------------------------------------------------------

    def view(self, rows: int = 20):
        """A live view of the log, redrawn about ten times a second at most."""
        from labsock.show.views import log_view

        return log_view(self, rows=rows)

    def describe(self) -> str:
        state = "running" if self.running else "stopped"
        reply = getattr(self.reply, "__name__", "custom")
        text = (
            f"{self.protocol.upper()} server on {self.host}:{self.port}, reply: {reply}, "
            f"{state}, {self.log.message_count} message(s) received"
        )
        if self.replaced and self.running:
            text += f" ({self.replaced})"
        return text

    def __repr__(self) -> str:
        return f"<{self.describe()}>"

    # -- what each protocol fills in ------------------------------------------------------------

    def _open(self) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        raise NotImplementedError

    def _force_wake(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class UDPServer(Server):
    """A UDP server: each datagram is one message; the reply goes back to its sender."""

    protocol = "udp"

    def _open(self) -> None:
        self._sock = udp_socket(self.host, self.port, role="server")
        self.port = self._sock.getsockname()[1]
        self.receive_buffer = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)

    def _serve(self) -> None:
        # A blocking recvfrom, woken by a datagram at stop(): as fast as a plain loop, and no
        # polling. Locals, and log entries written inline (MessageLog.writer), keep the work per
        # datagram close to the textbook loop's.
        recvfrom = self._sock.recvfrom
        sendto = self._sock.sendto
        log = self.log
        numbers, push = log.writer()
        now = time.time
        answer = self._answer
        silent = self.reply is none
        size = UDP_MAX_PAYLOAD + 1
        while True:
            try:
                data, client = recvfrom(size)
            except ConnectionResetError:
                # Windows reports here that an earlier reply hit a closed port; not our problem.
                if self._stopping:
                    return
                continue
            except OSError:
                if self._stopping:
                    return  # woken by shutdown()
                raise
            if self._stopping:
                return
            when = now()
            if silent:
                number = next(numbers)
                push((number, when, client, data, None, None, MESSAGE))
            else:
                out, reply_text, error = answer(data)
                # Logged before replying: once a client has its reply, the message is in the log.
                number = next(numbers)
                push((number, when, client, data, reply_text, error, MESSAGE))
            if number >= log.wake_at:
                log.wake()
            if silent or out is None:
                continue
            try:
                sendto(out, client)
            except OSError as exc:
                log.add_event(now(), client, ERROR, f"reply not sent: {exc}")

    def _wake(self) -> None:
        target = "127.0.0.1" if self.host == ANY else self.host
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as poke:
            try:
                poke.sendto(b"", (target, self.port))
            except OSError:
                self._force_wake()

    def _force_wake(self) -> None:
        # shutdown wakes a blocked recvfrom too (on Linux it then raises ENOTCONN: caught above).
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _close(self) -> None:
        self._sock.close()


class _Connection:
    __slots__ = ("sock", "client", "lines", "outbox")

    def __init__(self, sock, client, max_line):
        self.sock = sock
        self.client = client
        self.lines = LineSplitter(max_line)
        self.outbox = bytearray()


class TCPServer(Server):
    """A TCP server: one connection per client, all served by one selectors loop.

    Messages are lines: each ends with a newline, so two lines in one write are two messages and a
    half line waits for its end. Each reply goes back as one line, in one send.
    """

    protocol = "tcp"
    # Windows' select() takes at most 512 sockets; the listener and the wake-up socket are two.
    max_connections = 500
    max_outbox = 1_000_000  # replies a client does not read pile up here; past this it is cut off

    def __init__(self, *args, max_line: int = MAX_LINE, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_line = max_line
        self.connections = 0

    def _open(self) -> None:
        self._listener = tcp_listener(self.host, self.port)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._selector.register(self._wake_read, selectors.EVENT_READ, "wake")
        self._open_connections: dict[socket.socket, _Connection] = {}

    def _serve(self) -> None:
        select = self._selector.select
        while not self._stopping:
            for key, events in select():
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    return
                else:
                    if events & selectors.EVENT_READ:
                        self._read(key.data)
                    if events & selectors.EVENT_WRITE and key.data.sock.fileno() != -1:
                        self._flush(key.data)

    def _accept(self) -> None:
        while True:
            try:
                sock, client = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: keep serving the others
                self.log.add_event(time.time(), ("-", 0), ERROR, f"accept failed: {exc}")
                return
            if len(self._open_connections) >= self.max_connections:
                sock.close()
                self.log.add_event(time.time(), client, ERROR, "too many connections: refused")
                continue
            sock.setblocking(False)
            tcp_tune(sock)
            conn = _Connection(sock, client, self.max_line)
            self._open_connections[sock] = conn
            self.connections += 1
            self._selector.register(sock, selectors.EVENT_READ, conn)
            self.log.add_event(time.time(), client, CONNECTED)

    def _read(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = None  # reset by the client: what arrived before still counts
        when = time.time()
        if not data:
            last = conn.lines.finish()
            if last is not None and data is not None:  # a clean end ends the last line too
                self._handle(conn, when, last)
                self._flush(conn)
            elif last is not None:  # kept, but marked: a reset may have cut it anywhere
                cut = "incomplete: the connection was reset before this line ended"
                self.log.append(when, conn.client, last, None, cut)
            self._drop(conn, "closed" if data is not None else "reset")
            return
        try:
            lines = conn.lines.feed(data)
        except LineTooLong as too_long:
            for line in too_long.lines:
                self._handle(conn, when, line)
            why = f"sent a line longer than {self.max_line:,} bytes without a newline: closed"
            self.log.add_event(when, conn.client, ERROR, why)  # logged before the client hears
            self._send(conn, b"[server error: line too long, closing the connection]\n")
            self._drop(conn)
            return
        for line in lines:
            self._handle(conn, when, line)

    def _handle(self, conn: _Connection, when: float, line: bytes) -> None:
        out, reply_text, error = self._answer(line)
        self.log.append(when, conn.client, line, reply_text, error)
        if out is not None:
            self._send(conn, out.replace(b"\n", b" ") + b"\n")

    def _send(self, conn: _Connection, data: bytes) -> None:
        if conn.sock not in self._open_connections:
            return
        if conn.outbox:
            conn.outbox += data
        else:
            try:
                sent = conn.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                return  # the client is gone; _read will see it
            if sent < len(data):
                conn.outbox += data[sent:]
                self._selector.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        if len(conn.outbox) > self.max_outbox:
            self._drop(conn, "does not read its replies: connection closed")

    def _flush(self, conn: _Connection) -> None:
        if not conn.outbox or conn.sock.fileno() == -1:
            return
        try:
            sent = conn.sock.send(conn.outbox)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            conn.outbox.clear()
            return
        del conn.outbox[:sent]
        if not conn.outbox:
            self._selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def _drop(self, conn: _Connection, why: str | None = None) -> None:
        """Close one connection; why ("closed", "reset", or a problem) goes into the log."""
        if self._open_connections.pop(conn.sock, None) is None:
            return
        self._selector.unregister(conn.sock)
        conn.sock.close()
        if why in ("closed", "reset"):
            self.log.add_event(time.time(), conn.client, DISCONNECTED)
        elif why:
            self.log.add_event(time.time(), conn.client, ERROR, why)

    def _wake(self) -> None:
        try:
            self._wake_write.send(b"x")
        except OSError:
            pass

    def _force_wake(self) -> None:
        self._wake()

    def _close(self) -> None:
        for sock in list(self._open_connections):
            sock.close()
        self._open_connections.clear()
        self._selector.close()
        self._listener.close()
        self._wake_read.close()
        self._wake_write.close()


def serve_udp(port: int = 12000, reply="upper", host: str = "127.0.0.1", **options) -> UDPServer:
    """Start a UDP server and return it (re-running stops the one from the earlier run)."""
    return UDPServer(host, port, reply, **options).start()


def serve_tcp(port: int = 12000, reply="upper", host: str = "127.0.0.1", **options) -> TCPServer:
    """Start a TCP server and return it (re-running stops the one from the earlier run)."""
    return TCPServer(host, port, reply, **options).start()
