"""A student's program, run as its own process: start it, watch it, type to it, stop it.

    job = background(code, name="udp_server")   # returns once the program waits (or ended)
    job.output, job.ports, job.log               # what it printed, holds and received
    job.stop()                                   # returns once it has ended and its ports are free

The program is the student's code, unchanged, saved as programs/NAME.py (so a laptop without
Jupyter runs the same file with `python udp_server.py`) and run as `python -u` with a small
bootstrap (bootstrap.py) that reports what its sockets do over a loopback connection.

Why a process and not a thread: a thread blocked in recvfrom or accept cannot be stopped, a
`while True: try: ... except: pass` loop swallows any exception sent to it, and a thread's
prints land in whichever cell runs last. A process can always be ended, the system frees its
ports at once, and its output comes through a pipe we read.
"""

from __future__ import annotations

import atexit
import codecs
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from labsock.logic import wire
from labsock.logic.errors import LabsockError, NotWrittenYet
from labsock.logic.validation import ANY_ADDRESS
from labsock.net.interrupts import interruptible
from labsock.net.lifecycle import LifeCycle, clash, running, stop_all
from labsock.net.log import CONNECTED, DISCONNECTED, MessageLog, readable
from labsock.net.ports_here import note_start

BOOTSTRAP = str(Path(__file__).with_name("bootstrap.py"))
READY_TIMEOUT = 5.0  # seconds a cell waits for a program to start waiting
OUTPUT_LIMIT = 1_000_000  # characters of output a job keeps (the newest)
_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,63}"

# Every program started, running or ended, by name (the latest run of each): job(name) finds a
# finished one too. What runs now is in labsock.net.lifecycle's registry, with every other kind.
_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def job(name: str) -> Job:
    """The program started under this name (running or finished)."""
    with _jobs_lock:
        found = _jobs.get(name)
    if found is None:
        started = ", ".join(sorted(_jobs)) or "none yet"
        raise LabsockError(
            f"No program called {name!r} was started in this notebook (started: {started}). "
            f"Run the cell that starts it (%%background {name}) first."
        )
    return found


def jobs() -> list[Job]:
    with _jobs_lock:
        return list(_jobs.values())


def running_jobs() -> list[Job]:
    """The students' programs running now."""
    return running(Job)


def stop_jobs() -> None:
    """Stop every program started from this notebook."""
    stop_all(Job)


atexit.register(stop_jobs)


def check_name(name) -> str:
    if not isinstance(name, str) or not re.fullmatch(_NAME, name):
        raise LabsockError(
            f"{name!r} cannot name a program: its file is programs/NAME.py, so use letters, "
            "digits and _ only, starting with a letter, e.g. udp_server or c1."
        )
    return name


