"""A student's program, run as its own process: start it, watch it, type to it, stop it.

    job = background(code, name="udp_server")   # returns once the program waits (or ended)
    job.output, job.ports, job.log               # what it printed, holds and received
    job.stop()                                   # returns once it has ended and its ports are free

The program is the student's code, unchanged, saved as programs/NAME.py (so a laptop without
Jupyter runs the same file with `python udp_server.py`) and run as `python -u` with a small
bootstrap (bootstrap.py) that reports what its sockets do over a socket pair it inherits
(process.py: no port, no secret). What the reports mean is labsock.logic.program_reports's.

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
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from labsock.logic import wire
from labsock.logic.errors import LabsockError, NotWrittenYet
from labsock.logic.program_reports import ProgramReports
from labsock.logic.validation import ANY_ADDRESS, validate_text, validate_timeout
from labsock.logic.who_answered import NOT_WRITTEN
from labsock.net.interrupts import interruptible
from labsock.net.lifecycle import LifeCycle, clash, running, stop_all
from labsock.net.log import MessageLog
from labsock.net.ports_here import note_start, program_bind_failed
from labsock.net.programs import process as processes
from labsock.net.programs.output import OUTPUT_LIMIT, Output
from labsock.net.programs.stopped import stopped_holder

__all__ = [
    "OUTPUT_LIMIT",
    "Job",
    "Output",
    "check_name",
    "job",
    "jobs",
    "running_jobs",
    "stop_jobs",
]

BOOTSTRAP = str(Path(__file__).with_name("bootstrap.py"))
READY_TIMEOUT = 5.0  # seconds a cell waits for a program to start waiting
# Seconds the reports may trail the program's end; then the channel is closed whatever it says.
REPORTS_AFTER_END = 1.0
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
        self.code = validate_text(code, f"The code of {name}")
        self.path = Path(folder).resolve() / f"{name}.py"
        # What its reports say: ports, peers, prompt, failure, and the two logs (what it
        # received, with its replies; what it sent, each with where it went).
        self._reports = ProgramReports(MessageLog(log_size, names), MessageLog(log_size))
        self.notes: list[str] = []  # what labsock did on the program's behalf, in words
        self.stopped = False  # ended by stop() rather than by itself
        self.stopped_at: float | None = None  # when (time.time()), for "it was stopped at ..."
        # Why labsock stopped it, when a later program of this notebook took its port: its own
        # view says so too, not only the later program's cell.
        self.stopped_because: str | None = None
        self.output_record = Output()
        self._typed = [validate_text(str(line), "A line to type") for line in typed]
        self._unechoed: list[str] = []  # typed lines the output must not show twice
        self._lines_given = 0
        self._typing: queue.SimpleQueue | None = None  # lines for the writer thread
        self.hurried_until = 0.0  # time.time() until which its pauses were shortened
        self._started: float | None = None
        self._ended_at: float | None = None
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._changed = threading.Condition()
        self.version = 0  # goes up at every change, for views that follow the job
        # Flushes asked for and answered, counted: each catch_up waits for its own answer (the
        # program answers in the order it was asked), so one waiter never takes another's.
        self._flushes = threading.Condition()
        self._flushes_asked = 0
        self._flushes_answered = 0
        self._channel_ended = threading.Event()  # its reports can no longer come
        self._ended = threading.Event()  # the process is gone and both readers have finished
        self._readers_left = 2
        self._bytes_read = 0  # of the program's output, from the pipe
        self._gone_since: float | None = None  # when the control reader saw the process gone
        self._refused: str | None = None  # why its reports are no longer read, if they are not

    # What the program's reports say (labsock.logic.program_reports), under the names a job has
    # always had.
    @property
    def error(self) -> str | None:
        """The plain explanation, if it failed."""
        return self._reports.error

    @error.setter
    def error(self, explanation: str | None) -> None:
        # A notebook-side fact may sharpen it (ports_here names another notebook's holder).
        self._reports.error = explanation

    error_line = property(lambda self: self._reports.error_line)
    error_kind = property(lambda self: self._reports.error_kind, doc="the exception's class name")
    waiting_in = property(lambda self: self._reports.waiting_in, doc="what it first waited in")
    prompt = property(lambda self: self._reports.prompt, doc="input()'s prompt while it waits")
    sent = property(lambda self: self._reports.sent, doc="datagrams and chunks it sent")
    last_sent_to = property(lambda self: self._reports.last_sent_to, doc="(protocol, peer)")
    # Datagrams or chunks that came or went too fast to record: counted, not in the log.
    unrecorded_received = property(lambda self: self._reports.unrecorded_received)
    unrecorded_sent = property(lambda self: self._reports.unrecorded_sent)
    others_ended = property(
        lambda self: self._reports.others_ended,
        doc="processes the program had started that labsock ended with it",
    )

    # -- life cycle (see labsock.net.lifecycle) -------------------------------------------------

    kind = "program"

    @property
    def what(self) -> str:
        return f"your program {self.name!r}"

    def claims(self) -> set[tuple]:
        """Its name (one run per name), and the ports it bound and still holds. Ports the
        system chose for a client are the system's to give to anyone: not claimed."""
        return {("program", self.name), *self._reports.bound_ports_held()}

    def _begin(self) -> None:
        """Save the program and start it (an earlier run of the same name is already stopped)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.code if self.code.endswith("\n") else self.code + "\n", "utf-8")
        ours, theirs = processes.control_channel()
        env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1")
        try:
            self._process = processes.start(
                [sys.executable, "-u", BOOTSTRAP],
                str(self.path),
                theirs,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()  # the program holds its own copy now
        self._control = ours
        self._started = time.monotonic()
        with _jobs_lock:
            _jobs[self.name] = self
        for line in self._typed:
            self._write_line(line)
        self._spawn(self._read_output, "output")
        self._spawn(self._read_control, "control")

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
        timeout = 0.0 if timeout == 0 else validate_timeout(timeout)  # 0: only look
        with interruptible(f"{self.name} to start"), self._changed:
            self._changed.wait_for(lambda: self.waiting_in is not None or not self.running, timeout)
        if not self.running:
            return "ended"
        if self.prompt is not None:
            return "input"
        return "waiting" if self.waiting_in is not None else "still starting"

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the program to end by itself; True once it has ended."""
        if timeout is not None and timeout != 0:  # None: until it ends; 0: only look
            timeout = validate_timeout(timeout)
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

    def stop(self) -> None:
        """End the program and every process it started, whatever they are doing; returns once
        its ports are free again."""
        super().stop()

    def _end(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self.catch_up(0.2)  # so the log holds all it received before the end
            processes.end(process)
            self.stopped = True
            self.stopped_at = time.time()
        self._finish()

    def _finish(self) -> None:
        # The readers first: what they still read may bind or close a port (the race of reading
        # the ports while the control reader still changed them).
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(REPORTS_AFTER_END + 1.0)
        if self._typing is not None:
            self._typing.put(None)  # the writer thread ends
        held = self._reports.bound_ports_held()
        if self._process is not None and self._process.stdin:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        if self._process is not None:
            processes.release(self._process)
        self._reports.end()
        self._reports.received_log.close()
        self._reports.sent_log.close()
        processes.wait_until_free(held)
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
        return self._reports.received_log

    @property
    def sent_log(self) -> MessageLog:
        """What the program sent, each message with where it went."""
        if threading.current_thread() is threading.main_thread():
            self.catch_up(0.5)
        return self._reports.sent_log

    @property
    def seconds_run(self) -> float:
        """Seconds from its start to its end (or to now, while it runs)."""
        if self._started is None:
            return 0.0
        return (self._ended_at or time.monotonic()) - self._started

    @property
    def pid(self) -> int | None:
        """The process started for it: on Linux the supervisor just above the program (killing
        it ends the program too), elsewhere the program itself."""
        return self._process.pid if self._process else None

    @property
    def output(self) -> str:
        return self.output_record.text()

    @property
    def ports(self) -> list[tuple[str, str, int]]:
        """(protocol, address, port) of every socket the program holds open now."""
        return self._reports.held_ports()

    @property
    def ports_used(self) -> list[tuple[str, str, int]]:
        """(protocol, address, port) of every socket it ever had, open or closed."""
        return sorted(self._reports.used)

    @property
    def needs_input(self) -> bool:
        return self.running and self._reports.inputs_asked > self._lines_given

    def output_caught_up(self) -> bool:
        """True once the output holds all the program had printed when it last waited."""
        return self._bytes_read >= self._reports.printed_when_waiting

    @property
    def reuse_added(self) -> bool:
        """True if labsock set SO_REUSEADDR on a TCP socket of the program that then listened."""
        return self._reports.reuse_added

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
            if self.waiting_in == "recvfrom" and not self.ports:
                # A forgotten bind: nothing can reach a socket without a port.
                doing += " on a socket it never bound, so no client can reach it"
            return f"{self.name}: running{doing}{holds}"
        others = self.others_ended
        started = f"{others} process{'es' if others > 1 else ''} it had started"
        if self.stopped:
            because = f": {self.stopped_because}" if self.stopped_because else ""
            return f"{self.name}: stopped{because}" + (f" (and {started})" if others else "")
        code = self.exit_code
        left = f"; labsock ended {started} and left running" if others else ""
        if self.error_kind == NotWrittenYet.__name__:
            # The student version's stub: nothing failed, nothing is written yet.
            return f"{self.name}: {NOT_WRITTEN} (its cell still holds '# YOUR CODE HERE'){left}"
        if self.error:
            at = f" at line {self.error_line}" if self.error_line else ""
            return f"{self.name}: failed{at} (exit code {code}){left}"
        return f"{self.name}: exited with code {code}{left}"

    def __repr__(self) -> str:
        # What a cell ending in `client` (run_client's job) or `labsock.job(NAME)` shows: its
        # state, and where the rest is, instead of "<...Job at 0x7f...>".
        if self._process is None:
            return f"<labsock program {self.state()}>"
        return f"<labsock program {self.state()}; .output holds what it printed>"

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
        line = validate_text(str(line), "The line typed").replace("\n", " ")
        if not echo:
            self._unechoed.append(line + "\n")
        self._write_line(line)
        self._touch()

    def _write_line(self, line: str) -> None:
        """Queue a line for the program's stdin: a program that does not read it fills the
        pipe, and only the writer thread then waits, never the notebook (nor start(), which
        holds labsock's start lock)."""
        with self._changed:
            if self._typing is None:
                self._typing = queue.SimpleQueue()
                threading.Thread(
                    target=self._type_lines, name=f"labsock-job-{self.name}-typing", daemon=True
                ).start()
            self._typing.put(line.replace("\n", " ").encode("utf-8") + b"\n")
            self._lines_given += 1

    def _type_lines(self) -> None:
        stdin, lines = self._process.stdin, self._typing
        while (line := lines.get()) is not None:
            try:
                stdin.write(line)
                stdin.flush()
            except (OSError, ValueError):
                return  # ended meanwhile

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

    def _read_control(self) -> None:
        """Read the program's reports until its end.

        A report that is not what the bootstrap writes ends the reading, never this thread
        with an exception: what follows is drained unread (closing the channel would end the
        program, which takes it for the kernel's end), and the job follows the process alone.
        """
        control, reports = self._control, self._reports
        reader = wire.FrameReader()
        believed = True
        try:
            while True:
                # Quiet for 0.1 s with a datagram held back: no reply is coming, log it alone.
                control.settimeout(0.1 if reports.holds_back else 0.5)
                try:
                    data = control.recv(65536)
                except TimeoutError:
                    reports.settle()
                    if self._gone_for(REPORTS_AFTER_END):
                        break  # ended, and whoever holds its end of the channel stays quiet
                    continue
                if not data:
                    break
                if not believed:
                    continue
                try:
                    for kind, body in reader.feed(data):
                        for request in reports.feed(kind, body):
                            self._carry_out(request)
                except wire.WireError as exc:
                    believed = False
                    self._refused = str(exc)
                    self.notes.append(
                        f"labsock stopped reading what {self.name} reports ({exc}): its log, "
                        "ports and prompts are no longer followed."
                    )
                    self._wake_flush_waiters()  # nobody waits for a flush that will never come
                self._touch()
        except OSError:
            pass
        finally:
            reports.settle()
            # Before waking a catch_up: it looks at this once it is woken (or before it waits).
            self._channel_ended.set()
            self._wake_flush_waiters()
            control.close()
            self._end_what_it_left()
            self._touch()

    def _end_what_it_left(self) -> None:
        """The channel closed: if the program has ended, end what it left running (Windows,
        macOS; on Linux its supervisor already has), or it would hold the output pipe open."""
        try:
            self._process.wait(REPORTS_AFTER_END)
        except subprocess.TimeoutExpired:
            # It closed or replaced labsock's descriptor and goes on: never silently.
            self.notes.append(
                f"labsock lost its connection to {self.name}: the program closed or replaced "
                "labsock's file descriptor, so what its sockets do is no longer seen. It still "
                "runs; Stop ends it."
            )
            return
        processes.end_leftovers(self._process)

    def _gone_for(self, seconds: float) -> bool:
        """True once the process has ended at least `seconds` ago."""
        process = self._process
        if process.poll() is None:
            self._gone_since = None
            return False
        if self._gone_since is None:
            self._gone_since = time.monotonic()
        return time.monotonic() - self._gone_since >= seconds

    def _carry_out(self, request) -> None:
        """What a report asks of the notebook (see ProgramReports.note)."""
        if request.what == "claimed":
            note_start(request.proto, request.port)
        elif request.what == "bind failed":  # a server that could not bind: cells below say so
            program_bind_failed(self, request.proto, request.port)  # names another notebook's
        elif request.what == "port busy":
            try:
                answer = self._free_port(request.proto, request.host, request.port)
            except Exception:  # noqa: BLE001 (a holder that fails to stop: the bind fails)
                answer = {"retry": False}
            self._answer({**answer, "asked": request.asked})
        elif request.what == "stopped holder":  # a connect was refused: only we know what stopped
            try:
                said = stopped_holder(self, request.proto, request.port, request.host, jobs())
            except Exception:  # noqa: BLE001 (the program's own explanation then stands)
                said = ""
            self._answer({"said": said, "asked": request.asked})
        elif request.what == "flushed":
            with self._flushes:
                self._flushes_answered += 1
                self._flushes.notify_all()

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
        if not self.running or self._control is None or self._refused:
            return not self.running
        with self._flushes:
            self._flushes_asked += 1
            mine = self._flushes_asked
        # Looked at after taking a number: a channel that ends from now on wakes this wait.
        if not self._channel_ended.is_set():
            # Sent after the number is taken: the program's n-th answer then answers a request
            # sent after the n-th number was taken, so it covers all done before this call.
            self._answer({"do": "flush"})
            with self._flushes:
                self._flushes.wait_for(
                    lambda: (
                        self._flushes_answered >= mine
                        or self._channel_ended.is_set()
                        or self._refused is not None
                    ),
                    timeout,
                )
        with self._flushes:
            answered = self._flushes_answered >= mine
        if answered:
            return True
        if self._channel_ended.is_set():
            # Nothing more will come: all of it is in if the program ended; if it runs on, it
            # replaced labsock's descriptor (see _end_what_it_left) and goes unwatched.
            return self._process.poll() is not None
        return False

    def _wake_flush_waiters(self) -> None:
        with self._flushes:
            self._flushes.notify_all()

    def hurry(self, seconds: float) -> None:
        """For `seconds` from now (0: from now on no more), each time.sleep of the program lasts
        at most a few milliseconds: a self-check sees a slow client reach 100 within seconds."""
        if self.running and self._control is not None:
            self._answer({"do": "hurry", "seconds": seconds})
            # The program's clock is this one: what it sent before then was hurried.
            self.hurried_until = time.time() + seconds

    def _free_port(self, proto: str, host: str, port: int) -> dict:
        """The program's bind found its port taken: by something of this notebook's (another
        program, a server, a counting client)? Then that stops, and the bind is tried again."""
        wanted = (proto, host or ANY_ADDRESS, port)  # bind(('', port)): every address
        for holder in running():
            if holder is not self and any(clash(wanted, held) for held in holder.claims()):
                if isinstance(holder, Job):
                    holder.stopped_because = f"{self.name} took its {proto.upper()} port {port}"
                holder.stop()
                who = holder.what
                if holder.kind != "program":  # "the UDP server" -> "labsock's UDP server"
                    who = "labsock's " + who.removeprefix("the ")
                self._note_freed(who, proto, port)
                return {"retry": True}
        return {"retry": False}

    def _note_freed(self, holder: str, proto: str, port: int) -> None:
        self.notes.append(
            f"labsock stopped {holder}: it held {proto.upper()} port {port}, which "
            f"{self.name} binds."
        )
