"""Grade a class: each student's programs run in their own namespace, N students at a time.

    results = grade_class(find_submissions("hand_ins/", "task1"), graded_tests("task1"), work)

For each student: their notebook is read (programs by magic name, functions by def), a spec is
written into the grader's work folder, and labsock.grade.student_run runs the tests in its own
process, isolated (see isolation.py), under the limits. A test finished before the student's time
limit keeps its points; the student's limit ends everything they started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labsock.grade.isolation import held_ports, namespace_prefix
from labsock.grade.notebook import functions_in, programs_in
from labsock.grade.submissions import file_name
from labsock.grade.task_tests import GradedTest, ports_used
from labsock.logic.errors import LabsockError

_running: set[subprocess.Popen] = set()  # the students being graded now, for Ctrl+C


@dataclass(frozen=True)
class Limits:
    start: float = 3.0  # seconds a program has to start waiting (recvfrom, accept, input...)
    test: float = 10.0  # seconds per test
    student: float = 60.0  # seconds per student, all tests
    memory: int = 3 << 29  # bytes of address space per process of a student (1.5 GiB)


@dataclass
class StudentResult:
    student: str
    notebook: str
    status: str = "graded"  # graded / time limit / grader error / not readable
    tests: dict[str, dict] = field(default_factory=dict)  # test name -> its record
    programs: dict[str, dict] = field(default_factory=dict)  # name -> code, state, output
    seconds: float = 0.0
    error: str = ""

    def points(self, test: GradedTest) -> float:
        record = self.tests.get(test.name)
        return test.points if record and record["checklist"]["passed"] else 0.0


def default_workers() -> int:
    # A student's programs mostly wait (on sockets, or a limit): three per CPU keep them busy.
    return max(2, 3 * (os.cpu_count() or 1)) if namespace_prefix() else 1


def grade_class(
    notebooks: dict[str, Path],
    tests: list[GradedTest],
    work: Path,
    *,
    workers: int | None = None,
    limits: Limits = Limits(),
    progress=None,
    isolate: bool = True,
) -> list[StudentResult]:
    """Every student's result, in the order given. progress(done, total, result) after each."""
    prefix = namespace_prefix() if isolate else None
    workers = (workers or default_workers()) if prefix else 1
    done = 0
    lock = threading.Lock()

    def one(item):
        nonlocal done
        student, notebook = item
        result = _grade_one(student, notebook, tests, work, limits, prefix)
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(notebooks), result)
        return result

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        return list(pool.map(one, notebooks.items()))
    except KeyboardInterrupt:  # Ctrl+C: no student waits for their turn, none runs on
        pool.shutdown(wait=False, cancel_futures=True)
        for process in list(_running):
            _end(process)
        raise
    finally:
        pool.shutdown()


def _grade_one(student, notebook: Path, tests, work: Path, limits: Limits, prefix):
    begun = time.monotonic()
    result = StudentResult(student, str(notebook))
    folder = work / file_name(student)
    try:
        spec = _spec(notebook, tests, folder, limits, prefix is not None, result)
    except (OSError, ValueError, LabsockError) as exc:
        result.status, result.error = "not readable", f"{notebook.name}: {exc}"
        return result
    if prefix is None:
        held = held_ports(ports_used(tests))
        if held:
            result.status = "grader error"
            result.error = (
                f"Before grading {student}: {', '.join(held)} held by another program on this "
                "computer (not the student's). Free it and grade again."
            )
            return result
    _run(spec, folder, limits, prefix, result)
    _read_results(Path(spec["results"]), result)
    result.seconds = round(time.monotonic() - begun, 3)
    return result


def _spec(notebook: Path, tests, folder: Path, limits: Limits, isolated: bool, result) -> dict:
    content = json.loads(notebook.read_text("utf-8"))
    programs = programs_in(content)
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.jsonl"
    results.unlink(missing_ok=True)
    result.programs = {n: {"code": p.code, "notes": list(p.notes)} for n, p in programs.items()}
    spec = {
        "programs": {name: asdict(program) for name, program in programs.items()},
        "functions": functions_in(content),
        "tests": [asdict(test) for test in tests],
        "limits": asdict(limits),
        "folder": str(folder / "programs"),
        "results": str(results),
        "loopback_up": isolated,
    }
    (folder / "spec.json").write_text(json.dumps(spec), "utf-8")
    return spec


def _run(spec: dict, folder: Path, limits: Limits, prefix, result: StudentResult) -> None:
    command = [sys.executable, "-m", "labsock.grade.student_run", str(folder / "spec.json")]
    process = subprocess.Popen(
        [*prefix, *command] if prefix else command,
        cwd=folder,  # programs/ and anything a student's program writes land in its folder
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outside a namespace: the group is what we can end
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},  # fewer arenas: less address space taken
    )
    _running.add(process)
    try:
        process.wait(limits.student)
    except subprocess.TimeoutExpired:
        result.status = "time limit"
        result.error = f"Stopped after {limits.student:g} s (the time limit per student)."
    finally:
        _end(process)
        _running.discard(process)


def _end(process: subprocess.Popen) -> None:
    # In a namespace, killing unshare kills its child (--kill-child) and with it the namespace;
    # outside one, the process group is everything that did not leave it.
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # Windows: the process itself (its children are its own to end)
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _read_results(path: Path, result: StudentResult) -> None:
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by the time limit
        if "test" in record:
            result.tests[record["test"]] = record
        elif "programs" in record:
            for name, state in record["programs"].items():
                result.programs.setdefault(name, {}).update(state)
        elif "grader_error" in record:
            result.status, result.error = "grader error", record["grader_error"]
