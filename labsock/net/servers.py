"""Servers that run in a background thread, inside a Jupyter kernel or a terminal: what UDP and
TCP share (Server), and the UDP server. The TCP server is in labsock.net.tcp_server.

Life cycle (labsock.net.lifecycle): build, start(), stop(), or use `with`. start() returns once
the port is bound (so a client in the next cell finds it); stop() returns once the thread has
ended and the port is free again, whatever a reply function is doing.

What makes them safe to use from a notebook:
- the threads never print: every message goes into server.log, and views (labsock.show) read
  the log;
- starting a server where labsock already holds the port (an earlier run of the cell) stops the
  old one first, so re-running a cell never gives "Address already in use";
- stop() wakes the thread at once (no polling timeout), because a socket closed from another
  thread does not wake a thread blocked on it;
- a reply function of the student's runs beside the loop (labsock.net.reply_workers): whatever
  it does or returns, the server logs it, answers, and goes on serving the other clients.
"""

from __future__ import annotations

import socket
import threading
import time

from labsock.logic.errors import LabsockError, failure_name
from labsock.logic.replies import (
    BUILT_IN,
    as_reply_bytes,
    describe_bad_reply,
    describe_failure,
    echo,
    none,
    reply_function,
    upper,
)
from labsock.logic.validation import ANY_ADDRESS, LOOPBACK
from labsock.net.lifecycle import ThreadOnPort, background_thread, running
from labsock.net.log import (
    BIG_ENTRY,
    ERROR,
    MESSAGE,
    MessageLog,
    readable,
)
from labsock.net.ports_here import failed_start, note_start
from labsock.net.sockets import (
    UDP_MAX_PAYLOAD,
    server_address,
    udp_socket,
)

NOT_ANSWERED = "not answered: the server stopped while the reply function was still running"


def running_servers() -> list[Server]:
    """The servers labsock runs in this process."""
    return running(Server)


def error_reply(error: str) -> bytes:
    """What the client hears when its message was not answered as it should be."""
    return f"[server error: {error}]".encode("utf-8", "backslashreplace")


