"""Runs a student's program as its own process, unchanged, and tells the notebook what it does.

    python -u bootstrap.py --control N programs/udp_server.py

N is the program's end of a socket pair the notebook made and handed down (an inherited file
descriptor, or socket handle on Windows): no port, no secret in the environment.

Started by labsock.net.programs.job, never by hand. Before the program runs, three things are
watched, without changing what the program sees:

- every IP socket it makes (socket.socket and _socket.socket are replaced by subclasses, which
  socketserver, asyncio, create_server and makefile() use too): each bind, listen, accept,
  connect and close is reported at once, and each datagram or chunk received or sent (recvfrom,
  recv, their _into forms, sendto, send, sendall) goes into a batch sent every 50 ms, so the
  notebook can log, count and check what the program's server saw. AF_UNIX and other non-IP
  sockets are left alone. Sockets a C extension makes are seen by the audit events of bind,
  connect and sendto (their ports only);
- the first time the program waits (recvfrom, accept, recv, a blocking select, poll, epoll or
  selectors.select as socketserver and asyncio use, input() or time.sleep), the notebook hears
  about it at once: the cell that started the program returns exactly then;
- input() asks the notebook for a line (the program's stdin is a pipe the notebook writes to).

On a TCP socket, bind also sets SO_REUSEADDR (SO_EXCLUSIVEADDRUSE on Windows): without it, a server
that served clients could not be started again for about a minute (TIME_WAIT).

When the notebook's kernel goes away, the control channel closes and the program ends with it.
A failure is explained in plain words with the student's line, instead of a traceback of ours.
"""

from __future__ import annotations

import _socket
import atexit
import builtins
import errno
import io
import itertools
import json
import os
import select
import selectors
import socket
import sys
import threading
import time
import types

# This file runs as a script: make the labsock package it belongs to importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))))

from labsock.logic import wire  # noqa: E402
from labsock.logic.program_errors import bind_call, explain_failure  # noqa: E402

FLUSH_EVERY = 0.05  # seconds between two batches: fast enough for a live view, cheap for a flood
# How many datagrams and chunks are recorded in full: a burst of RECORD_BURST, then RECORD_RATE
# a second. Beyond that they are counted, not recorded, so a flood cannot fill memory (at most
# RECORD_BURST x 2,048 bytes wait for a batch). The bound is high on purpose: a record left out
# would look like a lost datagram in the counting table, so a Python sender at full speed
# (about 50,000 a second) is still recorded whole.
RECORD_RATE = 100_000
RECORD_BURST = 100_000
BATCH_RECORDS = 2_000  # records in one frame: at most 2,000 x 2,048 bytes kept, 4 MB
ADDRESS_IN_USE = {errno.EADDRINUSE, 98, 48, 10048}
# What a send or receive on the connection raises once the program closed or replaced its
# descriptor (not the notebook going away, which is EPIPE or ECONNRESET).
NOT_A_SOCKET_NOW = {errno.EBADF, errno.ENOTSOCK, 10038}
_AUDITED = ("socket.bind", "socket.connect", "socket.sendto")
# Seconds a failing program waits for the notebook to name the stopped server it tried to reach:
# the notebook answers at once; a notebook that stopped reading must not hold the failure long.
ASK_TIMEOUT = 1.0

_real_socket = socket.socket
_real_raw_socket = _socket.socket
_real_sleep = time.sleep
_now = time.time
_kept = wire.KEPT_BYTES


