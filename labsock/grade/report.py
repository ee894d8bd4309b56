"""What the grader writes: grades.csv, results.json, and a feedback page per student.

    grades.csv       student, a column per test (its points), total, maximum, seconds, status
    results.json     every test's every check point, with ok and hint (hidden ones too)
    feedback/S.html  for the student: visible checks with hints, hidden tests as passed/failed,
                     each program's state, last output lines and code; one file, no Jupyter

Everything a student wrote or printed is escaped before it goes into a page.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from html import escape
from pathlib import Path

from labsock.grade.runner import StudentResult
from labsock.grade.submissions import file_name
from labsock.grade.task_tests import GradedTest


def _number(points: float) -> str:
    return f"{points:g}"


def write_grades(path: Path, results: list[StudentResult], tests: list[GradedTest]) -> None:
    maximum = sum(test.points for test in tests)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        names = [test.name for test in tests]
        writer.writerow(["student", *names, "total", "maximum", "seconds", "status"])
        for result in results:
            graded = result.status != "grader error"  # never a 0 for the grader's failure
            points = [result.points(t) for t in tests]
            writer.writerow(
                [
                    result.student,
                    *[_number(p) if graded else "" for p in points],
                    _number(sum(points)) if graded else "",
                    _number(maximum),
                    f"{result.seconds:.1f}",
                    result.status,
                ]
            )


def write_results(path: Path, task: str, results: list[StudentResult], tests) -> None:
    data = {
        "task": task,
        "tests": [asdict(test) for test in tests],
        "students": [
            {**asdict(result), "total": sum(result.points(t) for t in tests)} for result in results
        ],
    }
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.4 }
h1 { font-size: 1.5em } h2 { font-size: 1.15em; margin-top: 1.6em }
.ok { color: #080; font-weight: bold } .no { color: #b00; font-weight: bold }
.hint { color: #555; font-style: italic; margin-left: 2.4em }
.point { margin: .2em 0 }
pre { background: #f5f5f5; padding: .6em; overflow-x: auto; border-radius: 4px; font-size: .9em }
table.summary td { padding: .15em .8em .15em 0 }
summary { cursor: pointer; margin: .3em 0 }
.status { color: #555 }
"""


def _mark(ok) -> str:
    return "<span class='ok'>ok</span>" if ok else "<span class='no'>NO</span>"


def _test_section(test: GradedTest, record: dict | None, points: float) -> str:
    head = f"<h2>{escape(test.name)}: {_number(points)} of {_number(test.points)} points</h2>"
    if record is None:
        return head + "<p class='status'>Not run: the time limit for your notebook came first.</p>"
    checklist = record["checklist"]
    if not test.visible:
        verdict = "passed" if checklist["passed"] else "failed"
        return head + f"<p>A hidden test: {verdict}.</p>"
    shown = [p for p in checklist["points"] if not p.get("hidden")]
    good = sum(1 for p in shown if p["ok"])
    verdict = f"all {good} checks pass" if good == len(shown) else f"{good} of {len(shown)} pass"
    # Passed tests fold to one line (a click opens them): what is left to do stands out.
    opened = "" if checklist["passed"] else " open"
    lines = [head, f"<details{opened}><summary>{escape(checklist['title'])}: {verdict}</summary>"]
    hidden = [p for p in checklist["points"] if p.get("hidden")]
    for point in checklist["points"]:
        if point.get("hidden"):
            continue
        lines.append(f"<div class='point'>{_mark(point['ok'])} {escape(point['what'])}</div>")
        if point["hint"]:
            lines.append(f"<div class='hint'>{escape(point['hint'])}</div>")
    if hidden:
        right = sum(1 for p in hidden if p["ok"])
        lines.append(f"<div class='point'>Hidden messages: {right} of {len(hidden)} right.</div>")
    return "\n".join([*lines, "</details>"])


def _program_section(name: str, program: dict) -> str:
    parts = [f"<h2>Your program {escape(name)}</h2>"]
    if program.get("state"):
        parts.append(f"<p class='status'>During its test: {escape(program['state'])}</p>")
    if program.get("error"):
        parts.append(f"<p>{escape(program['error'])}</p>")
    for note in program.get("notes", []):
        parts.append(f"<p class='status'>({escape(note)})</p>")
    if program.get("output"):
        parts.append(f"<p>Its last output lines:</p><pre>{escape(program['output'])}</pre>")
    parts.append(f"<p>Its code:</p><pre>{escape(program.get('code', ''))}</pre>")
    return "\n".join(parts)


def feedback_page(result: StudentResult, tests: list[GradedTest], task: str) -> str:
    total = sum(result.points(t) for t in tests)
    maximum = sum(t.points for t in tests)
    body = [
        f"<h1>{escape(task)}: feedback for {escape(result.student)}</h1>",
        f"<p><b>{_number(total)} of {_number(maximum)} points.</b></p>",
    ]
    if result.status != "graded":
        body.append(f"<p class='no'>{escape(result.status)}: {escape(result.error)}</p>")
    body.append("<table class='summary'>")
    for test in tests:
        body.append(
            f"<tr><td>{escape(test.name)}</td><td>{_number(result.points(test))} / "
            f"{_number(test.points)}</td></tr>"
        )
    body.append("</table>")
    body += [_test_section(t, result.tests.get(t.name), result.points(t)) for t in tests]
    used = {name for t in tests for name in t.programs}
    body += [_program_section(n, p) for n, p in result.programs.items() if n in used]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(task)}: {escape(result.student)}</title><style>{STYLE}</style></head>"
        "<body>" + "\n".join(body) + "</body></html>\n"
    )


def write_all(out: Path, task: str, results: list[StudentResult], tests: list[GradedTest]):
    out.mkdir(parents=True, exist_ok=True)
    write_grades(out / "grades.csv", results, tests)
    write_results(out / "results.json", task, results, tests)
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for result in results:
        page = feedback_page(result, tests, task)
        (feedback / f"{file_name(result.student)}.html").write_text(page, "utf-8")
