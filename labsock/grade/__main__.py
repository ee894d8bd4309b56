"""python -m labsock.grade SUBMISSIONS/ --task task1 --out DIR  (see labsock/grade/__init__.py)"""

from __future__ import annotations

import argparse
import sys
import time

from labsock.grade import Limits, grade
from labsock.grade.isolation import namespace_prefix
from labsock.logic.errors import LabsockError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m labsock.grade",
        description="Grade students' labsock notebooks: their programs run, the task's tests "
        "try them, and grades.csv, results.json and a feedback page per student are written.",
    )
    parser.add_argument("submissions", help="a folder of STUDENT.ipynb, or nbgrader's submitted/")
    parser.add_argument("--task", required=True, help="task1, task2, task3, task4")
    parser.add_argument("--out", required=True, help="the folder the results go into")
    parser.add_argument("--tests", help="your changes to the tests: a .toml or .json file")
    parser.add_argument("--assignment", help="nbgrader's assignment folder name, if several")
    parser.add_argument("--workers", type=int, help="students at a time (default: 2 per CPU)")
    parser.add_argument("--start-limit", type=float, default=Limits.start, metavar="S")
    parser.add_argument("--test-limit", type=float, default=Limits.test, metavar="S")
    parser.add_argument("--student-limit", type=float, default=Limits.student, metavar="S")
    return parser


class ProgressBar:
    """A plain-text bar on stderr: redrawn in place on a terminal, a line per student elsewhere."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width, self.begun = stream, width, time.monotonic()
        self.in_place = stream.isatty()

    def __call__(self, done: int, total: int, result) -> None:
        filled = self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        took = time.monotonic() - self.begun
        line = f"[{bar}] {done}/{total} students, {took:.0f} s"
        line += f"; last: {result.student} ({result.status})"
        if self.in_place:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    limits = Limits(start=args.start_limit, test=args.test_limit, student=args.student_limit)
    where = "a namespace each" if namespace_prefix() else "one at a time (no namespaces here)"
    print(f"Grading {args.task}: students in {where}.", file=sys.stderr)
    try:
        graded = grade(
            args.submissions,
            args.task,
            args.out,
            tests_file=args.tests,
            assignment=args.assignment,
            workers=args.workers,
            limits=limits,
            progress=ProgressBar(),
        )
    except LabsockError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopped: every student's programs ended; no files written.", file=sys.stderr)
        return 130
    failed = [r for r in graded.results if r.status == "grader error"]
    for result in failed:
        print(f"Grader error for {result.student}: {result.error}", file=sys.stderr)
    print(f"Wrote {graded.out / 'grades.csv'}, results.json and feedback/.", file=sys.stderr)
    return graded.exit_status


if __name__ == "__main__":
    sys.exit(main())