class Reporter:
    """Queues what the program does and sends it to the notebook; reads the notebook's replies."""

    def __init__(self, control: socket.socket):
        self.control = control
        self.pending: list = []  # records and notes in the order they happened
        # Notes ever appended, and ever sent: when equal, a batch holds only records (most do).
        self._notes_added = self._notes_sent = 0
        self.waited = False
        self.fd = control.fileno()  # kept: see _keep_control_open
        self._spare = _spare_descriptor(self.fd)  # see lose()
        self._identity = _identity(self.fd)  # see _replaced()
        self.lost = False  # the program closed the connection's descriptor (see lose())
        # Sockets seen only by the audit hook (see _watch_unwatched_sockets).
        self.audited: dict = {}  # audit event -> its last arguments
        self.watched_types: tuple = ()
        self.unwatched: list = []  # (socket, implicit, tries) whose port is not read yet
        self._unwatched_seen: set = set()
        # Set by watched_socket_class: the record budget, and the counts of what it left out.
        self.set_budget = lambda records: None
        self.unrecorded = lambda: (0, 0)
        self._unrecorded_sent = (0, 0)
        self._send_lock = threading.Lock()
        self._urgent = threading.Event()
        # Answers to questions (ask), by the question's number: two threads of the program may
        # ask at once, and each must get its own answer, not the other's.
        self._answers: dict[int, dict] = {}
        self._waiting_for: set[int] = set()
        self._questions = itertools.count(1)
        self._answered = threading.Condition()
        self.threads = [
            threading.Thread(target=self._send_batches, name="labsock-report", daemon=True),
            threading.Thread(target=self._listen, name="labsock-listen", daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    # -- what the program does -----------------------------------------------------------------

    def note(self, event: str, **fields) -> None:
        """A rare event, sent with everything before it, at once."""
        self._notes_added += 1  # before the append: see flush()
        self.pending.append(("note", event, fields))
        self._urgent.set()

    def waiting(self, how: str) -> None:
        """The program waits for the first time: the cell that started it may return now."""
        if not self.waited:
            self.waited = True
            # With how much it had printed by then, so the cell can show all of that first.
            self.note("waiting", how=how, printed=PRINTED.bytes)

    # -- sending -------------------------------------------------------------------------------

    def _send_batches(self) -> None:
        tokens, last = float(RECORD_BURST), time.monotonic()
        while True:
            self._urgent.wait(FLUSH_EVERY)
            self._urgent.clear()
            recorded = self.flush()
            if self.lost:
                return  # nothing goes to the notebook any more (lose() set the budget to 0)
            now = time.monotonic()
            tokens = min(RECORD_BURST, tokens - recorded + (now - last) * RECORD_RATE)
            last = now
            self.set_budget(0 if self.lost else max(int(tokens), 0))

    def flush(self) -> int:
        """Send what is pending; returns how many records went (notes not counted)."""
        with self._send_lock:
            if not self.lost and self._replaced():
                self.lose()
            if self.lost:
                del self.pending[:]
                return 0
            # Frames of their own, never through `pending`: only the program's thread notes there
            # (the count of notes, _notes_added, is not safe for two writers).
            unwatched = self._report_unwatched()
            count = len(self.pending)
            unrecorded = self.unrecorded()
            if not count and not unwatched and unrecorded == self._unrecorded_sent:
                return 0
            # Read after `count`: every note among the first `count` items is counted here.
            no_notes = self._notes_added == self._notes_sent
            taken = self.pending[:count]
            # Only the writer appends, and only at the end: removing the head we copied is safe.
            del self.pending[:count]
            frames, records = unwatched, []
            notes = 0
            if no_notes:
                frames += [
                    wire.batch(taken[at : at + BATCH_RECORDS])
                    for at in range(0, count, BATCH_RECORDS)
                ]
                taken = ()
            for item in taken:
                if item[0] == "note":
                    notes += 1
                    if records:
                        frames.append(wire.batch(records))
                        records = []
                    frames.append(wire.note(item[1], **item[2]))
                else:
                    records.append(item)
                    if len(records) == BATCH_RECORDS:  # a frame stays well under MAX_FRAME
                        frames.append(wire.batch(records))
                        records = []
            if records:
                frames.append(wire.batch(records))
            if unrecorded != self._unrecorded_sent:
                received, sent = (
                    now - before
                    for now, before in zip(unrecorded, self._unrecorded_sent, strict=True)
                )
                self._unrecorded_sent = unrecorded
                frames.append(wire.note("unrecorded", received=received, sent=sent))
            try:
                self.control.sendall(b"".join(frames))
            except OSError as exc:
                if _code(exc) in NOT_A_SOCKET_NOW:
                    self.lose()
                    return 0
                os._exit(0)  # the notebook is gone: so is the program
            self._notes_sent += notes
            return count - notes

    def _report_unwatched(self) -> list[bytes]:
        """Note frames for the ports of sockets only the audit hook saw (see
        _watch_unwatched_sockets)."""
        audited = dict(self.audited)
        # Every event's last arguments, let go: a socket the program dropped must close now.
        self.audited.clear()
        for event in _AUDITED:
            args = audited.get(event)
            sock = args[0] if args else None
            if sock is None or type(sock) in self.watched_types:
                continue
            key = (id(sock), sock.fileno())
            if key not in self._unwatched_seen and sock.family in _IP_FAMILIES:
                self._unwatched_seen.add(key)
                self.unwatched.append((sock, event != "socket.bind", 0))
        later, frames = [], []
        while self.unwatched:
            sock, implicit, tries = self.unwatched.pop()
            address = _address_of(sock)
            if address and address[1]:
                host, port = address
                note = wire.note("bound", sock=sock.fileno(), proto=_proto(sock), host=host,
                                 port=port, implicit=implicit)  # fmt: skip
                frames.append(note)
            elif address and tries < 20:  # the event comes before the call: not bound yet
                later.append((sock, implicit, tries + 1))
        self.unwatched.extend(later)
        return frames

    # -- the notebook's side -------------------------------------------------------------------

    def _listen(self) -> None:
        """Read the notebook's requests; when the connection closes, the kernel is gone."""
        buffer = b""
        while True:
            if self._replaced():  # a recv now would read from the program's own file
                return self.lose()
            try:
                data = self.control.recv(4096)
            except OSError as exc:
                if _code(exc) in NOT_A_SOCKET_NOW:
                    return self.lose()
                data = b""
            if not data:
                if self.lost:  # lose() ended the connection itself: the program runs on
                    return
                os._exit(0)  # the kernel died or restarted: leave no program behind
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                if request.get("do") == "flush":
                    self.note("flushed", token=request.get("token"))
                elif request.get("do") == "hurry":
                    _hurry_for(request.get("seconds"))
                else:
                    asked = request.get("asked")
                    with self._answered:
                        if asked in self._waiting_for:  # else late, after its asker gave up
                            self._answers[asked] = request
                            self._answered.notify_all()

    def _replaced(self) -> bool:
        """True once the connection's descriptor number holds another file: closed behind
        os.close's back (a C library, ctypes) and reused by the program's next socket, or
        replaced by os.dup2. A send there would go to the program's socket (or fail and end
        the program as if the notebook were gone); a recv would take the program's data."""
        return self._identity is not None and _identity(self.fd) != self._identity

    def lose(self) -> None:
        """The program closed or replaced the connection's descriptor (os.dup2, a C library):
        it runs on, as it would plainly, but unwatched; it says so, once, where the student
        looks (the notebook sees the connection end, and says so too)."""
        if self.lost:
            return
        self.lost = True
        self.set_budget(0)
        # The connection stays open while _listen's recv runs on it, descriptor or not: end it
        # through the spare descriptor, so the notebook sees it end (and says so).
        if self._spare is not None:
            try:
                _real_socket(fileno=self._spare).shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        print(
            f"labsock: this program closed file descriptor {self.fd}, labsock's connection to "
            "it, so labsock no longer sees what its sockets do (the log stays as it is); the "
            "program runs on. Stop ends it as before.",
            file=sys.stderr,
            flush=True,
        )

    def ask(self, event: str, timeout: float = 3.0, **fields) -> dict | None:
        """Send a question to the notebook and wait for its answer (None after timeout)."""
        with self._answered:
            asked = next(self._questions)
            self._waiting_for.add(asked)
        try:
            self.note(event, asked=asked, **fields)
            with self._answered:
                self._answered.wait_for(lambda: asked in self._answers, timeout)
                return self._answers.pop(asked, None)
        finally:
            with self._answered:
                self._waiting_for.discard(asked)
                self._answers.pop(asked, None)


def _proto(sock) -> str:
    return "tcp" if sock.type == socket.SOCK_STREAM else "udp"


def _blame(exc: OSError, action: str, sock, address=None) -> None:
    """Remember which call failed, so the explanation can name the port and what to check."""
    try:
        exc.labsock_call = (action, _proto(sock), address)
    except AttributeError:
        pass


def _peer(address):
    try:
        return (str(address[0]), int(address[1]))
    except (TypeError, ValueError, IndexError):
        return None


_IP_FAMILIES = {socket.AF_INET, getattr(socket, "AF_INET6", socket.AF_INET)}


def _address_of(sock):
    """(host, port) of an IP socket; None for any other kind (AF_UNIX has a path, not a port)."""
    try:
        if sock.family not in _IP_FAMILIES:
            return None
        host, port = sock.getsockname()[:2]
    except (OSError, ValueError, TypeError):
        return None
    return host, port


def watched_socket_class(reporter: Reporter):
    """socket.socket's stand-in; also puts one in for _socket.socket (see _watched_methods)."""
    methods, raw_class = _watched_methods(reporter)
    real = _real_socket
    note, waiting = reporter.note, reporter.waiting

    class socket_(real):  # noqa: N801 (it stands in for socket.socket)
        """socket.socket, reporting what it does to the notebook."""

        __slots__ = ("_labsock_fd", "_labsock_known", "_labsock_to")

        def __init__(self, *args, **kwargs):
            real.__init__(self, *args, **kwargs)
            _begin_watching(self)

        def accept(self):
            if not reporter.waited and self.gettimeout() != 0 and _would_wait(self):
                waiting("accept")
            try:
                conn, peer = real.accept(self)
            except OSError as exc:
                _blame(exc, "accept", self)
                raise
            if conn._labsock_fd is not None:
                conn._labsock_known = True
                note("accepted", sock=conn.fileno(), listener=self.fileno(), peer=_peer(peer))
            return conn, peer

    return _install(socket_, real, "socket", methods, note), raw_class


def _install(stand_in: type, real: type, module: str, methods: dict, note) -> type:
    """Give the stand-in for `real` the watched calls and a watched close, and real's name
    (`module`.socket), as tracebacks and repr() show it."""
    real_close = real.close

    def close(self):
        if self._labsock_fd is not None and self.fileno() != -1:
            note("closed", sock=self.fileno())
        real_close(self)

    for name, method in (*methods.items(), ("close", close)):
        setattr(stand_in, name, method)
    stand_in.__name__ = stand_in.__qualname__ = "socket"
    stand_in.__module__ = module
    return stand_in


def _begin_watching(sock) -> None:
    # None: not an IP socket (AF_UNIX, AF_PACKET...): nothing of it is reported or recorded.
    sock._labsock_fd = sock.fileno() if sock.family in _IP_FAMILIES else None
    sock._labsock_known = False  # its port reported to the notebook
    sock._labsock_to = None  # where it last sent: the peer a timeout is about


def _watched_methods(reporter: Reporter):
    """The watched calls, shared by socket.socket's stand-in and _socket.socket's.

    They call _socket.socket's own methods, which both classes have (socket.socket adds accept,
    makefile and close in Python; accept and close are watched in watched_socket_class, and
    makefile's reads and writes come back here through recv_into and send or sendall).
    """
    note, waiting = reporter.note, reporter.waiting
    keep, now, kept = reporter.pending.append, _now, _kept
    # Closure variables, not attributes: the cheapest state Python has for the hot path. Only
    # the program's thread changes the counts; the reporter only reads them.
    budget = RECORD_BURST  # records allowed until the reporter's next batch
    unrecorded_in = unrecorded_out = 0  # counted, not recorded: received, sent

    def record(kind: int, sock_id, data, size: int) -> None:
        """A chunk received or sent on a TCP socket (its peer is known from accept/connect)."""
        nonlocal budget, unrecorded_in, unrecorded_out
        if sock_id is None:
            return  # not an IP socket
        if budget:
            budget -= 1
            # A slice and a copy cost more than the rest of the record: skip both when the
            # chunk is already bytes short enough to keep whole (the usual case).
            if size > kept or data.__class__ is not bytes:
                data = bytes(data[:kept])
            keep((kind, now(), sock_id, None, data, size))
        elif kind == received:
            unrecorded_in += 1
        else:
            unrecorded_out += 1

    def set_budget(records: int) -> None:
        nonlocal budget
        budget = records

    reporter.set_budget = set_budget
    reporter.unrecorded = lambda: (unrecorded_in, unrecorded_out)
    real = _real_raw_socket
    real_recvfrom, real_recv, real_sendto = real.recvfrom, real.recv, real.sendto
    real_send, real_sendall = real.send, real.sendall
    real_recv_into, real_recvfrom_into = real.recv_into, real.recvfrom_into
    received, sent = wire.RECEIVED, wire.SENT

    def announce(self) -> None:
        """A client socket's port is chosen by the system at its first send: report it."""
        if not self._labsock_known:
            self._labsock_known = True
            address = _address_of(self)
            if address:
                note("bound", sock=self.fileno(), proto=_proto(self), host=address[0],
                     port=address[1], implicit=True)  # fmt: skip

    def bind(self, address):
        reuse_added = False
        if self.type == socket.SOCK_STREAM and self._labsock_fd is not None:
            reuse_added = _allow_quick_rebind(self)
        try:
            real.bind(self, address)
        except OSError as exc:
            if (
                self._labsock_fd is None
                or _code(exc) not in ADDRESS_IN_USE
                or not _free_the_port(reporter, self, address)
            ):
                _blame(exc, "bind", self, address)
                raise
            real.bind(self, address)  # the notebook stopped the program that held it
        self._labsock_known = True
        bound = _address_of(self)
        if bound:
            note("bound", sock=self.fileno(), proto=_proto(self), host=bound[0], port=bound[1],
                 reuse_added=reuse_added)  # fmt: skip

    def listen(self, *args):
        real.listen(self, *args)
        if self._labsock_fd is not None:
            note("listening", sock=self.fileno())

    def connected(self, address, peer=None) -> None:
        if self._labsock_fd is not None:
            announce(self)
            self._labsock_to = address
            note("connected", sock=self.fileno(), peer=_peer(peer or address))

    def connect(self, address):
        try:
            real.connect(self, address)
        except BlockingIOError:  # a non-blocking connect (asyncio's) has begun: its port is set
            connected(self, address)
            raise
        except OSError as exc:
            _blame(exc, "connect", self, address)
            raise
        connected(self, address, self.getpeername())

    def connect_ex(self, address):
        code = real.connect_ex(self, address)
        if code in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            connected(self, address)
        return code

    # recvfrom and sendto run for every datagram: their bookkeeping is written inline (no
    # helper call), because a UDP server under labsock must keep the pace of the same server
    # run plainly (bench/bench_programs.py). TCP's calls share record().

    def recvfrom(self, size, flags=0):
        nonlocal budget, unrecorded_in
        if not reporter.waited and self.gettimeout() != 0 and _would_wait(self):
            waiting("recvfrom")
        try:
            data, peer = real_recvfrom(self, size, flags)
        except OSError as exc:
            _blame(exc, "receive", self, self._labsock_to)
            raise
        sock_id = self._labsock_fd
        if sock_id is None:
            pass
        elif budget:
            budget -= 1
            size = len(data)
            keep((received, now(), sock_id, peer, data if size <= kept else data[:kept], size))
        else:
            unrecorded_in += 1
        return data, peer

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        nonlocal budget, unrecorded_in
        if not reporter.waited and self.gettimeout() != 0 and _would_wait(self):
            waiting("recvfrom_into")
        try:
            count, peer = real_recvfrom_into(self, buffer, nbytes, flags)
        except OSError as exc:
            _blame(exc, "receive", self, self._labsock_to)
            raise
        sock_id = self._labsock_fd
        if sock_id is None:
            pass
        elif budget:
            budget -= 1
            data = bytes(memoryview(buffer).cast("B")[: min(count, kept)])
            keep((received, now(), sock_id, peer, data, count))
        else:
            unrecorded_in += 1
        return count, peer

    def recv(self, size, flags=0):
        if not reporter.waited and self.gettimeout() != 0 and _would_wait(self):
            waiting("recv")
        try:
            data = real_recv(self, size, flags)
        except OSError as exc:
            _blame(exc, "receive", self, self._labsock_to)
            raise
        record(received, self._labsock_fd, data, len(data))
        return data

    def recv_into(self, buffer, nbytes=0, flags=0):
        """Also what makefile()'s reads (rfile.readline) call."""
        if not reporter.waited and self.gettimeout() != 0 and _would_wait(self):
            waiting("recv_into")
        try:
            count = real_recv_into(self, buffer, nbytes, flags)
        except OSError as exc:
            _blame(exc, "receive", self, self._labsock_to)
            raise
        if self._labsock_fd is not None:
            record(received, self._labsock_fd, memoryview(buffer).cast("B")[:count], count)
        return count

    def sendto(self, data, flags, address=None):
        nonlocal budget, unrecorded_out
        if address is None:  # sendto(data, address), as almost everyone writes it
            flags, address = 0, flags
        try:
            count = real_sendto(self, data, flags, address)
        except OSError as exc:
            _blame(exc, "send", self, address)
            raise
        sock_id = self._labsock_fd
        if sock_id is None:
            return count
        if not self._labsock_known:
            announce(self)
        self._labsock_to = address
        if budget:
            budget -= 1
            size = len(data)
            # data itself when it is bytes short enough (a slice and a copy would cost a third
            # of what watching a datagram costs); a bytearray the program may change is copied.
            if size > kept or data.__class__ is not bytes:
                data = bytes(data[:kept])
            keep((sent, now(), sock_id, address, data, size))
        else:
            unrecorded_out += 1
        return count

    def send(self, data, flags=0):
        try:
            count = real_send(self, data, flags)
        except OSError as exc:
            _blame(exc, "send", self, self._labsock_to)
            raise
        record(sent, self._labsock_fd, memoryview(data).cast("B")[: min(count, kept)], count)
        return count

    def sendall(self, data, flags=0):
        """Also what socketserver's wfile.write calls."""
        try:
            real_sendall(self, data, flags)
        except OSError as exc:
            _blame(exc, "send", self, self._labsock_to)
            raise
        view = memoryview(data).cast("B")
        record(sent, self._labsock_fd, view[:kept], len(view))

    methods = {
        "bind": bind, "listen": listen, "connect": connect, "connect_ex": connect_ex,
        "recvfrom": recvfrom, "recvfrom_into": recvfrom_into, "recv": recv, "recv_into": recv_into,
        "sendto": sendto, "send": send, "sendall": sendall, "_announce": announce,
    }  # fmt: skip

    class raw_socket(real):  # noqa: N801 (it stands in for _socket.socket)
        """_socket.socket, watched as socket.socket is: some programs make theirs from it."""

        __slots__ = ("_labsock_fd", "_labsock_known", "_labsock_to")

        def __init__(self, *args, **kwargs):
            real.__init__(self, *args, **kwargs)
            # socket.socket.__init__ calls _socket.socket.__init__, now this one: its own
            # stand-in sets its own fields.
            if isinstance(self, raw_socket):
                _begin_watching(self)

    return methods, _install(raw_socket, real, "_socket", methods, note)


def _code(exc: OSError):
    return getattr(exc, "winerror", None) or exc.errno


def _allow_quick_rebind(sock) -> bool:
    """SO_REUSEADDR (POSIX) or SO_EXCLUSIVEADDRUSE (Windows) on a TCP socket; True if we set
    SO_REUSEADDR, which the student's view then mentions (the way to it outside labsock).

    Windows: a TIME_WAIT never blocks a bind there, and SO_REUSEADDR would let another program
    take the port, so there is nothing to tell, and nothing the student should copy."""
    if sys.platform == "win32":
        option = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
        if option is None:
            return False
    else:
        option = socket.SO_REUSEADDR
    try:
        if sock.getsockopt(socket.SOL_SOCKET, option):
            return False  # the student set it already
        sock.setsockopt(socket.SOL_SOCKET, option, 1)
    except OSError:
        return False
    return sys.platform != "win32"


def _free_the_port(reporter: Reporter, sock, address) -> bool:
    """Ask the notebook to stop its own program or server on this port; True: try again."""
    peer = _peer(address) or ("", 0)
    answer = reporter.ask("port busy", proto=_proto(sock), host=peer[0], port=peer[1])
    return bool(answer and answer.get("retry"))


def _watch_input(reporter: Reporter) -> None:
    def input(prompt=""):  # noqa: A001 (it stands in for the built-in)
        text = str(prompt)
        sys.stdout.write(text)
        sys.stdout.flush()
        reporter.waited = True
        reporter.note("input", prompt=text, printed=PRINTED.bytes)
        line = sys.stdin.readline()
        if not line:
            raise EOFError("nothing more was typed for this program")
        line = line.rstrip("\r\n")
        # A terminal shows what was typed after the prompt; a pipe does not: write it ourselves.
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        reporter.note("typed")
        return line

    builtins.input = input


# During a self-check the notebook may ask the program to hurry: each time.sleep then lasts at
# most HURRIED_PAUSE, so a client that counts to 100 with a pause of 0.2 s gets there in a second,
# not in twenty. The check says so; the program's own code and output are unchanged.
HURRIED_PAUSE = 0.002
_hurry_until = [0.0]  # time.monotonic() until which pauses are shortened
_monotonic = time.monotonic


def _hurry_for(seconds) -> None:
    try:
        _hurry_until[0] = _monotonic() + max(0.0, min(float(seconds), 60.0))
    except (TypeError, ValueError):
        pass


def _watch_sleep(reporter: Reporter) -> None:
    def sleep(seconds):
        if not reporter.waited:
            reporter.waiting("sleep")
        if _hurry_until[0] and isinstance(seconds, (int, float)) and _monotonic() < _hurry_until[0]:
            seconds = min(seconds, HURRIED_PAUSE)
        _real_sleep(seconds)

    time.sleep = sleep


def _watch_unwatched_sockets(reporter: Reporter, watched: tuple) -> None:
    """Ports of sockets made where no stand-in reaches: a C extension makes its sockets in C.
    Python's audit events for bind, connect and sendto name them.

    Only once the program loads an extension module from outside the standard library: with
    any audit hook at all, every sendto of every datagram pays for the event (0.6 us here,
    about 8 % of a textbook server's CPU a datagram), and the standard library's sockets are
    all watched already. The hook is a dict's own __setitem__, keeping the last arguments of
    each event; the reporter looks at the last bind, connect and sendto at each batch (see
    Reporter._report_unwatched), so two such sockets made within 50 ms may show as one: a
    backstop, for ports only (such sockets are not logged and their waits not seen)."""
    from importlib.machinery import ExtensionFileLoader

    reporter.watched_types = watched
    standard = os.path.dirname(getattr(_socket, "__file__", None) or "?")  # lib-dynload
    create_module = ExtensionFileLoader.create_module

    def create_watched_module(loader, spec):
        if os.path.dirname(spec.origin or "") != standard:
            ExtensionFileLoader.create_module = create_module  # once is enough
            sys.addaudithook(reporter.audited.__setitem__)
        return create_module(loader, spec)

    ExtensionFileLoader.create_module = create_watched_module


def _identity(fd: int) -> tuple | None:
    """(device, inode) of the file descriptor fd holds now; None where fstat cannot tell
    (a socket handle on Windows)."""
    if sys.platform == "win32":
        return None
    try:
        status = os.fstat(fd)
    except OSError:
        return ()  # closed: not the connection's
    return status.st_dev, status.st_ino


# Where the spare copy of the connection goes: at 1000 or above, out of the way of the numbers
# programs close or replace (3 to 255). Where the soft limit of open files is lower (macOS: 256),
# as high below it as is free, yet above 63: a program that replaces 3 to 63 still leaves it.
SPARE_AT = 1000
SPARE_ABOVE = 63


def _spare_descriptor(fd: int) -> int | None:
    """A copy of the connection's descriptor, numbered above what programs close, or None where
    the system allows no such number."""
    try:
        import fcntl
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError, AttributeError):
        return None
    unlimited = soft == resource.RLIM_INFINITY or soft < 0
    highest = SPARE_AT if unlimited or soft > SPARE_AT else soft - 1
    # F_DUPFD takes the lowest free number from `start` up: from the top down, the first that
    # finds one gives the highest free number below the limit.
    for start in range(highest, SPARE_ABOVE, -1):
        try:
            return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, start)
        except OSError as exc:
            if exc.errno not in (errno.EMFILE, errno.EINVAL):
                return None
        except AttributeError:
            return None
    return None