class Output:
    """What a program printed: the newest `limit` characters, and how many were dropped."""

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit = limit
        self.dropped = 0
        self.total = 0  # characters ever added: a cursor for readers that follow along
        self.lines_ended = 0  # newlines ever added: a view's count of the lines it hides
        self._chunks: deque[str] = deque()
        self._size = 0
        self._newlines = 0  # in the kept text: a redraw must not count them all again
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._chunks.append(text)
            self._size += len(text)
            newlines = text.count("\n")
            self._newlines += newlines
            self.lines_ended += newlines
            self.total += len(text)
            while self._size > self.limit and self._chunks:
                extra = self._size - self.limit
                first = self._chunks[0]
                if len(first) <= extra:
                    self._chunks.popleft()
                    cut = first
                else:
                    self._chunks[0] = first[extra:]
                    cut = first[:extra]
                self._size -= len(cut)
                self._newlines -= cut.count("\n")
                self.dropped += len(cut)

    def _newest(self, characters: int) -> str:
        """The newest `characters` characters kept (all of them if fewer), without joining the
        rest: a client's cell asks for what is new every 50 ms."""
        picked, size = [], 0
        for chunk in reversed(self._chunks):
            picked.append(chunk)
            size += len(chunk)
            if size >= characters:
                break
        return "".join(reversed(picked))[-characters:] if characters else ""

    def text(self) -> str:
        with self._lock:
            return "".join(self._chunks)

    def since(self, cursor: int) -> tuple[str, int]:
        """What was added after cursor (a previous total), and the new cursor."""
        with self._lock:
            new = self.total - cursor
            if new <= 0:
                return "", self.total
            if new > self._size:
                note = f"[... {new - self._size:,} characters not kept ...]\n"
                return note + "".join(self._chunks), self.total
            return self._newest(new), self.total

    def follow(self, cursor: int | None, characters: int) -> tuple[str, int, int, bool]:
        """For a view that shows at most `characters`: what was added after cursor (None: from
        the start), the newest `characters` of it at most; the new cursor; the newlines ever
        added up to it; and whether the text follows on from cursor (False: a gap, start over)."""
        with self._lock:
            new = self.total - (cursor or 0)
            whole = cursor is not None and new <= min(self._size, characters)
            text = self._newest(min(new, self._size, characters))
            return text, self.total, self.lines_ended, whole

    def tail(self, lines: int) -> tuple[str, int]:
        """The last `lines` lines, and how many lines before them are not shown."""
        with self._lock:
            picked, newlines = [], 0
            for chunk in reversed(self._chunks):
                picked.append(chunk)
                newlines += chunk.count("\n")
                if newlines > lines:
                    break
            text = "".join(reversed(picked))
            last = self._chunks[-1] if self._chunks else ""
            all_lines = self._newlines + (1 if last and not last.endswith("\n") else 0)
        kept = text.split("\n")
        if text.endswith("\n"):
            kept.pop()
        shown = kept[-lines:]
        return "\n".join(shown), max(all_lines - len(shown), 0)


