"""One student's grading, in its own process (and, on Linux, its own network and PID namespace).

    python -m labsock.grade.student_run SPEC.json

The grader writes SPEC.json (the student's programs and functions, the tests, the limits) and
starts this; it appends one JSON line per finished test to the results file the spec names, so a
test finished before the student's time limit keeps its points even if a later one never ends.
Its own stdout and stderr go nowhere: a student's function may print without end.
"""

from __future__ import annotations

import _thread
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback

from labsock.grade.hidden import send_hidden
from labsock.lessons import exercises, self_check
from labsock.lessons.checklist import Checklist
from labsock.logic.errors import LabsockError
from labsock.net.lifecycle import stop_all
from labsock.net.programs.job import Job

OUTPUT_LINES = 20  # of each program's output, for the feedback page
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def bring_loopback_up() -> None:
    """A new network namespace's lo is down (`ip link set lo up`, without needing `ip`)."""
    import fcntl  # Linux only, as namespaces are

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


_BUSY = (
    "{} did not wait for anything (recvfrom, accept, input, sleep) in time: it may be busy in a "
    "loop that never reaches recvfrom. Run its cell: the notebook says the same."
)


class Student:
    def __init__(self, spec: dict):
        self.spec = spec
        self.programs = spec["programs"]
        self.states: dict[str, dict] = {}  # program name -> what the feedback shows of it
        # Programs that did not start waiting within the start limit: the same code does the
        # same again, so a later test does not wait for it a second time.
        self.never_waited: set[str] = set()
        self.functions, self.functions_error = _define(spec.get("functions", ""))

    def run_test(self, test: dict) -> Checklist:
        stop_all()
        checklist = Checklist(test["name"])
        helpers = {name: _start_helper(*step) for name, step in test["setup"].items()}
        args = {key: _named(value, helpers) for key, value in test["args"].items()}
        started = [self._start(name, checklist) for name in test["programs"]]
        if self.never_waited & set(test["programs"]):
            return checklist  # a program busy in a loop answers nobody: the check would only wait
        if test.get("function"):
            function = self.functions.get(test["function"])
            if not checklist.add(
                f"your notebook defines {test['function']}()",
                callable(function),
                self.functions_error or f"No `def {test['function']}(...)` in your notebook.",
            ):
                return checklist
            report = _check(test["check"])(function, **args)
        else:
            report = _check(test["check"])(**args)
        checklist.title = report.title
        checklist.points += report.points
        if test["hidden_messages"]:
            send_hidden(checklist, test["check"], test["args"], test["hidden_messages"])
        for job in started:
            if job is not None:
                self._note_state(job)
        return checklist

    def _start(self, name: str, checklist: Checklist) -> Job | None:
        program = self.programs.get(name)
        if program is None:
            checklist.add(
                f"your notebook has a cell %%background {name}",
                False,
                f"No cell starts with %%background {name}: the grader runs programs by name.",
            )
            return None
        limit = self.spec["limits"]["start"]
        if name in self.never_waited:
            self._busy(name, checklist)
            return None
        job = Job(program["code"], name, folder=self.spec["folder"], typed=program["typed"])
        job.notes.extend(program["notes"])
        try:
            job.start()
        except LabsockError as exc:
            checklist.add(f"{name} starts", False, str(exc))
            return None
        if program["magic"] == "client":
            job.wait(program["timeout"] or 5.0)
        else:
            state = job.wait_until_ready(limit)
            if state == "still starting":
                self.never_waited.add(name)
                self._busy(name, checklist)
        self._note_state(job)
        return job

    def _busy(self, name: str, checklist: Checklist) -> None:
        limit = self.spec["limits"]["start"]
        checklist.add(f"{name} starts waiting within {limit:g} s", False, _BUSY.format(name))

    def _note_state(self, job: Job) -> None:
        self.states[job.name] = {
            "state": job.state(),
            "error": job.error or "",
            "output": "\n".join(job.output.splitlines()[-OUTPUT_LINES:]),
        }


