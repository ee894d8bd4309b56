"""Runs a student's program as its own process, unchanged, and tells the notebook what it does.

    python -u bootstrap.py --control N programs/udp_server.py

N is the program's end of a socket pair the notebook made and handed down (an inherited file
descriptor, or socket handle on Windows): no port, no secret in the environment.

Started by labsock.net.programs.job, never by hand. Before the program runs, three things are
watched, without changing what the program sees:

- every socket it makes (socket.socket is replaced by a subclass): each bind, listen, accept,
  connect and close is reported at once, and each datagram or chunk received or sent goes into a
  batch sent every 50 ms, so the notebook can log, count and check what the program's server saw;
- the first time the program waits (recvfrom, accept, recv, input() or time.sleep), the notebook
  hears about it at once: the cell that started the program returns exactly then;
- input() asks the notebook for a line (the program's stdin is a pipe the notebook writes to).

On a TCP socket, bind also sets SO_REUSEADDR (SO_EXCLUSIVEADDRUSE on Windows): without it, a server
that served clients could not be started again for about a minute (TIME_WAIT).

When the notebook's kernel goes away, the control channel closes and the program ends with it.
A failure is explained in plain words with the student's line, instead of a traceback of ours.
"""

from __future__ import annotations

import atexit
import builtins
import errno
import io
import json
import os
import socket
import sys
import threading
import time
import types

# This file runs as a script: make the labsock package it belongs to importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))))

from labsock.logic import wire  # noqa: E402
from labsock.logic.program_errors import explain_failure  # noqa: E402

FLUSH_EVERY = 0.05  # seconds between two batches: fast enough for a live view, cheap for a flood
# How many datagrams and chunks are recorded in full: a burst of RECORD_BURST, then RECORD_RATE
# a second. Beyond that they are counted, not recorded, so a flood cannot fill memory (at most
# RECORD_BURST x 512 bytes wait for a batch). The bound is high on purpose: a record left out
# would look like a lost datagram in the counting table, so a Python sender at full speed
# (about 50,000 a second) is still recorded whole.
RECORD_RATE = 100_000
RECORD_BURST = 100_000
BATCH_RECORDS = 4_000  # records in one frame: at most 4,000 x 512 bytes kept, 2 MB
ADDRESS_IN_USE = {errno.EADDRINUSE, 98, 48, 10048}

