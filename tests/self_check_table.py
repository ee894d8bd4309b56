"""The self-checks' verdicts on every case of tests/student_programs.py, as a Markdown table.

    python -m tests.self_check_table [--only WORD] [--jobs N]      (in a network namespace)

Each row: the check, the program, what the check owes it (pass, or the point that must fail),
what it said, and whether that is right. The last line counts right programs failed and wrong
programs passed. A case runs in its own process (--jobs at a time), so cases never share a
port or a program name.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one(index: int) -> dict:
    """Run case `index` here and return its row (used in the child process)."""
    from tests.self_check_runs import failing_point, run_case, verdict
    from tests.student_programs import CASES

    case = CASES[index]
    start = time.monotonic()
    try:
        checklist = run_case(case)
        said = verdict(checklist)
        point = failing_point(checklist)
        hint = point.hint if point else ""
    except Exception as exc:  # the labsock being measured may lack a check or an option
        said, hint = f"error: {exc.__class__.__name__}: {exc}", ""
    return {"said": said, "hint": hint, "seconds": time.monotonic() - start}


def judge(case, said: str, hint: str) -> bool:
    if case.right:
        return said == "pass"
    points = case.expect.format(name="c1").split("|")  # a mistake that may show at either
    named = any(said.startswith(f"NO: {point}") for point in points)
    return named and case.hint.lower() in hint.lower()


def run_in_child(index: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.self_check_table", "--case", str(index)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"said": f"error: {out.stderr.strip()[-200:]}", "hint": "", "seconds": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", type=int)
    parser.add_argument("--only", default="")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(one(args.case)))
        return
    from tests.student_programs import CASES

    chosen = [i for i, case in enumerate(CASES) if args.only in case.id]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        rows = dict(zip(chosen, pool.map(run_in_child, chosen), strict=True))
    print("| check | program | owed | said | |")
    print("|---|---|---|---|---|")
    wrongly = {"right failed": 0, "wrong passed": 0, "wrong point": 0}
    for i in chosen:
        case, row = CASES[i], rows[i]
        good = judge(case, row["said"], row["hint"])
        if not good:
            if case.right:
                wrongly["right failed"] += 1
            elif row["said"] == "pass":
                wrongly["wrong passed"] += 1
            else:
                wrongly["wrong point"] += 1
        owed = "pass" if case.right else f"NO: {case.expect.format(name='c1')}"
        said = row["said"].replace("|", "/")
        print(f"| {case.check} | {case.name} | {owed} | {said} | {'ok' if good else 'WRONG'} |")
        if not good and os.environ.get("SHOW_HINTS"):
            print(f"|  |  | hint owed: {case.hint} | {row['hint'][:300]} |  |")
    total = sum(row["seconds"] for row in rows.values())
    print(f"\n{len(chosen)} cases, {total:.0f} s of checks; " + ", ".join(
        f"{count} {what}" for what, count in wrongly.items()))  # fmt: skip


if __name__ == "__main__":
    main()