def _named(value, helpers: dict):
    """An argument of a check: "@relay" is the setup's helper of that name."""
    if isinstance(value, str) and value.startswith("@") and value[1:] in helpers:
        return helpers[value[1:]]
    return value


def _start_helper(helper: str, options: dict):
    """One of labsock's lab helpers (task_tests.SETUPS), started as the notebook starts it."""
    from labsock.net import relay, servers, tcp_server, tcp_slicer

    where = {"serve_udp": servers, "serve_tcp": tcp_server, "relay_udp": relay}
    where["slice_tcp"] = tcp_slicer
    return getattr(where[helper], helper)(**options)


def _check(name: str):
    """The self-check (or trial) of that name: one of task_tests.CHECKS."""
    return getattr(exercises if name.startswith("try_") else self_check, name)


def _define(code: str) -> tuple[dict, str]:
    """The student's functions: their imports and definitions only, run once."""
    namespace: dict = {"__name__": "student"}
    try:
        exec(compile(code, "your notebook", "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - a student's import may raise anything
        return namespace, f"Your notebook's definitions failed: {type(exc).__name__}: {exc}"
    return namespace, ""


def _within(seconds: float, work) -> tuple[str, object]:
    """("ok", result), ("error", text) or ("time limit", None) after seconds.

    The work runs in the main thread, as a check in a notebook cell does (a program's log
    catches up only there); at the limit a timer interrupts it, as the kernel's Interrupt would.
    """
    late, done, lock = threading.Event(), threading.Event(), threading.Lock()

    def interrupt():
        with lock:  # never after the work has returned: the interrupt would land elsewhere
            if not done.is_set():
                late.set()
                _thread.interrupt_main()

    timer = threading.Timer(seconds, interrupt)
    timer.start()
    try:
        outcome = "ok", work()
    except KeyboardInterrupt:  # labsock's Interrupted too
        outcome = "time limit", None
    except Exception as exc:  # noqa: BLE001 - reported as the test's failure
        outcome = "error", f"{type(exc).__name__}: {exc}"
    finally:
        with lock:
            done.set()
        timer.cancel()
    # A check may catch the interrupt as a failed point and go on: late is late all the same.
    return ("time limit", None) if late.is_set() else outcome


def grade(spec: dict, emit) -> None:
    student = Student(spec)
    for test in spec["tests"]:
        begun = time.monotonic()
        limit = test["seconds"] or spec["limits"]["test"]
        status, result = _within(limit, lambda t=test: student.run_test(t))
        if status != "ok":
            result = Checklist(test["name"])
            result.add(
                "the test finished" if status == "time limit" else "the test ran",
                False,
                f"It took longer than {limit:g} s: a loop that never ends, or "
                "a program that never answers."
                if status == "time limit"
                else str(result or status),
            )
        emit(
            {
                "test": test["name"],
                "status": status,
                "seconds": round(time.monotonic() - begun, 3),
                "checklist": result.to_dict(),
            }
        )
        emit({"programs": student.states})  # after each test: the student's limit may come


def _limit_memory(size: int) -> None:
    try:
        import resource
    except ModuleNotFoundError:  # Windows: no limit of this kind
        return
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as spec_file:
        spec = json.load(spec_file)
    with open(spec["results"], "a", encoding="utf-8") as results:

        def emit(record: dict) -> None:
            results.write(json.dumps(record) + "\n")
            results.flush()

        try:
            # Every process of the student inherits it: a program that takes 2 GB fails alone.
            _limit_memory(spec["limits"]["memory"])
            if spec.get("loopback_up"):
                bring_loopback_up()
            grade(spec, emit)
        except Exception:  # noqa: BLE001 - the grader's own failure, told to the grader
            emit({"grader_error": traceback.format_exc(limit=5)})
    # Threads of a test past its limit may still wait: the student's process ends here, now.
    os._exit(0)


if __name__ == "__main__":
    # The test limit interrupts as Ctrl+C does: a grader started in the background (`&`) has
    # SIGINT ignored, and Python then never turns it into KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the process's life
    main(sys.argv[1:])
