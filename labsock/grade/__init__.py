"""Grade a class's notebooks: `python -m labsock.grade SUBMISSIONS/ --task task1 --out DIR`.

    from labsock.grade import grade
    summary = grade("hand_ins/", task="task1", out="graded/")
    summary.exit_status   # 0, or 1 when the grader itself failed for a student

Each student's programs are taken from their notebook by magic name and run as the notebook
would run them, then the task's tests (task_tests.py); no other cell of theirs runs. Writes
grades.csv, results.json and feedback/STUDENT.html into `out` (see report.py).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from labsock.grade.report import write_all
from labsock.grade.runner import Limits, StudentResult, grade_class
from labsock.grade.submissions import find_submissions
from labsock.grade.task_tests import GradedTest, graded_tests

__all__ = ["grade", "Graded", "Limits"]


@dataclass
class Graded:
    results: list[StudentResult]
    tests: list[GradedTest]
    out: Path

    @property
    def exit_status(self) -> int:
        return 1 if any(r.status == "grader error" for r in self.results) else 0


def grade(
    submissions,
    task: str,
    out,
    *,
    tests_file=None,
    assignment: str | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
    work=None,
    progress=None,
    isolate: bool = True,
) -> Graded:
    """Grade every notebook in `submissions` for `task`; the files go into `out`."""
    out = Path(out)
    tests = graded_tests(task, tests_file)
    notebooks = find_submissions(submissions, task, assignment)
    out.mkdir(parents=True, exist_ok=True)
    # The students' programs are saved and run under the grader's own folder, never the cwd.
    work = Path(work) if work else Path(tempfile.mkdtemp(prefix="work-", dir=out))
    limits = limits or Limits()
    results = grade_class(
        notebooks, tests, work, workers=workers, limits=limits, progress=progress, isolate=isolate
    )
    write_all(out, task, results, tests)
    return Graded(results, tests, out)
