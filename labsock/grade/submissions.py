"""Where the students' notebooks are: a folder of notebooks, or nbgrader's submitted/ folders.

    find_submissions("hand_ins/", "task1")
    # {"alice": Path("hand_ins/alice.ipynb"), ...}           a folder of STUDENT.ipynb files
    # {"alice": Path("submitted/alice/lab1/task1_udp_tcp.ipynb"), ...}   nbgrader's layout

In nbgrader's layout (submitted/STUDENT/ASSIGNMENT/NOTEBOOK.ipynb) the student is the folder's
name and the notebook is the one whose name starts with the task ("task1..."), or the only one.
"""

from __future__ import annotations

import re
from pathlib import Path

from labsock.logic.errors import LabsockError


def find_submissions(folder: str | Path, task: str, assignment: str | None = None) -> dict:
    """Student name -> their notebook for this task, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabsockError(f"{folder} is not a folder of submissions.")
    if (folder / "submitted").is_dir():  # an nbgrader course folder
        folder = folder / "submitted"
    found = {path.stem: path for path in folder.glob("*.ipynb")}
    for student in sorted(p for p in folder.iterdir() if p.is_dir() and not _hidden(p)):
        notebook = _nbgrader_notebook(student, task, assignment)
        if notebook is not None:
            found[student.name] = notebook
    if not found:
        raise LabsockError(
            f"No notebooks in {folder}: give a folder of STUDENT.ipynb files, or nbgrader's "
            "submitted/ folder (submitted/STUDENT/ASSIGNMENT/NOTEBOOK.ipynb)."
        )
    return dict(sorted(found.items()))


def _hidden(path: Path) -> bool:
    return path.name.startswith((".", "_"))  # .ipynb_checkpoints, __pycache__


def _nbgrader_notebook(student: Path, task: str, assignment: str | None) -> Path | None:
    folders = [student / assignment] if assignment else sorted(student.iterdir())
    notebooks = [
        path
        for folder in folders
        if folder.is_dir() and not _hidden(folder)
        for path in sorted(folder.glob("*.ipynb"))
    ]
    for_task = [path for path in notebooks if path.name.startswith(task)]
    if len(for_task) == 1:
        return for_task[0]
    return notebooks[0] if len(notebooks) == 1 else None


def file_name(student: str) -> str:
    """A name safe as a file name, for the student's feedback page."""
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", student).lstrip(".") or "student"
