"""nbgrader's cell metadata in the notebooks (python -m labsock.handout.nbgrader_cells), and
self-check cells that fail under autograde when their checklist does not pass.

nbgrader itself is not in the students' (or the test) venv (README, "Not nbgrader"): the
generate_assignment + autograde test runs with the nbgrader in NBGRADER_VENV (default
.nbgrader-venv beside this checkout) and is skipped where there is none."""

from __future__ import annotations

import ast
import copy
import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from labsock.handout.nbgrader_cells import check_calls, mark_cells
from labsock.lessons.checklist import GRADE_CELLS, Checklist, _LastValueMustPass, grade_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


@pytest.mark.fast
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_carries_nbgraders_metadata(path):
    notebook = nbformat.read(path, as_version=4)
    unmarked = copy.deepcopy(notebook)
    for cell in unmarked.cells:
        cell.metadata.pop("nbgrader", None)
    assert mark_cells(copy.deepcopy(notebook)) == 0, (
        f"run: python -m labsock.handout.nbgrader_cells {path.relative_to(ROOT)}"
    )
    assert mark_cells(unmarked) > 0  # the metadata is what the script would write
    solutions = [c for c in notebook.cells if "BEGIN SOLUTION" in source(c)]
    assert solutions and all(c.metadata["nbgrader"]["solution"] for c in solutions)
    graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded and all(check_calls(source(c)) for c in graded)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


@pytest.mark.fast
def test_marking_keeps_the_instructors_points_and_drops_stale_metadata():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell('labsock.check_udp_server(12000, program="alnum_server")'),
        nbformat.v4.new_code_cell("print('no longer a check')"),
    ]
    notebook.cells[0].metadata["nbgrader"] = {"points": 4}
    notebook.cells[1].metadata["nbgrader"] = {"grade": True, "points": 2}
    mark_cells(notebook)
    first = notebook.cells[0].metadata["nbgrader"]
    assert first["points"] == 4 and first["grade_id"] == "check_udp_server_alnum_server"
    assert "nbgrader" not in notebook.cells[1].metadata


class FakeShell:
    def __init__(self):
        self.ast_transformers = []


def run_cell(code: str, namespace: dict) -> None:
    tree = _LastValueMustPass().visit(ast.parse(code))
    exec(compile(tree, "cell", "exec"), namespace)


@pytest.mark.fast
def test_under_autograde_a_failing_check_fails_its_cell(monkeypatch):
    failing, passing = Checklist("Your server"), Checklist("Your server")
    failing.add("it answers", False, "Send the reply to clientAddress.")
    passing.add("it answers", True)
    namespace = {"failing": failing, "passing": passing}
    run_cell("x = 1\npassing", namespace)
    run_cell("failing.title", namespace)  # not a checklist: untouched
    with pytest.raises(AssertionError, match="clientAddress"):
        run_cell("failing", namespace)

    shell = FakeShell()
    monkeypatch.delenv(GRADE_CELLS, raising=False)
    grade_cells(shell)
    assert shell.ast_transformers == []  # students' notebooks: no change
    monkeypatch.setenv(GRADE_CELLS, "1")
    grade_cells(shell)
    grade_cells(shell)
    assert len(shell.ast_transformers) == 1


NBGRADER = Path(os.environ.get("NBGRADER_VENV", ROOT / ".nbgrader-venv")) / "bin" / "nbgrader"


# Under CI (.ci/run builds that venv) a missing nbgrader is a failure, not a skip.
@pytest.mark.skipif(
    not NBGRADER.exists() and os.environ.get("CI") != "true", reason=f"no nbgrader at {NBGRADER}"
)
def test_nbgrader_generates_and_autogrades_task1(tmp_path):
    course = tmp_path / "course"
    (course / "source" / "lab1").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "task1_udp_tcp.ipynb", course / "source" / "lab1")
    (course / "nbgrader_config.py").write_text(
        "import os\n"
        f"os.environ[{GRADE_CELLS!r}] = '1'\n"
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'lab'\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\n"
        "from labsock import your_code_here; your_code_here()'}\n"
    )

    def nbgrader(*args):
        done = subprocess.run(
            [str(NBGRADER), *args],
            cwd=course,
            capture_output=True,
            text=True,
            timeout=600,
            # nbgrader calls its alembic by name, from its own venv
            env={**os.environ, "PATH": f"{NBGRADER.parent}{os.pathsep}{os.environ['PATH']}"},
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        return done

    nbgrader("generate_assignment", "lab1", "--force")
    released = course / "release" / "lab1" / "task1_udp_tcp.ipynb"
    assert "BEGIN SOLUTION" not in released.read_text()
    for student, notebook in {
        "right": ROOT / "notebooks" / "task1_udp_tcp.ipynb",
        "stub": released,
    }.items():
        folder = course / "submitted" / student / "lab1"
        folder.mkdir(parents=True)
        shutil.copy(notebook, folder)
    nbgrader("autograde", "lab1", "--force")
    nbgrader("export", "--to", str(tmp_path / "grades.csv"))
    with open(tmp_path / "grades.csv") as grades:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(grades)}
    graded_cells = sum(
        1
        for c in json.loads(released.read_text())["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade")
    )
    assert scores["right"] == graded_cells
    assert scores["stub"] < scores["right"]
