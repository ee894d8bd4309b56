"""UDP and TCP servers that run in a background thread, inside a Jupyter kernel or a terminal.

Life cycle (labsock.net.lifecycle): build, start(), stop(), or use `with`. start() returns once
the port is bound (so a client in the next cell finds it); stop() returns once the thread has
ended and the port is free again, whatever a reply function is doing.

What makes them safe to use from a notebook:
- the threads never print: every message goes into server.log, and views read the log;
- starting a server where labsock already holds the port (an earlier run of the cell) stops the
  old one first, so re-running a cell never gives "Address already in use";
- stop() wakes the thread at once (no polling timeout), because a socket closed from another
  thread does not wake a thread blocked on it;
- a reply function of the student's runs beside the loop (labsock.net.reply_workers): whatever
  it does or returns, the server logs it, answers, and goes on serving the other clients.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections import deque

from labsock.logic.errors import MESSAGE_TOO_LONG, LabsockError
from labsock.logic.framing import (
    MAX_LINE,
    PAUSE,
    FrameTooLarge,
    LengthSplitter,
    LineSplitter,
    LineTooLong,
    check_framing,
    check_pause,
    frame_length_prefixed,
)
from labsock.logic.replies import (
    BUILT_IN,
    as_reply_bytes,
    describe_bad_reply,
    describe_failure,
    echo,
    none,
    reply_function,
)
from labsock.net.lifecycle import ANY, ThreadOnPort, running
from labsock.net.log import (
    BIG_ENTRY,
    CONNECTED,
    DISCONNECTED,
    ERROR,
    MESSAGE,
    MessageLog,
    readable,
)
from labsock.net.poller import READ, READABLE, WRITE, Poller
from labsock.net.reply_workers import ReplyWorkers
from labsock.net.sockets import (
    UDP_MAX_PAYLOAD,
    server_address,
    tcp_listener,
    tcp_tune,
    udp_socket,
)

NOT_ANSWERED = "not answered: the server stopped while the reply function was still running"


def running_servers() -> list[Server]:
    """The servers labsock runs in this process."""
    return running(Server)


def _error_reply(error: str) -> bytes:
    return f"[server error: {error}]".encode("utf-8", "backslashreplace")


class Server(ThreadOnPort):
    """What UDP and TCP servers share: address checks, replies, the log, the thread."""

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
        self._workers: ReplyWorkers | None = None
        self._stopping = False

    # -- life cycle (see labsock.net.lifecycle) ---------------------------------------------------

    @property
    def what(self) -> str:
        return f"the {self.protocol.upper()} server"

    def _begin(self) -> None:
        self.port = self._requested_port
        self._open()
        self.log.closed = False
        self._stopping = False
        # The built-in replies are quick: they run in the loop. The student's own run beside it.
        # (No bound method of self is kept on self: that cycle would keep every stopped server
        # and its log alive until a full garbage collection, which then takes longer each time.)
        self._workers = None
        if self.reply not in BUILT_IN.values():
            self._workers = ReplyWorkers(
                self._answer, self._finish, name=f"labsock-{self.protocol}-{self.port}"
            )
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
        # The loop runs no student code, so it has ended and closed the port. Replies still
        # running are not waited for: their messages are logged as not answered.
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
            return _error_reply(error), None, error
        try:
            if out.__class__ is str:  # the usual case, kept short: this runs for every message
                return out.encode(), out, None
            sent = as_reply_bytes(out)
            return sent, (None if sent is None else readable(sent)), None
        except BaseException as exc:  # '\ud800', or an object whose __str__ raises
            error = describe_bad_reply(reply, out, exc)
            return _error_reply(error), None, error

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
                self._send_reply(_error_reply(error), client)

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
        code = getattr(exc, "winerror", None) or getattr(exc, "errno", None)
        if code in MESSAGE_TOO_LONG:
            # Say so to the client too: silence would read as "is the server running?".
            why = (
                f"the reply is {len(out):,} bytes, more than one UDP datagram can carry "
                f"({UDP_MAX_PAYLOAD:,}): not sent"
            )
            self.log.add_event(time.time(), client, ERROR, why)
            try:
                self._sock.sendto(_error_reply(why), client)
            except OSError:
                pass
            return
        self.log.add_event(time.time(), client, ERROR, f"reply not sent: {exc}")

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


# -- TCP ------------------------------------------------------------------------------------------

_ACCEPT, _WAKE = "accept", "wake"


class _Connection:
    __slots__ = (
        "sock",
        "fd",
        "client",
        "splitter",
        "outbox",
        "events",
        "last_message",
        "heard_at",
        "newline_seen",
        "waiting",
        "waiting_bytes",
        "busy",
        "ended",
        "cut",
        "open",
    )

    def __init__(self, sock, client, splitter, now):
        self.sock = sock
        self.fd = sock.fileno()
        self.client = client
        self.splitter = splitter
        self.outbox = bytearray()
        self.events = 0  # what the selector watches for
        self.last_message = now  # when it last completed a message, or connected (time.time)
        self.heard_at = 0.0  # when it last sent part of a message (monotonic)
        self.newline_seen = False  # framing "auto": a newline client waits for its newlines
        self.waiting: deque = deque()  # messages behind a reply still running
        self.waiting_bytes = 0
        self.busy = False  # a reply function is running for it
        self.ended: str | None = None  # "closed" or "reset" once the client has gone
        self.cut = False  # a send failed: the client reset the connection
        self.open = True


class TCPServer(Server):
    """A TCP server: one connection per client, all served by one selectors loop.

    framing says where one message ends (labsock.logic.framing.FRAMINGS): by default a newline,
    so two lines in one write are two messages and a half line waits for its end; a client that
    has sent no newline yet and pauses for `pause` seconds (the textbook TCPClient) gets what it
    sent answered. A reply goes back framed like its message: a line for a line, a length for a
    length, as it is for a message that ended by a pause or by the end of the stream.

    At max_connections, a new client takes the place of the connection that has gone longest
    without completing a message (which is told why), so idle or half-finished connections
    never keep a working client out.
    """

    protocol = "tcp"
    max_outbox = 1_000_000  # replies a client does not read pile up here; past this it is cut off
    max_waiting = 1_000_000  # messages waiting behind a slow reply, per connection

    def __init__(
        self,
        *args,
        max_line: int = MAX_LINE,
        framing: str = "auto",
        pause: float = PAUSE,
        max_connections: int = 500,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.framing = check_framing(framing)
        self.pause = check_pause(pause)
        if isinstance(max_line, bool) or not isinstance(max_line, int) or max_line < 1:
            raise LabsockError(f"max_line={max_line!r}: give a whole number of bytes, e.g. 65536.")
        if (
            isinstance(max_connections, bool)
            or not isinstance(max_connections, int)
            or not 1 <= max_connections <= 500  # Windows' select() takes at most 512 sockets
        ):
            raise LabsockError(
                f"max_connections={max_connections!r}: give a whole number from 1 to 500."
            )
        self.max_line = max_line
        self.max_connections = max_connections
        self.connections = 0
        self._ending = "length" if framing == "length" else "line"  # how a read's messages end
        self._auto = framing == "auto"

    def _open(self) -> None:
        self._listener = tcp_listener(self.host, self.port)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._poller = Poller()
        # What each file descriptor is: a connection, the listener or the wake-up socket.
        self._handlers: dict[int, object] = {
            self._listener.fileno(): _ACCEPT,
            self._wake_read.fileno(): _WAKE,
        }
        self._poller.register(self._listener.fileno(), READ)
        self._poller.register(self._wake_read.fileno(), READ)
        self._open_connections: dict[socket.socket, _Connection] = {}
        self._timers: list[tuple[float, int, str, _Connection | None]] = []
        self._timer_order = itertools.count()
        self._numbers, self._push = self.log.writer()
        self._finished: deque = deque()  # results of reply workers, for the loop to send
        self._finish_lock = threading.Lock()
        self._loop_ended = False

    # -- the loop -------------------------------------------------------------------------------

    def _serve(self) -> None:
        poll = self._poller.poll
        handlers = self._handlers
        timers = self._timers
        read = self._read
        while True:
            timeout = max(0.0, timers[0][0] - time.monotonic()) if timers else None
            for fd, events in poll(timeout):
                conn = handlers.get(fd)
                if conn.__class__ is _Connection:
                    if events & READABLE:
                        read(conn)
                    if events & WRITE and conn.open:
                        self._flush(conn)
                elif conn is None:
                    continue  # closed earlier in this same batch
                elif conn == _ACCEPT:
                    self._accept()
                else:
                    self._drain_wake()
                    if self._stopping:
                        return
                    self._take_finished()
            if timers and timers[0][0] <= time.monotonic():
                self._run_timers()

    def _accept(self) -> None:
        while True:
            try:
                sock, client = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: keep serving the others
                self._accept_failed(exc)
                return
            if len(self._open_connections) >= self.max_connections and not self._make_room():
                self._refuse(sock, client)
                continue
            sock.setblocking(False)
            tcp_tune(sock)
            splitter = (
                LengthSplitter(self.max_line)
                if self.framing == "length"
                else LineSplitter(self.max_line)
            )
            conn = _Connection(sock, client, splitter, time.time())
            self._open_connections[sock] = conn
            self._handlers[conn.fd] = conn
            self.connections += 1
            self._watch(conn)
            self.log.add_event(time.time(), client, CONNECTED)

    def _make_room(self) -> bool:
        """Close the connection that has gone longest without completing a message (not one
        whose reply is running). False when every connection has a reply running."""
        idle = [c for c in self._open_connections.values() if not c.busy]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c.last_message)
        quiet = max(0.0, time.time() - oldest.last_message)
        why = (
            f"closed to make room for a new client: {self.max_connections} connections are "
            f"open and this one sent no complete message for {quiet:.1f} s"
        )
        self._send(oldest, _error_reply(why) + b"\n")
        self._drop(oldest, why)
        return True

    def _refuse(self, sock: socket.socket, client) -> None:
        why = (
            f"refused: all {self.max_connections} connections are waiting for replies still "
            "running; try again in a moment"
        )
        try:
            sock.setblocking(False)
            sock.send(_error_reply(why) + b"\n")
        except OSError:
            pass
        sock.close()
        self.log.add_event(time.time(), client, ERROR, why)

    def _accept_failed(self, exc: OSError) -> None:
        self.log.add_event(time.time(), ("-", 0), ERROR, f"accept failed: {exc}")
        # The waiting connection stays readable: stop watching the listener for a moment rather
        # than spin, and give a file descriptor back if some connection is idle.
        self._poller.unregister(self._listener.fileno())
        self._add_timer(time.monotonic() + 0.2, "listen", None)
        if self._open_connections:
            self._make_room()

    def _read(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = None  # reset by the client: what arrived before still counts
        when = time.time()
        if not data:
            self._client_gone(conn, when, "reset" if data is None or conn.cut else "closed")
            return
        try:
            messages = conn.splitter.feed(data)
        except (LineTooLong, FrameTooLarge) as too_long:
            self._too_long(conn, when, too_long)
            return
        if messages:
            if self._workers is None:
                self._answer_all(conn, when, messages, self._ending)
            else:
                for message in messages:
                    self._message(conn, when, message, self._ending)
        if self._auto and not conn.newline_seen:
            if messages:
                conn.newline_seen = True  # a newline client: its half lines wait for their end
            elif conn.open:
                # Answer what arrived if nothing more comes for `pause` seconds.
                conn.heard_at = time.monotonic()
                self._add_timer(conn.heard_at + self.pause, "pause", conn)

    def _too_long(self, conn: _Connection, when: float, too_long) -> None:
        ending = "length" if self.framing == "length" else "line"
        for message in too_long.lines:
            self._message(conn, when, message, ending)
        what = "message" if self.framing == "length" else "line"
        why = f"sent a {what} longer than {self.max_line:,} bytes: closed"
        self.log.add_event(when, conn.client, ERROR, why)  # logged before the client hears
        self._send(conn, _error_reply(f"{what} too long, closing the connection") + b"\n")
        self._drop(conn)

    def _answer_all(self, conn: _Connection, when: float, messages: list, ending: str) -> None:
        """Built-in replies, here and now, to the messages of one read, sent in one send().

        This runs for every message, so it is kept short. The loop is the log's only writer
        while it runs (a worker's result is handed to it), so entries go in without a lock."""
        conn.last_message = when
        answer, push, numbers, log = self._answer_built_in, self._push, self._numbers, self.log
        client = conn.client
        replies = []
        for message in messages:
            out, reply_text, error = answer(message)
            number = next(numbers)
            push((number, when, client, message, reply_text, error, MESSAGE))
            if len(message) >= BIG_ENTRY:
                log.count_bytes(number, len(message) + len(reply_text or ""))
            if out is not None:
                replies.append(self._framed(out, ending))
        if number >= log.wake_at:
            log.wake()
        if replies:  # logged before replying: once a client has its reply, it is in the log
            self._send(conn, replies[0] if len(replies) == 1 else b"".join(replies))

    def _message(self, conn: _Connection, when: float, message: bytes, ending: str) -> None:
        if self._workers is None:
            self._answer_all(conn, when, [message], ending)
            return
        conn.last_message = when
        if conn.busy or conn.waiting:
            # Behind a reply still running: replies on one connection keep their order.
            conn.waiting.append((when, message, ending))
            conn.waiting_bytes += len(message)
            if conn.waiting_bytes > self.max_waiting:
                self._watch(conn)  # stops reading: TCP then holds the client back
        else:
            self._submit(conn, when, message, ending)

    @staticmethod
    def _framed(out: bytes, ending: str) -> bytes:
        if ending == "line":
            return out.replace(b"\n", b" ") + b"\n"  # one reply, one line
        if ending == "length":
            return frame_length_prefixed(out, max(len(out), 1))
        return out  # a message that ended by a pause or the stream's end: the reply as it is

    def _submit(self, conn: _Connection, when: float, message: bytes, ending: str) -> None:
        conn.busy = True
        if not self._workers.submit((conn, when, ending), message):
            conn.busy = False
            error = "not answered: the server is busy with earlier replies still running"
            self.log.append(when, conn.client, message, None, error)
            self._send(conn, self._framed(_error_reply(error), ending))

    def _finish(self, job, data: bytes, result) -> None:
        # In a worker thread: the loop owns the connections, so hand the result over.
        conn, when, ending = job
        with self._finish_lock:
            handed_over = result is not None and not self._loop_ended
            if handed_over:
                self._finished.append((conn, when, ending, data, result))
        if not handed_over:
            reply_text, error = (None, NOT_ANSWERED) if result is None else result[1:]
            self.log.append(when, conn.client, data, reply_text, error)
            return
        try:
            self._wake_write.send(b"r")
        except OSError:
            pass  # already full of wake-ups (the loop will see them all), or closing

    def _take_finished(self) -> None:
        while self._finished:
            conn, when, ending, data, (out, reply_text, error) = self._finished.popleft()
            self.log.append(when, conn.client, data, reply_text, error)
            conn.busy = False
            if out is not None:
                self._send(conn, self._framed(out, ending))
            if not conn.open:
                continue
            if conn.waiting:
                when, message, ending = conn.waiting.popleft()
                conn.waiting_bytes -= len(message)
                self._submit(conn, when, message, ending)
                self._watch(conn)
            elif conn.ended:
                self._flush(conn)
                self._drop(conn, conn.ended)

    def _after_stop(self) -> None:
        # Results handed over after the loop's last look: logged, never sent.
        with self._finish_lock:
            self._loop_ended = True
            left = list(self._finished)
            self._finished.clear()
        for conn, when, _ending, data, (_out, reply_text, error) in left:
            self.log.append(when, conn.client, data, reply_text, error)

    def _client_gone(self, conn: _Connection, when: float, how: str) -> None:
        if self.framing == "length":
            rest = conn.splitter.pending or None
            if rest is not None:
                cut = "incomplete: the stream ended inside a length-prefixed message"
                self.log.append(when, conn.client, rest, None, cut)
        else:
            rest = conn.splitter.finish()
            if rest is not None and how == "closed":  # a clean end ends the last line too
                # Its reply is a line for a client that speaks in lines, else just the reply.
                line = self.framing == "line" or conn.newline_seen
                self._message(conn, when, rest, "line" if line else "end")
            elif rest is not None:  # kept, but marked: a reset may have cut it anywhere
                cut = "incomplete: the connection was reset before this line ended"
                self.log.append(when, conn.client, rest, None, cut)
        conn.ended = how
        if conn.busy or conn.waiting:
            self._watch(conn)  # no more reading; dropped once its replies are sent
            return
        self._flush(conn)
        self._drop(conn, how)

    # -- timers ---------------------------------------------------------------------------------

    def _add_timer(self, due: float, what: str, conn: _Connection | None) -> None:
        heapq.heappush(self._timers, (due, next(self._timer_order), what, conn))

    def _run_timers(self) -> None:
        timers = self._timers
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            due, _, what, conn = heapq.heappop(timers)
            if what == "listen":
                self._poller.register(self._listener.fileno(), READ)
            elif conn.open and not conn.ended and not conn.newline_seen:
                if conn.heard_at + self.pause > due:
                    continue  # more arrived since: a later timer covers it
                rest = conn.splitter.finish()
                if rest is not None:
                    self._message(conn, time.time(), rest, "pause")

    # -- sending --------------------------------------------------------------------------------

    def _send(self, conn: _Connection, data: bytes) -> None:
        if not conn.open:
            return
        if not conn.outbox:
            try:
                sent = conn.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                # The client reset the connection. This send took the system's report of it, so
                # the next recv() will look like a clean end: remember it was a reset.
                conn.cut = True
                return
            if sent == len(data):
                return  # the usual case: all sent at once
            data = data[sent:]
        conn.outbox += data
        self._watch(conn)
        if len(conn.outbox) > self.max_outbox:
            self._drop(conn, "does not read its replies: connection closed")

    def _flush(self, conn: _Connection) -> None:
        if not conn.outbox or not conn.open:
            return
        try:
            sent = conn.sock.send(conn.outbox)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            conn.cut = True
            conn.outbox.clear()
            sent = 0
        del conn.outbox[:sent]
        if not conn.outbox:
            self._watch(conn)

    def _watch(self, conn: _Connection) -> None:
        """Tell the selector what to wait for on this connection: reading, unless the client
        has gone or too much waits behind a slow reply; writing, while replies wait to go."""
        events = 0
        if not conn.ended and conn.waiting_bytes <= self.max_waiting:
            events = READ
        if conn.outbox:
            events |= WRITE
        if events == conn.events or not conn.open:
            return
        if not conn.events:
            self._poller.register(conn.fd, events)
        elif not events:
            self._poller.unregister(conn.fd)
        else:
            self._poller.modify(conn.fd, events)
        conn.events = events

    def _drop(self, conn: _Connection, why: str | None = None) -> None:
        """Close one connection; why ("closed", "reset", or a problem) goes into the log."""
        if not conn.open:
            return
        conn.open = False
        del self._open_connections[conn.sock]
        del self._handlers[conn.fd]
        if conn.events:
            self._poller.unregister(conn.fd)
        conn.sock.close()
        if why in ("closed", "reset"):
            self.log.add_event(time.time(), conn.client, DISCONNECTED)
        elif why:
            self.log.add_event(time.time(), conn.client, ERROR, why)

    # -- waking and closing -----------------------------------------------------------------------

    def _drain_wake(self) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except OSError:
            pass

    def _wake(self) -> None:
        try:
            self._wake_write.send(b"x")
        except OSError:
            pass

    def _force_wake(self) -> None:
        self._wake()

    def _close(self) -> None:
        for conn in list(self._open_connections.values()):
            conn.open = False
            conn.sock.close()
        self._open_connections.clear()
        self._handlers.clear()
        self._poller.close()
        self._listener.close()
        self._wake_read.close()
        self._wake_write.close()


def serve_udp(port: int = 12000, reply="upper", host: str = "127.0.0.1", **options) -> UDPServer:
    """Start a UDP server and return it (re-running stops the one from the earlier run)."""
    return UDPServer(host, port, reply, **options).start()


def serve_tcp(port: int = 12000, reply="upper", host: str = "127.0.0.1", **options) -> TCPServer:
    """Start a TCP server and return it (re-running stops the one from the earlier run).

    framing="auto" (a newline or, from a client that sends none, a pause ends a message),
    "line" or "length": see TCPServer.
    """
    return TCPServer(host, port, reply, **options).start()