_real_socket = socket.socket
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
        # Set by watched_socket_class: the record budget, and the counts of what it left out.
        self.set_budget = lambda records: None
        self.unrecorded = lambda: (0, 0)
        self._unrecorded_sent = (0, 0)
        self._send_lock = threading.Lock()
        self._urgent = threading.Event()
        self._answers: list = []
        self._answered = threading.Condition()
        threading.Thread(target=self._send_batches, name="labsock-report", daemon=True).start()
        threading.Thread(target=self._listen, name="labsock-listen", daemon=True).start()

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
            now = time.monotonic()
            tokens = min(RECORD_BURST, tokens - recorded + (now - last) * RECORD_RATE)
            last = now
            self.set_budget(max(int(tokens), 0))

    def flush(self) -> int:
        """Send what is pending; returns how many records went (notes not counted)."""
        with self._send_lock:
            count = len(self.pending)
            unrecorded = self.unrecorded()
            if not count and unrecorded == self._unrecorded_sent:
                return 0
            # Read after `count`: every note among the first `count` items is counted here.
            no_notes = self._notes_added == self._notes_sent
            taken = self.pending[:count]
            # Only the writer appends, and only at the end: removing the head we copied is safe.
            del self.pending[:count]
            frames, records = [], []
            notes = 0
            if no_notes:
                frames = [
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
            except OSError:
                os._exit(0)  # the notebook is gone: so is the program
            self._notes_sent += notes
            return count - notes

    # -- the notebook's side -------------------------------------------------------------------

    def _listen(self) -> None:
        """Read the notebook's requests; when the connection closes, the kernel is gone."""
        buffer = b""
        while True:
            try:
                data = self.control.recv(4096)
            except OSError:
                data = b""
            if not data:
                os._exit(0)  # the kernel died or restarted: leave no program behind
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                if request.get("do") == "flush":
                    self.note("flushed", token=request.get("token"))
                else:
                    with self._answered:
                        self._answers.append(request)
                        self._answered.notify_all()

    def ask(self, event: str, timeout: float = 3.0, **fields) -> dict | None:
        """Send a question to the notebook and wait for its answer (None after timeout)."""
        with self._answered:
            self._answers.clear()
        self.note(event, **fields)
        with self._answered:
            self._answered.wait_for(lambda: self._answers, timeout)
            return self._answers.pop(0) if self._answers else None


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


def watched_socket_class(reporter: Reporter):
    note, waiting = reporter.note, reporter.waiting
    keep, now, kept = reporter.pending.append, _now, _kept
    # Closure variables, not attributes: the cheapest state Python has for the hot path. Only
    # the program's thread changes the counts; the reporter only reads them.
    budget = RECORD_BURST  # records allowed until the reporter's next batch
    unrecorded_in = unrecorded_out = 0  # counted, not recorded: received, sent

    def record(kind: int, sock_id: int, data: bytes, size: int) -> None:
        """A chunk received or sent on a TCP socket (its peer is known from accept/connect)."""
        nonlocal budget, unrecorded_in, unrecorded_out
        if budget:
            budget -= 1
            keep((kind, now(), sock_id, None, data[:kept], size))
        elif kind == received:
            unrecorded_in += 1
        else:
            unrecorded_out += 1

    def set_budget(records: int) -> None:
        nonlocal budget
        budget = records

    reporter.set_budget = set_budget
    reporter.unrecorded = lambda: (unrecorded_in, unrecorded_out)
    real = _real_socket
    real_recvfrom, real_recv, real_sendto = real.recvfrom, real.recv, real.sendto
    real_send, real_sendall = real.send, real.sendall
    received, sent = wire.RECEIVED, wire.SENT

    class socket_(real):  # noqa: N801 (it stands in for socket.socket)
        """socket.socket, reporting what it does to the notebook."""

        __slots__ = ("_labsock_fd", "_labsock_known", "_labsock_to")

        def __init__(self, *args, **kwargs):
            real.__init__(self, *args, **kwargs)
            self._labsock_fd = real.fileno(self)  # names the socket in the reports
            self._labsock_known = False  # its port reported to the notebook
            self._labsock_to = None  # where it last sent: the peer a timeout is about

        def bind(self, address):
            reuse_added = False
            if self.type == socket.SOCK_STREAM:
                reuse_added = _allow_quick_rebind(self)
            try:
                real.bind(self, address)
            except OSError as exc:
                if _code(exc) not in ADDRESS_IN_USE or not _free_the_port(reporter, self, address):
                    _blame(exc, "bind", self, address)
                    raise
                real.bind(self, address)  # the notebook stopped the program that held it
            self._labsock_known = True
            host, port = self.getsockname()[:2]
            note("bound", sock=self.fileno(), proto=_proto(self), host=host, port=port,
                 reuse_added=reuse_added)  # fmt: skip

        def listen(self, *args):
            real.listen(self, *args)
            note("listening", sock=self.fileno())

        def accept(self):
            if not reporter.waited:
                waiting("accept")
            try:
                conn, peer = real.accept(self)
            except OSError as exc:
                _blame(exc, "accept", self)
                raise
            conn._labsock_known = True
            note("accepted", sock=conn.fileno(), listener=self.fileno(), peer=_peer(peer))
            return conn, peer

        def connect(self, address):
            try:
                real.connect(self, address)
            except OSError as exc:
                _blame(exc, "connect", self, address)
                raise
            self._announce()
            self._labsock_to = address
            note("connected", sock=self.fileno(), peer=_peer(self.getpeername()))

        # recvfrom and sendto run for every datagram: their bookkeeping is written inline (no
        # helper call), because a UDP server under labsock must keep the pace of the same server
        # run plainly (bench/bench_programs.py). TCP's calls share record().

        def recvfrom(self, size, flags=0):
            nonlocal budget, unrecorded_in
            if not reporter.waited:
                waiting("recvfrom")
            try:
                data, peer = real_recvfrom(self, size, flags)
            except OSError as exc:
                _blame(exc, "receive", self, self._labsock_to)
                raise
            if budget:
                budget -= 1
                keep((received, now(), self._labsock_fd, peer, data[:kept], len(data)))
            else:
                unrecorded_in += 1
            return data, peer

        def recv(self, size, flags=0):
            if not reporter.waited:
                waiting("recv")
            try:
                data = real_recv(self, size, flags)
            except OSError as exc:
                _blame(exc, "receive", self, self._labsock_to)
                raise
            record(received, self._labsock_fd, data, len(data))
            return data

        def sendto(self, data, flags, address=None):
            nonlocal budget, unrecorded_out
            if address is None:  # sendto(data, address), as almost everyone writes it
                flags, address = 0, flags
            try:
                count = real_sendto(self, data, flags, address)
            except OSError as exc:
                _blame(exc, "send", self, address)
                raise
            if not self._labsock_known:
                self._announce()
            self._labsock_to = address
            if budget:
                budget -= 1
                keep((sent, now(), self._labsock_fd, address, bytes(data[:kept]), len(data)))
            else:
                unrecorded_out += 1
            return count

        def send(self, data, flags=0):
            try:
                count = real_send(self, data, flags)
            except OSError as exc:
                _blame(exc, "send", self, self._labsock_to)
                raise
            record(sent, self._labsock_fd, bytes(data[: min(count, kept)]), count)
            return count

        def sendall(self, data, flags=0):
            try:
                real_sendall(self, data, flags)
            except OSError as exc:
                _blame(exc, "send", self, self._labsock_to)
                raise
            record(sent, self._labsock_fd, bytes(data[:kept]), len(data))

        def close(self):
            if self.fileno() != -1:
                note("closed", sock=self.fileno())
            real.close(self)

        def _announce(self) -> None:
            """A client socket's port is chosen by the system at its first send: report it."""
            if not self._labsock_known:
                self._labsock_known = True
                host, port = self.getsockname()[:2]
                note("bound", sock=self.fileno(), proto=_proto(self), host=host, port=port,
                     implicit=True)  # fmt: skip

    socket_.__name__ = socket_.__qualname__ = "socket"
    socket_.__module__ = "socket"
    return socket_


def _code(exc: OSError):
    return getattr(exc, "winerror", None) or exc.errno


def _allow_quick_rebind(sock) -> bool:
    """SO_REUSEADDR (POSIX) or SO_EXCLUSIVEADDRUSE (Windows) on a TCP socket; True if we set it."""
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
    return True


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


def _watch_sleep(reporter: Reporter) -> None:
    def sleep(seconds):
        if not reporter.waited:
            reporter.waiting("sleep")
        _real_sleep(seconds)

    time.sleep = sleep


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
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # every failure becomes one plain explanation
        sys.stdout.flush()
        text, line = explain_failure(exc, path, source)
        print(text, file=sys.stderr, flush=True)
        call = getattr(exc, "labsock_call", None)
        bind = None
        if call and call[0] == "bind" and isinstance(call[2], tuple):
            bind = [call[1], call[2][1]]  # the protocol and port it could not bind
        reporter.note("failed", text=text, line=line, error=exc.__class__.__name__, bind=bind)
        return 1
    return 0


def _explain_thread_failures(reporter: Reporter, path: str, source: str) -> None:
    def hook(args):
        if args.exc_type is SystemExit:
            return
        text, line = explain_failure(args.exc_value, path, source)
        name = args.thread.name if args.thread else "a thread"
        print(f"({name}) {text}", file=sys.stderr, flush=True)
        reporter.note("failed", text=text, line=line, error=args.exc_type.__name__)

    threading.excepthook = hook


def main() -> None:
    control, path = _arguments(sys.argv)
    if sys.platform.startswith("linux"):
        from labsock.net.programs.supervisor import supervise

        supervise(control)  # returns in the program's process (see supervisor.py)
    _count_output()
    reporter = Reporter(_take_control(control))
    socket.socket = watched_socket_class(reporter)
    _watch_input(reporter)
    _watch_sleep(reporter)
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
