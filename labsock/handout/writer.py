"""Write the student version: every notebook without its solutions, and what a student
installs from."""

from __future__ import annotations

import shutil
from pathlib import Path

from labsock.handout.solutions import exercise_cells, student_version
from labsock.logic.errors import LabsockError

PROJECT = Path(__file__).resolve().parents[2]
# Beside the notebooks, what a student needs for the README's one install command.
INSTALLED_FROM = ("requirements.txt", "pyproject.toml", "README.md")
# Folders beside the notebooks that they read or serve (Task 5's web pages).
NOTEBOOK_FILES = ("web",)


def write_handout(out: Path | str, project: Path | str = PROJECT, say=print) -> list[Path]:
    """Write the student version of project/notebooks/*.ipynb to out/notebooks/, and beside it
    the files and the package a student installs from. Returns the notebooks written."""
    import nbformat

    project, out = Path(project).resolve(), Path(out).resolve()
    sources = sorted((project / "notebooks").glob("*.ipynb"))
    if not sources:
        raise LabsockError(
            f"There are no notebooks in {project / 'notebooks'}: run this in a checkout of "
            "labsock, the folder that holds notebooks/ and labsock/."
        )
    if out == project or any(
        out == kept or kept in out.parents for kept in (project / "notebooks", project / "labsock")
    ):
        raise LabsockError(
            f"{out} would overwrite the reference notebooks or the package: give a new "
            "folder, for example `python -m labsock.handout student`."
        )
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        notebook = nbformat.read(source, as_version=4)
        student = student_version(notebook, name=source.name)
        target = out / "notebooks" / source.name
        nbformat.write(student, target)
        written.append(target)
        say(f"{target}: {len(exercise_cells(notebook.cells))} exercise cell(s) left to write")
    for name in NOTEBOOK_FILES:  # what the notebooks read or serve, beside them
        if (project / "notebooks" / name).is_dir():
            shutil.copytree(project / "notebooks" / name, out / "notebooks" / name,
                            dirs_exist_ok=True)  # fmt: skip
    for name in INSTALLED_FROM:
        shutil.copy2(project / name, out / name)
    shutil.copytree(
        project / "labsock",
        out / "labsock",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    return written