class Job(LifeCycle):
    """One run of a student's program. See the module docstring.

    Its life cycle is labsock.net.lifecycle's: start() stops an earlier run of the same name, and
    anything of labsock's (a server, a counting client, another program) on a port it binds;
    labsock.stop_all() stops it with everything else.
    """

    def __init__(
        self,
        code: str,
        name: str,
        *,
        folder: str | os.PathLike = "programs",
        typed=(),
        log_size: int = 10_000,
        names: dict | None = None,
    ):
        self.name = check_name(name)
        if not isinstance(code, str):
            raise LabsockError("The program must be Python code, as text.")
        self.code = code
        self.path = Path(folder).resolve() / f"{name}.py"
        self._log = MessageLog(log_size, names)  # what it received, with its replies
        self._sent_log = MessageLog(log_size)  # what it sent, each with where it went
        self.sent = 0  # datagrams and chunks the program sent
        # Datagrams or chunks that came or went too fast to record: counted, not in the log.
        self.unrecorded_received = 0
        self.unrecorded_sent = 0
        self.error: str | None = None  # the plain explanation, when the program failed
        self.error_line: int | None = None
        self.error_kind: str | None = None  # the exception's class name
        self.notes: list[str] = []  # what labsock did on the program's behalf, in words
        self.waiting_in: str | None = None  # the first thing the program waited in
        self.prompt: str | None = None  # input()'s prompt while the program waits for a line
        self.stopped = False  # ended by stop() rather than by itself
        self.output_record = Output()
        self._typed = [str(line) for line in typed]
        self._unechoed: list[str] = []  # typed lines the output must not show twice
        self.last_sent_to: tuple[str, tuple[str, int]] | None = None  # (protocol, peer)
        self._inputs_asked = 0
        self._lines_given = 0
        self._ports: dict[int, tuple[str, str, int]] = {}  # socket id -> (proto, host, port)
        self._bound: set[tuple[str, str, int]] = set()  # ports it asked for by bind()
        self._used: set[tuple[str, str, int]] = set()  # every port it had, also the closed
        self._peers: dict[int, tuple[str, int]] = {}  # socket id -> TCP peer
        self._reuse_added = False
        self._exit_code: int | None = None
        self._started: float | None = None
        self._ended_at: float | None = None
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._changed = threading.Condition()
        self.version = 0  # goes up at every change, for views that follow the job
        self._flushed = threading.Event()
        self._ended = threading.Event()  # the process is gone and both readers have finished
        self._readers_left = 2
        self._bytes_read = 0  # of the program's output, from the pipe
        self._printed_when_waiting = 0  # what it had written when it reported its first wait

    # -- life cycle (see labsock.net.lifecycle) -------------------------------------------------

    @property
    def what(self) -> str:
        return f"your program {self.name!r}"

    def claims(self) -> set[tuple]:
        """Its name (one run per name), and the ports it bound and still holds. Ports the
        system chose for a client are the system's to give to anyone: not claimed."""
        held = {port for port in list(self._ports.values()) if port in self._bound}
        return {("program", self.name), *held}

    def _begin(self) -> None:
        """Save the program and start it (an earlier run of the same name is already stopped)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.code if self.code.endswith("\n") else self.code + "\n", "utf-8")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        token = secrets.token_hex(16)
        env = dict(os.environ)
        env.update(
            LABSOCK_CONTROL=f"{listener.getsockname()[1]} {token}",
            PYTHONIOENCODING="utf-8",
            PYTHONUNBUFFERED="1",
        )
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-u", BOOTSTRAP, str(self.path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                **_own_process_group(),
            )
        except OSError:
            listener.close()
            raise
        self._started = time.monotonic()
        with _jobs_lock:
            _jobs[self.name] = self
        for line in self._typed:
            self._write_line(line)
        self._spawn(self._read_output, "output")
        self._spawn(lambda: self._read_control(listener, token), "control")

    def _spawn(self, target, what: str) -> None:
        def read_then_note_the_end():
            try:
                target()
            finally:
                with self._changed:
                    self._readers_left -= 1
                    if not self._readers_left:
                        self._ended_at = time.monotonic()
                        self._ended.set()
                        self._forget()  # ended, by itself or stopped: no longer running
                    self.version += 1
                    self._changed.notify_all()

        thread = threading.Thread(
            target=read_then_note_the_end, name=f"labsock-job-{self.name}-{what}"
        )
        thread.daemon = True  # a kernel that exits must not wait for them
        thread.start()
        self._threads.append(thread)

    def wait_until_ready(self, timeout: float = READY_TIMEOUT) -> str:
        """Wait until the program waits (for a datagram, a connection, input, a sleep) or ends.

        Returns "waiting", "input", "ended", or "still starting" after timeout seconds.
        """
        with interruptible(f"{self.name} to start"), self._changed:
            self._changed.wait_for(lambda: self.waiting_in is not None or not self.running, timeout)
        if not self.running:
            return "ended"
        if self.prompt is not None:
            return "input"
        return "waiting" if self.waiting_in is not None else "still starting"

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the program to end by itself; True once it has ended."""
        process = self._process
        if process is None:
            return True
        try:
            with interruptible(f"{self.name} to end"):
                process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self._finish()
        return True

    def stop(self) -> Job:
        """End the program, whatever it is doing; returns once its ports are free again."""
        super().stop()
        return self

    def _end(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self.catch_up(0.2)  # so the log holds all it received before the end
            _end_process(process)
            process.wait()
            self.stopped = True
        self._finish()

    def _finish(self) -> None:
        # Ports the system chose for a client are its to give to anyone: only check bound ones.
        held = [port for port in self._ports.values() if port in self._bound]
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(2.0)
        if self._process is not None and self._process.stdin:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        self._exit_code = self._process.returncode if self._process else None
        self._ports.clear()
        self.prompt = None
        self._log.close()
        self._sent_log.close()
        _wait_until_free(held)
        self._touch()

    # -- what it is doing -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True until the program has ended and all it printed and reported has been read."""
        return self._process is not None and not self._ended.is_set()

    @property
    def exit_code(self) -> int | None:
        """None while running; the status it ended with (negative: ended by a signal)."""
        if self._process is None or self._process.poll() is None:
            return None
        return self._process.returncode

    @property
    def log(self) -> MessageLog:
        """What the program received (with its replies), as a server's log.

        Read from a cell, it first has the program report what is still in its batch, so
        `labsock.job("server").log.texts()` right after a client's cell shows that client's
        message. (Views read it from their own threads, at their own pace: no catching up.)
        """
        if threading.current_thread() is threading.main_thread():
            self.catch_up(0.5)
        return self._log

    @property
    def sent_log(self) -> MessageLog:
        """What the program sent, each message with where it went."""
        if threading.current_thread() is threading.main_thread():
            self.catch_up(0.5)
        return self._sent_log

    @property
    def seconds_run(self) -> float:
        """Seconds from its start to its end (or to now, while it runs)."""
        if self._started is None:
            return 0.0
        return (self._ended_at or time.monotonic()) - self._started

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def output(self) -> str:
        return self.output_record.text()

    @property
    def ports(self) -> list[tuple[str, str, int]]:
        """(protocol, address, port) of every socket the program holds open now."""
        return sorted(set(self._ports.values()))

    @property
    def ports_used(self) -> list[tuple[str, str, int]]:
        """(protocol, address, port) of every socket it ever had, open or closed."""
        return sorted(self._used)

    @property
    def needs_input(self) -> bool:
        return self.running and self._inputs_asked > self._lines_given

    def output_caught_up(self) -> bool:
        """True once the output holds all the program had printed when it last waited."""
        return self._bytes_read >= self._printed_when_waiting

    @property
    def reuse_added(self) -> bool:
        """True if labsock set SO_REUSEADDR on one of the program's TCP sockets."""
        return self._reuse_added

    def state(self) -> str:
        """One line: running / waiting for input / stopped / exited with code, and its ports."""
        if self._process is None:
            return f"{self.name}: not started"
        ports = ", ".join(f"{p.upper()} {h}:{n}" for p, h, n in self.ports)
        holds = f"; holds {ports}" if ports else ""
        if self.running:
            if self.needs_input:
                return f"{self.name}: waiting for you to type a line{holds}"
            doing = f", waiting in {self.waiting_in}" if self.waiting_in else ""
            return f"{self.name}: running{doing}{holds}"
        if self.stopped:
            return f"{self.name}: stopped"
        code = self.exit_code
        if self.error:
            at = f" at line {self.error_line}" if self.error_line else ""
            return f"{self.name}: failed{at} (exit code {code})"
        return f"{self.name}: exited with code {code}"

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Block until something changed after `version` (or timeout); the new version."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != version, timeout)
            return self.version

    def _touch(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    # -- typing ---------------------------------------------------------------------------------

    def type(self, line: str, *, echo: bool = True) -> None:
        """Give the program one line, as if typed at its input() prompt.

        The program writes the line to its output, as a terminal would show it; echo=False
        leaves it out (the cell's own input box already shows what was typed).
        """
        if not self.running:
            if self.error_kind == NotWrittenYet.__name__:
                raise NotWrittenYet(program=self.name)
            raise LabsockError(f"{self.name} has ended: there is nothing to type to.")
        line = str(line).replace("\n", " ")
        if not echo:
            self._unechoed.append(line + "\n")
        self._write_line(line)
        self._touch()

    def _write_line(self, line: str) -> None:
        stdin = self._process.stdin
        try:
            stdin.write(line.replace("\n", " ").encode("utf-8") + b"\n")
            stdin.flush()
        except (OSError, ValueError):
            return  # ended meanwhile
        self._lines_given += 1

    # -- reading what it does -------------------------------------------------------------------

    def _read_output(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
        stream = self._process.stdout
        while True:
            data = stream.read1(65536) if hasattr(stream, "read1") else stream.read(4096)
            if not data:
                break
            # Windows ends lines with \r\n; one kind of line end keeps the views simple.
            text = decoder.decode(data).replace("\r\n", "\n")
            if self._unechoed and text.startswith(self._unechoed[0]):
                text = text[len(self._unechoed.pop(0)) :]
            self.output_record.add(text)
            self._bytes_read += len(data)  # after adding: "caught up" means it is in the output
            self._touch()
        self.output_record.add(decoder.decode(b"", final=True))
        stream.close()
        # The output ends when the program does: reap it, so `running` is False when woken.
        self._process.wait()
        self._touch()

    def _read_control(self, listener: socket.socket, token: str) -> None:
        listener.settimeout(0.1)
        try:
            while True:
                try:
                    control, _ = listener.accept()
                    break
                except TimeoutError:
                    if self._process.poll() is not None:
                        return  # it ended before it could report (Python itself failed)
        except OSError:
            return
        finally:
            listener.close()
        self._control = control
        reader = wire.FrameReader()
        pending: list = []  # a datagram received, held back a moment to pair it with its reply
        try:
            control.settimeout(10.0)
            if control.recv(len(token) + 1) != token.encode("ascii") + b"\n":
                return  # not our program: ignore it
            while True:
                control.settimeout(0.1 if pending else None)
                try:
                    data = control.recv(65536)
                except TimeoutError:
                    self._log_received(pending)
                    continue
                if not data:
                    break
                for kind, body in reader.feed(data):
                    if kind == "note":
                        self._log_received(pending)
                        self._on_note(body)
                    else:
                        self._on_records(body, pending)
                self._touch()
        except (OSError, wire.WireError):
            pass
        finally:
            self._log_received(pending)
            control.close()
            self._touch()

    def _on_records(self, records: list, pending: list) -> None:
        for kind, when, sock_id, peer, data, _size in records:
            if peer is None:
                peer = self._peers.get(sock_id, ("?", 0))
            if kind == wire.RECEIVED:
                self._log_received(pending)
                if data or self._ports.get(sock_id, ("udp",))[0] == "udp":
                    pending.append((when, peer, data, sock_id))
                else:
                    self._log.add_event(when, peer, DISCONNECTED)
            else:
                self.sent += 1  # recorded ones; unrecorded_sent counts the others
                self._sent_log.append(when, peer, data)
                self.last_sent_to = (self._ports.get(sock_id, ("udp",))[0], peer)
                if pending and pending[0][1] == peer and pending[0][3] == sock_id:
                    received_at, _, received, _ = pending.pop()
                    self._log.append(received_at, peer, received, readable(data))

    def _log_received(self, pending: list) -> None:
        while pending:
            when, peer, data, _ = pending.pop(0)
            self._log.append(when, peer, data)

    def _on_note(self, note: dict) -> None:
        event = note["event"]
        sock_id = note.get("sock")
        if event == "bound":
            self._ports[sock_id] = (note["proto"], note["host"], note["port"])
            self._used.add(self._ports[sock_id])
            if not note.get("implicit"):
                note_start(note["proto"], note["port"])
                self._bound.add(self._ports[sock_id])
            if note.get("reuse_added"):
                self._reuse_added = True
        elif event == "accepted":
            peer = tuple(note["peer"]) if note.get("peer") else ("?", 0)
            self._peers[sock_id] = peer
            listener = self._ports.get(note.get("listener"))
            if listener:
                self._ports[sock_id] = listener
            self._log.add_event(time.time(), peer, CONNECTED)
        elif event == "connected":
            self._peers[sock_id] = tuple(note["peer"]) if note.get("peer") else ("?", 0)
        elif event == "closed":
            self._ports.pop(sock_id, None)
            self._peers.pop(sock_id, None)
        elif event == "waiting":
            self._printed_when_waiting = int(note.get("printed", 0))
            self.waiting_in = note.get("how")
        elif event == "input":
            self._inputs_asked += 1
            self.prompt = note.get("prompt", "")
            self._printed_when_waiting = int(note.get("printed", 0))
            if self.waiting_in is None:
                self.waiting_in = "input"
        elif event == "typed":
            self.prompt = None
        elif event == "failed":
            self.error = note.get("text")
            self.error_line = note.get("line")
            self.error_kind = note.get("error")
            if note.get("bind"):  # a server that could not bind: cells below must not go on
                proto, port = note["bind"]
                note_start(proto, port, LabsockError(self.error or "bind failed"))
        elif event == "unrecorded":
            self.unrecorded_received += int(note.get("received", 0))
            self.unrecorded_sent += int(note.get("sent", 0))
        elif event == "port busy":
            self._answer(self._free_port(note))
        elif event == "flushed":
            self._flushed.set()

    # -- talking back ---------------------------------------------------------------------------

    def _answer(self, reply: dict) -> None:
        try:
            self._control.sendall(json.dumps(reply).encode("ascii") + b"\n")
        except OSError:
            pass

    def catch_up(self, timeout: float = 2.0) -> bool:
        """Have the program report all it has done so far; True once the log holds it.

        The program reports its datagrams in batches (every 50 ms); a check that reads the log
        right after a client got its reply calls this first.
        """
        if not self.running or self._control is None:
            return not self.running
        self._flushed.clear()
        self._answer({"do": "flush"})
        return self._flushed.wait(timeout)

    def _free_port(self, note: dict) -> dict:
        """The program's bind found its port taken: by something of this notebook's (another
        program, a server, a counting client)? Then that stops, and the bind is tried again."""
        proto, port = note.get("proto"), note.get("port")
        wanted = (proto, note.get("host") or ANY_ADDRESS, port)  # bind(('', port)): every address
        for holder in running():
            if holder is not self and any(clash(wanted, held) for held in holder.claims()):
                holder.stop()
                who = holder.what
                if not isinstance(holder, Job):  # "the UDP server" -> "labsock's UDP server"
                    who = "labsock's " + who.removeprefix("the ")
                self._note_freed(who, proto, port)
                return {"retry": True}
        return {"retry": False}

    def _note_freed(self, holder: str, proto: str, port: int) -> None:
        self.notes.append(
            f"labsock stopped {holder}: it held {proto.upper()} port {port}, which "
            f"{self.name} binds."
        )


def _own_process_group() -> dict:
    """Popen options that keep the kernel's Interrupt (SIGINT to its group) away from programs."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _end_process(process: subprocess.Popen) -> None:
    """Kill at once: a program in `except: pass` or time.sleep would ignore anything gentler."""
    try:
        if sys.platform == "win32":
            process.kill()  # TerminateProcess
        else:
            os.killpg(process.pid, signal.SIGKILL)  # and anything the program started
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _wait_until_free(ports, timeout: float = 2.0) -> None:
    """Return once each port binds again (the system frees them as the process ends)."""
    deadline = time.monotonic() + timeout
    for proto, host, port in ports:
        while not _bindable(proto, host, port) and time.monotonic() < deadline:
            time.sleep(0.005)  # no event tells when the system has released a port


def _bindable(proto: str, host: str, port: int) -> bool:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as probe:
        if proto == "tcp" and sys.platform != "win32":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def background(code: str, name: str, **options) -> Job:
    """Start a program and return once it waits (for a datagram, connection or input) or ends."""
    started = Job(code, name, **options).start()
    started.wait_until_ready()
    return started


def run_client(code: str, name: str, *, typed=(), timeout: float = 5.0, **options) -> Job:
    """Run a (client) program to its end, giving it the lines in `typed` for its input() calls.

    After `timeout` seconds it is stopped: a client waiting for a reply from nobody must end.
    """
    started = Job(code, name, typed=typed, **options).start()
    if not started.wait(timeout):
        started.stop()
    return started