def _keep_control_open(mine: int) -> None:
    """A server that closes every inherited descriptor (os.closerange(3, 256), as daemons do)
    closes only its own: in a plain run labsock's descriptor does not exist, and os.close of
    it fails as it would there."""
    real_close, real_closerange = os.close, os.closerange

    def close(fd):
        if fd == mine:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        real_close(fd)

    def closerange(low, high):
        if low <= mine < high:
            real_closerange(low, mine)
            real_closerange(mine + 1, high)
        else:
            real_closerange(low, high)

    os.close, os.closerange = close, closerange


_real_select = select.select  # before _watch_selects wraps it


def _would_wait(sock) -> bool:
    """False when something is already there to take (a recv from a socket pair that holds a
    byte returns at once): only a call that really waits is the program's first wait. Asked only
    until that first wait, so a server's own datagrams pay nothing for it."""
    try:
        return not _real_select([sock], [], [], 0)[0]
    except (OSError, ValueError):  # ValueError: a descriptor above select's limit
        return True


def _blocks(timeout) -> bool:
    """Would a select, poll or selector with this timeout wait? (0 or less only looks.)"""
    return timeout is None or timeout > 0


def _watch_selects(reporter: Reporter) -> None:
    """socketserver, asyncio and a program's own select loop wait in select, poll, epoll or a
    selectors.Selector, not in recvfrom or accept: their first wait there is the program's.

    Only until the first wait: after it, each call costs one test of reporter.waited."""

    def first_wait(wait, name: str, timeout_at: int, milliseconds: bool = False):
        def watched(*args, **kwargs):
            if not reporter.waited:
                timeout = args[timeout_at] if len(args) > timeout_at else kwargs.get("timeout")
                if milliseconds and timeout is not None and timeout < 0:
                    timeout = None  # poll's -1: wait for ever
                if _blocks(timeout):
                    reporter.waiting(name)
            return wait(*args, **kwargs)

        return watched

    # The selectors classes, which socketserver and asyncio use: made before the program runs.
    for name in ("SelectSelector", "PollSelector", "EpollSelector", "DevpollSelector",
                 "KqueueSelector"):  # fmt: skip
        selector = getattr(selectors, name, None)
        if selector is not None:
            selector.select = first_wait(selector.select, "select", 1)
    select.select = first_wait(select.select, "select", 3)
    for name, timeout_at, milliseconds in (("poll", 0, True), ("epoll", 0, False),
                                           ("devpoll", 0, True)):  # fmt: skip
        if hasattr(select, name):
            setattr(select, name, _watched_poller(getattr(select, name), first_wait, name,
                                                  timeout_at, milliseconds))  # fmt: skip
    if sys.platform == "win32":  # asyncio's default loop there waits in no selector
        _when_imported(
            "asyncio.windows_events", lambda module: _watch_proactor(module.IocpProactor, reporter)
        )


