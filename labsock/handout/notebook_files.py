"""The part the handout's notebook tools share: a change run over notebook files, and their
command line (`python -m labsock.handout.nbgrader_cells [NOTEBOOK ...]`, likewise nbval_tags)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def change_notebooks(paths, change: Callable) -> dict[Path, int]:
    """change(notebook), which says how many cells it changed, on each notebook file; a file is
    rewritten only if a cell changed."""
    import nbformat

    changes = {}
    for path in map(Path, paths):
        notebook = nbformat.read(path, as_version=4)
        changes[path] = change(notebook)
        if changes[path]:
            nbformat.write(notebook, path)
    return changes


def run(argv: list[str], change: Callable, said: str) -> int:
    """A tool's command line: the notebooks named (every one in notebooks/ without a name),
    each changed by change(notebook); a line each, `said` formatted with how many cells."""
    paths = argv or sorted(Path("notebooks").glob("*.ipynb"))
    for path, changed in change_notebooks(paths, change).items():
        print(f"{path}: {said.format(changed=changed)}")
    return 0
