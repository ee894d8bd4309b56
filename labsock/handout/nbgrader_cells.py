"""nbgrader's cell metadata in the lab's notebooks, so `nbgrader generate_assignment` and
`autograde` take them as they are.

    python -m labsock.handout.nbgrader_cells notebooks/*.ipynb

marks (notebooks/*.ipynb when none are named):
- each exercise cell (it holds `### BEGIN SOLUTION`) as an "Autograded answer":
  {"solution": true, "grade": false, "locked": false, "grade_id": "answer_NAME"};
- each self-check cell (its code calls labsock.check_... or labsock.try_...) as "Autograder
  tests": {"grade": true, "solution": false, "locked": true, "points": N, "grade_id": ...}; N is
  1, or what the cell already says (set points in nbgrader's panel: they stay);
and takes nbgrader's metadata off any other cell. Safe to run again, after any edit of a
notebook: a notebook already marked is not rewritten. Ids come from the names in the cells (the
program's or function's, the check's), so they stay when cells move.
"""

from __future__ import annotations

import ast
import re
import sys

from labsock.handout.notebook_files import run
from labsock.handout.solutions import BEGIN

SCHEMA_VERSION = 3


def _source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _answer_name(source: str) -> str:
    first = source.lstrip().split("\n", 1)[0]
    if first.startswith("%%"):
        words = first.split()
        return words[1] if len(words) > 1 else "cell"
    found = re.search(r"^\s*(?:def|class)\s+([A-Za-z_]\w*)", source, re.MULTILINE)
    return found.group(1) if found else "cell"


def check_calls(source: str) -> list[str]:
    """Names of a cell's calls to labsock's self-checks, each with its program if it names one:
    ['check_udp_server_alnum_server', 'try_reverse_words']."""
    if source.lstrip().startswith("%%"):
        return []
    python = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return []
    names = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "labsock"
            and node.func.attr.startswith(("check_", "try_"))
        ):
            program = [
                k.value.value
                for k in node.keywords
                if k.arg == "program" and isinstance(k.value, ast.Constant)
            ]
            names.append("_".join([node.func.attr, *map(str, program)]))
    return names


def mark_cells(notebook) -> int:
    """Set nbgrader's metadata on every code cell of notebook, in place; how many changed."""
    changed = 0
    used: set[str] = set()
    for cell in notebook["cells"]:
        metadata = cell.setdefault("metadata", {})
        before = metadata.get("nbgrader")
        wanted = _wanted(cell, before or {}, used) if cell.get("cell_type") == "code" else None
        if wanted is None:
            metadata.pop("nbgrader", None)
        else:
            metadata["nbgrader"] = wanted
        changed += metadata.get("nbgrader") != before
    return changed


def _unique(name: str, used: set[str]) -> str:
    grade_id, number = name, 1
    while grade_id in used:
        number += 1
        grade_id = f"{name}_{number}"
    used.add(grade_id)
    return grade_id


def _wanted(cell, before: dict, used: set[str]) -> dict | None:
    source = _source(cell)
    if BEGIN in source:
        return {
            "grade": False,
            "grade_id": _unique("answer_" + _answer_name(source), used),
            "locked": False,
            "schema_version": SCHEMA_VERSION,
            "solution": True,
            "task": False,
        }
    checks = check_calls(source)
    if checks:
        return {
            "grade": True,
            "grade_id": _unique(checks[0], used),
            "locked": True,
            "points": before.get("points", 1),
            "schema_version": SCHEMA_VERSION,
            "solution": False,
            "task": False,
        }
    return None


def main(argv: list[str]) -> int:
    """mark_cells on each notebook named (every one in notebooks/ without a name)."""
    return run(argv, mark_cells, "nbgrader's metadata set on {changed} cell(s)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
