"""The TCP server: one connection per client, all served by one loop in one thread.

Loaded on first use (labsock.TCPServer, serve_tcp): most cells never need it, and every module
imported by `import labsock` adds to the time that takes. What it shares with the UDP server
(life cycle, replies, the log) is labsock.net.servers.Server.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections import deque

from labsock.logic.errors import LabsockError
from labsock.logic.framing import (
    MAX_LINE,
    PAUSE,
    FrameTooLarge,
    LengthSplitter,
    LineSplitter,
    LineTooLong,
    frame_length_prefixed,
    validate_framing,
    validate_pause,
)
from labsock.logic.replies import upper
from labsock.net.log import BIG_ENTRY, CONNECTED, DISCONNECTED, ERROR, MESSAGE
from labsock.net.servers import NOT_ANSWERED, Server, error_reply
from labsock.net.sockets import tcp_listener, tcp_tune

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
        "quick",
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
        self.quick = False  # its lines get the built-in upper reply: _read's quick path
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
        self.framing = validate_framing(framing)
        self.pause = validate_pause(pause)
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
        self._quick = False  # set as the loop starts
        self._auto = framing == "auto"

    def _open(self) -> None:
        self._listener = tcp_listener(self.host, self.port)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        from labsock.net.poller import Poller  # here: a UDP server never needs it

        self._poller = Poller()
        # What each file descriptor is: a connection, the listener or the wake-up socket.
        self._handlers: dict[int, object] = {
            self._listener.fileno(): _ACCEPT,
            self._wake_read.fileno(): _WAKE,
        }
        self._poller.register(self._listener.fileno(), Poller.READ)
        self._poller.register(self._wake_read.fileno(), Poller.READ)
        self._open_connections: dict[socket.socket, _Connection] = {}
        self._timers: list[tuple[float, int, str, _Connection | None]] = []
        self._timer_order = itertools.count()
        self._numbers, self._push = self.log.writer()
        self._finished: deque = deque()  # results of reply workers, for the loop to send
        self._finish_lock = threading.Lock()
        self._loop_ended = False

    # -- the loop -------------------------------------------------------------------------------

    def _serve(self) -> None:
        # The lab's own server: lines answered in capitals, in the loop. Checked here, once
        # start() has settled the reply workers.
        self._quick = self._workers is None and self.reply is upper
        poll = self._poller.poll
        handlers = self._handlers
        timers = self._timers
        read = self._quick_reader() if self._quick else self._read
        readable, writable = self._poller.READABLE, self._poller.WRITE
        from labsock.net.poller import MAX_EVENTS

        while True:
            timeout = max(0.0, timers[0][0] - time.monotonic()) if timers else None
            for fd, events in poll(timeout, MAX_EVENTS):
                conn = handlers.get(fd)
                if conn.__class__ is _Connection:
                    if events & readable:
                        read(conn)
                    if events & writable and conn.open:
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
            conn.quick = self._quick and self.framing == "line"
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
        self._send(oldest, error_reply(why) + b"\n")
        self._drop(oldest, why)
        return True

    def _refuse(self, sock: socket.socket, client) -> None:
        why = (
            f"refused: all {self.max_connections} connections are waiting for replies still "
            "running; try again in a moment"
        )
        try:
            sock.setblocking(False)
            sock.send(error_reply(why) + b"\n")
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
        self._take(conn, data, time.time())

    def _quick_reader(self):
        """_read for the lab's own server (lines answered in capitals, in the loop).

        It runs once per message, so the lab's usual read (one whole ASCII line, no half line
        before it, nothing waiting to be sent) is answered here, without the calls of
        splitter.feed, _answer_all and _send, with locals, and with fewer copies (bytes.upper()
        is str.upper() for ASCII): the TCP benchmark's target is 0.80x of the textbook loop,
        which needs no wait in epoll. Any other read goes the long way (_take).
        """
        now, numbers, push, log = time.time, self._numbers, self._push, self.log
        max_line, long_way, read, send_rest = self.max_line, self._take, self._read, self._send

        def read_quickly(conn: _Connection) -> None:
            if not conn.quick:
                read(conn)
                return
            try:
                data = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = None
            when = now()
            if data:
                end = len(data) - 1
                message = data[:end]
                if (
                    data[end] == 10  # ends in a newline,
                    and 10 not in message  # its only one
                    and data.isascii()
                    and end <= max_line
                    and not conn.splitter.half_line
                    and not conn.outbox
                    and (not end or message[-1] != 13)  # a \r\n ending goes the long way
                ):
                    reply = data.upper()
                    number = next(numbers)
                    push((number, when, conn.client, message, reply[:end].decode(), None, MESSAGE))
                    if end >= BIG_ENTRY:
                        log.count_bytes(number, 2 * end)
                    if number >= log.wake_at:
                        log.wake()
                    conn.last_message = when
                    try:  # logged before replying, as in _answer_all
                        sent = conn.sock.send(reply)
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except OSError:
                        conn.cut = True  # as in _send: the next recv() reads as a reset
                        return
                    if sent != len(reply):
                        send_rest(conn, reply[sent:])
                    return
            long_way(conn, data, when)

        return read_quickly

    def _take(self, conn: _Connection, data: bytes | None, when: float) -> None:
        """What one read brought (None: the client reset the connection; b"": it closed)."""
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
                conn.quick = self._quick
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
        self._send(conn, error_reply(f"{what} too long, closing the connection") + b"\n")
        self._drop(conn)

    def _answer_all(self, conn: _Connection, when: float, messages: list, ending: str) -> None:
        """Built-in replies, here and now, to the messages of one read, sent in one send().

        This runs for every message, so it is kept short: the lab's reply (upper) and the line
        framing are written inline, two Python calls fewer a message. The loop is the log's only
        writer while it runs (a worker's result is handed to it), so entries go in without a
        lock."""
        conn.last_message = when
        shout = self.reply is upper
        if shout and ending == "line" and len(messages) == 1:
            # The lab's usual read: one line, answered in capitals. The loop below, inline.
            message = messages[0]
            reply_text = message.decode("utf-8", "backslashreplace").upper()
            number = next(self._numbers)
            self._push((number, when, conn.client, message, reply_text, None, MESSAGE))
            log = self.log
            if len(message) >= BIG_ENTRY:
                log.count_bytes(number, len(message) + len(reply_text))
            if number >= log.wake_at:
                log.wake()
            self._send(conn, reply_text.encode().replace(b"\n", b" ") + b"\n")
            return
        answer, push, numbers, log = self._answer_built_in, self._push, self._numbers, self.log
        client = conn.client
        line = ending == "line"
        replies = []
        for message in messages:
            if shout:  # what _answer_built_in does for upper, inline
                reply_text = message.decode("utf-8", "backslashreplace").upper()
                out, error = reply_text.encode(), None
            else:
                out, reply_text, error = answer(message)
            number = next(numbers)
            push((number, when, client, message, reply_text, error, MESSAGE))
            if len(message) >= BIG_ENTRY:
                log.count_bytes(number, len(message) + len(reply_text or ""))
            if out is None:
                continue
            if line:  # _framed's line, inline: one reply, one line
                replies.append(out.replace(b"\n", b" ") + b"\n")
            else:
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
            self._send(conn, self._framed(error_reply(error), ending))

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
        import heapq  # here, not at the top: only a client that pauses needs a timer

        heapq.heappush(self._timers, (due, next(self._timer_order), what, conn))

    def _run_timers(self) -> None:
        import heapq

        timers = self._timers
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            due, _, what, conn = heapq.heappop(timers)
            if what == "listen":
                self._poller.register(self._listener.fileno(), self._poller.READ)
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
            events = self._poller.READ
        if conn.outbox:
            events |= self._poller.WRITE
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


def serve_tcp(port: int = 12000, reply="upper", host: str = "127.0.0.1", **options) -> TCPServer:
    """Start a TCP server and return it (re-running stops the one from the earlier run).

    framing="auto" (a newline or, from a client that sends none, a pause ends a message),
    "line" or "length": see TCPServer.
    """
    return TCPServer(host, port, reply, **options).start()