class Server(ThreadOnPort):
    """What UDP and TCP servers share: address checks, replies, the log, the thread."""

    kind = "server"
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
        self._workers = None  # ReplyWorkers, for a reply function of the student's
        self._stopping = False

    # -- life cycle (see labsock.net.lifecycle) ---------------------------------------------------

    @property
    def what(self) -> str:
        return f"the {self.protocol.upper()} server"

    def _begin(self) -> None:
        self.port = self._requested_port
        try:
            self._open()
        except LabsockError as exc:
            # Noted, so a later cell that needs this server says so instead of going on.
            raise failed_start(self.protocol, self.port, exc) from None
        note_start(self.protocol, self._requested_port)
        self.log.closed = False
        self._stopping = False
        # The built-in replies are quick: they run in the loop. The student's own run beside it.
        # (No bound method of self is kept on self: that cycle would keep every stopped server
        # and its log alive until a full garbage collection, which then takes longer each time.)
        self._workers = None
        if self.reply not in BUILT_IN.values():
            from labsock.net.reply_workers import ReplyWorkers  # here: most servers never need it

            self._workers = ReplyWorkers(
                self._answer, self._finish, name=f"labsock-{self.protocol}-{self.port}"
            )
        self._thread = background_thread(
            self._serve_then_close, f"labsock-{self.protocol}-{self.port}"
        )

    def _end(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wake()
        thread.join(0.5)
        # Alive still: the wake-up was lost (a full receive buffer, say), or a loaded machine has
        # not run the loop yet. Insist, and wait for it: it runs no student code, so it ends, and
        # only then is the port free (giving up after 2.5 s left it held by a loop still closing).
        while thread.is_alive():
            self._force_wake()
            thread.join(0.5)
        self._thread = None
        # Replies still running are not waited for: their messages are logged as not answered.
        if self._workers is not None:
            self._workers.stop()
            self._workers = None  # it holds self's methods: let go of them
        self._after_stop()
        self.log.close()

    def _after_stop(self) -> None:
        """What a protocol logs once its loop has ended."""

    def _serve_then_close(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # a bug must show in the log, not vanish with the thread
            self.log.add_event(time.time(), ("-", 0), ERROR, f"server stopped: {exc!r}")
        finally:
            self._close()
            if not self._stopping:
                # Ended by itself: no longer listed as running (running_servers, stop_all, the
                # status line), as its `running` already says; stop() forgets it otherwise.
                self._forget()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    # -- replies --------------------------------------------------------------------------------

    def _answer(self, data: bytes) -> tuple[bytes | None, str | None, str | None]:
        """(reply bytes, reply text for the log, error text) for one message. Never raises:
        whatever the reply function does or returns ends as a reply to the client."""
        reply = self.reply
        if reply is echo:  # byte for byte, even what is not UTF-8
            return data, readable(data), None
        try:
            out = reply(data.decode("utf-8", "backslashreplace"))
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the server goes on
            error = describe_failure(reply, exc)
            # The client hears about it too, or it would only see a puzzling timeout.
            return error_reply(error), None, error
        try:
            if out.__class__ is str:  # the usual case, kept short: this runs for every message
                return out.encode(), out, None
            sent = as_reply_bytes(out)
            return sent, (None if sent is None else readable(sent)), None
        except BaseException as exc:  # '\ud800', or an object whose __str__ raises
            error = describe_bad_reply(reply, out, exc)
            return error_reply(error), None, error

    def _answer_built_in(self, data: bytes) -> tuple[bytes | None, str | None, str | None]:
        """_answer for the built-in replies: text in, text or None out, nothing to guard
        (backslashreplace leaves no character that UTF-8 cannot encode)."""
        reply = self.reply
        if reply is echo:
            return data, readable(data), None
        out = reply(data.decode("utf-8", "backslashreplace"))
        return (None, None, None) if out is None else (out.encode(), out, None)

    def _finish(self, job, data: bytes, result) -> None:
        """A reply worker's result (None: never answered, the server stopped first)."""
        raise NotImplementedError

    # -- describing (labsock.watch(server) shows the log live) -----------------------------------

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

    def _receive(self):
        """The next (datagram, sender), or None when woken by stop()."""
        while True:
            try:
                data, client = self._sock.recvfrom(UDP_MAX_PAYLOAD + 1)
            except OSError as exc:
                if self._stopping:
                    return None  # woken by shutdown()
                if isinstance(exc, ConnectionResetError):
                    continue  # Windows: an earlier reply hit a closed port; not our problem
                raise
            return None if self._stopping else (data, client)

    def _serve(self) -> None:
        if self._workers is not None:
            self._serve_beside_workers()
            return
        # A blocking recvfrom, woken by a datagram at stop(): as fast as a plain loop, and no
        # polling. Locals, and log entries written inline (MessageLog.writer), keep the work per
        # datagram close to the textbook loop's.
        recvfrom = self._sock.recvfrom
        sendto = self._sock.sendto
        log = self.log
        numbers, push = log.writer()
        now = time.time
        answer = self._answer_built_in
        silent = self.reply is none
        shout = self.reply is upper  # the lab's reply: inline, two Python calls fewer
        size = UDP_MAX_PAYLOAD + 1
        big = BIG_ENTRY
        message = MESSAGE
        while True:
            try:
                data, client = recvfrom(size)
            except OSError as exc:
                if self._stopping:
                    return  # woken by shutdown()
                if isinstance(exc, ConnectionResetError):
                    continue  # Windows: an earlier reply hit a closed port; not our problem
                raise
            if not data and self._stopping:  # stop()'s wake-up is an empty datagram
                return
            when = now()
            if silent:
                number = next(numbers)
                push((number, when, client, data, None, None, message))
                if len(data) >= big:
                    log.count_bytes(number, len(data))
            else:
                if shout:  # what _answer_built_in does for upper
                    reply_text = data.decode("utf-8", "backslashreplace").upper()
                    out, error = reply_text.encode(), None
                else:
                    out, reply_text, error = answer(data)
                # Logged before replying: once a client has its reply, the message is in the log.
                number = next(numbers)
                push((number, when, client, data, reply_text, error, message))
                if len(data) >= big:
                    log.count_bytes(number, len(data) + len(reply_text or ""))
            if number >= log.wake_at:
                log.wake()
            if silent or out is None:
                continue
            try:
                sendto(out, client)
            except OSError as exc:
                self._not_sent(exc, out, client)

    def _serve_beside_workers(self) -> None:
        """The loop when the reply is the student's: receive, hand over, receive again."""
        submit = self._workers.submit
        now = time.time
        while True:
            received = self._receive()
            if received is None:
                return
            data, client = received
            when = now()
            if not submit((when, client), data):
                error = "not answered: the server is busy with earlier replies still running"
                self.log.append(when, client, data, None, error)
                self._send_reply(error_reply(error), client)

    def _finish(self, job, data: bytes, result) -> None:
        when, client = job
        if result is None:
            self.log.append(when, client, data, None, NOT_ANSWERED)
            return
        out, reply_text, error = result
        self.log.append(when, client, data, reply_text, error)
        if out is not None:
            self._send_reply(out, client)

    def _send_reply(self, out: bytes, client) -> None:
        try:
            self._sock.sendto(out, client)
        except OSError as exc:
            self._not_sent(exc, out, client)

    def _not_sent(self, exc: OSError, out: bytes, client) -> None:
        if failure_name(exc) == "EMSGSIZE":
            # Say so to the client too: silence would read as "is the server running?".
            why = (
                f"the reply is {len(out):,} bytes, more than one UDP datagram can carry "
                f"({UDP_MAX_PAYLOAD:,}): not sent"
            )
            self.log.add_event(time.time(), client, ERROR, why)
            try:
                self._sock.sendto(error_reply(why), client)
            except OSError:
                pass
            return
        self.log.add_event(time.time(), client, ERROR, f"reply not sent: {exc}")

    def _wake(self) -> None:
        target = LOOPBACK if self.host == ANY_ADDRESS else self.host
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


def serve_udp(port: int = 12000, reply="upper", host: str = "127.0.0.1", **options) -> UDPServer:
    """Start a UDP server and return it (re-running stops the one from the earlier run)."""
    return UDPServer(host, port, reply, **options).start()