def _watch_proactor(proactor: type, reporter: Reporter) -> None:
    """Windows: asyncio's ProactorEventLoop waits in its IocpProactor's select(timeout), with
    completions, not a selector: its first wait there is the program's. Not when completions
    are already waiting in `_results` (it returns them without waiting)."""
    real = proactor.select

    def select(self, timeout=None):
        if not reporter.waited and not self._results and _blocks(timeout):
            reporter.waiting("select")
        return real(self, timeout)

    proactor.select = select


def _when_imported(name: str, then) -> None:
    """then(module) once module `name` has run, if the program imports it. Not imported here:
    asyncio would add its import time to every program's start, and most never use it."""

    class Finder:
        @staticmethod
        def find_spec(fullname, path, target=None):
            if fullname != name:
                return None
            sys.meta_path.remove(Finder)  # once; the finders after it find the module
            from importlib.machinery import PathFinder

            spec = PathFinder.find_spec(fullname, path, target)
            loader = spec.loader if spec else None
            if loader is not None and hasattr(loader, "exec_module"):
                exec_module = loader.exec_module

                def exec_then(module):
                    exec_module(module)
                    then(module)

                loader.exec_module = exec_then  # this module's own loader, made for it
            return spec

    sys.meta_path.insert(0, Finder)


def _watched_poller(make, first_wait, name: str, timeout_at: int, milliseconds: bool):
    """select.poll() and select.epoll() objects cannot be subclassed: wrap the one made."""

    def wrap(poller):
        return _Poller(poller, first_wait(poller.poll, name, timeout_at, milliseconds))

    def made(*args, **kwargs):
        return wrap(make(*args, **kwargs))

    made.__name__ = name
    if hasattr(make, "fromfd"):  # select.epoll.fromfd(fd)
        made.fromfd = lambda fd: wrap(make.fromfd(fd))
    return made


