"""nbval's markers live in cell tags, not in the code students read; nbval obeys the tags."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labsock.handout.nbval_tags import markers_in, move_markers_to_tags

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def code_cell(source, tags=None, output=None):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    if output is not None:  # stored as if run: nbval refuses outputs of a cell never run
        cell.execution_count = 1
        cell.outputs = [
            nbformat.v4.new_output("execute_result", {"text/plain": output}, execution_count=1)
        ]
    return cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_cell_carries_an_nbval_comment(path):
    notebook = nbformat.read(path, as_version=4)
    found = [
        (number, markers_in(cell.source))
        for number, cell in enumerate(notebook.cells, 1)
        if cell.cell_type == "code" and markers_in(cell.source)
    ]
    assert not found, f"run python -m labsock.handout.nbval_tags {path.name}: {found}"


def test_markers_become_tags_and_leave_the_code():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        code_cell("# NBVAL_IGNORE_OUTPUT\nserver.view()"),
        code_cell("import x\n\n#  NBVAL_SKIP \nx.run()", tags=["keep-me"]),
        code_cell("# NBVAL_CHECK_OUTPUT\n# NBVAL_RAISES_EXCEPTION\n1 / 0"),
        code_cell("x = 1  # NBVAL_SKIP is only a marker on a line of its own"),
        nbformat.v4.new_markdown_cell("# NBVAL_SKIP"),
    ]
    assert move_markers_to_tags(notebook) == 3
    cells = notebook.cells
    assert (cells[0].source, cells[0].metadata.tags) == ("server.view()", ["nbval-ignore-output"])
    assert cells[1].source == "import x\n\nx.run()"
    assert cells[1].metadata.tags == ["keep-me", "nbval-skip"]
    assert cells[2].source == "1 / 0"
    assert cells[2].metadata.tags == ["nbval-check-output", "raises-exception"]
    assert "tags" not in cells[3].metadata and "tags" not in cells[4].metadata
    assert cells[4].source == "# NBVAL_SKIP"  # markdown is not nbval's business
    assert move_markers_to_tags(notebook) == 0  # again: nothing left to move


def test_nbval_obeys_the_tags_and_still_compares_untagged_cells(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        code_cell("# NBVAL_IGNORE_OUTPUT\n1 + 1", output="3"),  # wrong, and ignored
        code_cell("1 / 0\n# NBVAL_RAISES_EXCEPTION"),
        code_cell("# NBVAL_SKIP\nassert False"),
        code_cell("3 + 3", output="6"),
        code_cell("2 + 2", output="5"),  # wrong, untagged: nbval must fail it
    ]
    move_markers_to_tags(notebook)
    assert not any(markers_in(cell.source) for cell in notebook.cells)
    nbformat.write(notebook, tmp_path / "tagged.ipynb")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider"]
        + ["-q", "--rootdir", str(tmp_path), "tagged.ipynb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = run.stdout.strip().splitlines()[-1]
    assert "1 failed, 3 passed, 1 skipped" in summary, run.stdout[-3000:]
    assert "tagged.ipynb::Cell 4" in run.stdout  # the failure is the untagged wrong output
