"""Every self-check against the right and wrong programs of tests/student_programs.py.

A right program must pass every point; a wrong one must fail, first at the point that names its
mistake, with a hint that says what to change. The cases run as `python -m tests.self_check_table`
runs them (each in its own process, a few at a time), so this is the table the README shows.
"""

from __future__ import annotations

import concurrent.futures

import pytest

from tests.self_check_table import judge, run_in_child
from tests.student_programs import CASES

PARALLEL = 3  # cases at once: most of a case's time is its programs waiting


@pytest.fixture(scope="module")
def verdicts(request):
    """Each selected case's verdict, all run at once (a case takes 1-4 s, mostly waiting)."""
    chosen = sorted(
        {
            item.callspec.params["index"]
            for item in request.session.items
            # nbval's notebook cells are items too, without a module
            if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
        }
    )
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        return dict(zip(chosen, pool.map(run_in_child, chosen), strict=True))


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case.id for case in CASES])
def test_the_check_judges_the_program_truthfully(verdicts, index):
    case, row = CASES[index], verdicts[index]
    owed = "pass" if case.right else f"NO: {case.expect} (hint with {case.hint!r})"
    assert judge(case, row["said"], row["hint"]), (
        f"{case.id}: owed {owed}, said {row['said']} ({row['hint']})"
    )


def test_every_check_meets_right_and_wrong_programs():
    checks = {case.check for case in CASES}
    for check in checks:
        kinds = {case.right for case in CASES if case.check == check}
        assert kinds == {True, False}, check
        rights = [case for case in CASES if case.check == check and case.right]
        assert len(rights) >= 2 or check.endswith("alnum"), check