class _Poller:
    """A select.poll or select.epoll object whose poll() reports the program's first wait."""

    __slots__ = ("_poller", "poll")

    def __init__(self, poller, poll):
        self._poller = poller
        self.poll = poll

    def __getattr__(self, name):
        return getattr(self._poller, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._poller.close()


class CountedOutput(io.RawIOBase):
    """The program's stdout and stderr (one pipe), counting the bytes written to it."""

    def __init__(self, fd: int):
        self.fd = fd
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        written = os.write(self.fd, data)
        self.bytes += written
        return written

    def fileno(self) -> int:
        return self.fd


PRINTED = CountedOutput(1)


def _count_output() -> None:
    """Unbuffered, as `python -u`, and counted: both streams go to the notebook's one pipe."""
    for name in ("stdout", "stderr"):
        stream = io.TextIOWrapper(
            PRINTED, encoding="utf-8", errors="backslashreplace", write_through=True
        )
        setattr(sys, name, stream)


def _lowest_descriptor(number: int) -> int:
    """The channel moved to the lowest free descriptor (3 in every run). Inherited, its number
    is whatever the kernel's next free descriptor was, which grows with the files and sockets
    the kernel holds: a program that closes or replaces descriptors 3 to 63 would meet
    labsock's in one run and miss it in the next (then it ran on unwatched, and its end looked
    like a silent exit with code 0). Windows hands down a socket handle: left as it is."""
    if sys.platform == "win32":
        return number
    low = os.dup(number)  # the lowest free number, not inherited by the program's children
    if low > number:
        os.close(low)
        return number
    os.close(number)
    return low


def _take_control(number: int) -> socket.socket:
    """The program's end of the socket pair the notebook made (see process.py): inherited as
    file descriptor (POSIX) or socket handle (Windows) `number`. Not passed on to the
    program's own children (a child holding it would keep the notebook listening)."""
    control = _real_socket(fileno=number)
    control.set_inheritable(False)
    return control


def _arguments(argv: list[str]) -> tuple[int, str]:
    """bootstrap.py --control N PROGRAM.py: the channel's number and the program's path."""
    if len(argv) != 4 or argv[1] != "--control" or not argv[2].isdigit():
        sys.exit("bootstrap.py is started by labsock (--control N PROGRAM.py), not by hand.")
    return int(argv[2]), argv[3]


def run(path: str, reporter: Reporter) -> int:
    with open(path, encoding="utf-8") as file:
        source = file.read()
    program = types.ModuleType("__main__")
    program.__file__ = path
    sys.modules["__main__"] = program
    sys.argv = [path]
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    _explain_thread_failures(reporter, path, source)
    try:
        code = compile(source, path, "exec")
        exec(code, program.__dict__)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(_said(exc.code), file=sys.stderr, flush=True)  # as Python does: sys.exit("text")
        return 1
    except BaseException as exc:  # every failure becomes one plain explanation
        sys.stdout.flush()
        text, line = _explain(exc, path, source)
        print(text, file=sys.stderr, flush=True)
        call = bind_call(exc)  # also one a library's own OSError hides (asyncio's)
        bind = None
        if call and isinstance(call[2], tuple):
            bind = [call[1], call[2][1]]  # the protocol and port it could not bind
        reporter.note("failed", text=text, line=line, error=exc.__class__.__name__, bind=bind)
        return 1
    return 0


def _said(value) -> str:
    """str(value), or words that say it could not be shown (a __str__ may itself fail)."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001 (anything a student's __str__ raises)
        return f"({type(value).__name__}: its message could not be shown)"


def _explain(exc: BaseException, path: str, source: str) -> tuple[str, int | None]:
    """explain_failure(), able to name the process that holds a port (the kernel: our parent),
    even for an exception whose __str__ or __repr__ fails."""
    from labsock.net.port_holders import closing_on, holder_of

    try:
        return explain_failure(
            exc,
            path,
            source,
            who_holds=holder_of,
            kernel_pid=_kernel_pid,
            other_notebook=_other_notebooks_holder,
            closing=closing_on,
            stopped=_stopped_holder,
        )
    except Exception:  # noqa: BLE001
        return (
            f"Your program stopped: {type(exc).__name__}, whose message could not be shown "
            "(its __str__ failed too).",
            None,
        )


def _other_notebooks_holder(proto: str, port: int):
    """Another notebook's program or server that holds the port (the notebooks' records): not
    one of this program's own notebook (the kernel's record), which is named otherwise."""
    from labsock.net import other_notebooks

    if _kernel_pid is None:  # whose record is its own notebook's is not known: no guess
        return None
    return other_notebooks.holder_of(proto, port, this_kernel=_kernel_pid)


def _stopped_holder(proto: str, host: str, port: int) -> str | None:
    """The notebook's words for its program that held the port a connect was refused on and
    that the student stopped: only the notebook knows what it stopped, so it is asked (None:
    no such program, or no answer)."""
    reporter = _reporter
    if reporter is None or reporter.lost:
        return None
    answer = reporter.ask("stopped holder", ASK_TIMEOUT, proto=proto, host=host[:255], port=port)
    said = answer.get("said") if isinstance(answer, dict) else None
    return said if isinstance(said, str) and said else None


def _explain_thread_failures(reporter: Reporter, path: str, source: str) -> None:
    def hook(args):
        if args.exc_type is SystemExit:
            return
        text, line = _explain(args.exc_value, path, source)
        name = _said(args.thread.name) if args.thread else "a thread"
        print(f"({name}) {text}", file=sys.stderr, flush=True)
        # Not "failed": as in a plain run, a thread's exception does not change the exit code.
        reporter.note("thread failed", text=text, line=line, error=args.exc_type.__name__)

    threading.excepthook = hook


_kernel_pid: int | None = None  # the notebook's kernel (set by main)
_reporter: Reporter | None = None  # the notebook's connection (set by main)


def main() -> None:
    global _kernel_pid, _reporter
    # Taken before the supervisor forks: from then on the program's parent is the supervisor.
    _kernel_pid = os.getppid()
    control, path = _arguments(sys.argv)
    control = _lowest_descriptor(control)
    if sys.platform.startswith("linux"):
        from labsock.net.programs.supervisor import supervise

        supervise(control)  # returns in the program's process (see supervisor.py)
    _count_output()
    reporter = _reporter = Reporter(_take_control(control))
    socket.socket, _socket.socket = watched_socket_class(reporter)
    _watch_input(reporter)
    _watch_sleep(reporter)
    _watch_selects(reporter)
    _keep_control_open(reporter.fd)
    _watch_unwatched_sockets(reporter, (socket.socket, _socket.socket))
    status = run(path, reporter)
    sys.stdout.flush()
    # As in a plain run, Python now waits for the program's own threads, then runs atexit.
    atexit.register(_last_report, reporter, status)
    sys.exit(status)


def _last_report(reporter: Reporter, status: int) -> None:
    sys.stdout.flush()
    reporter.note("exiting", status=status)
    reporter.flush()


if __name__ == "__main__":
    main()
