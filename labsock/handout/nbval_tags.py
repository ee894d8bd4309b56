"""nbval's markers as cell tags, so that students' cells read like a handout.

nbval reads a comment such as `# NBVAL_IGNORE_OUTPUT` in a cell's code, or the same as a tag in
the cell's metadata (`nbval-ignore-output`). The tag does the same and is out of sight:
move_markers_to_tags turns each marker comment into its tag and takes the comment line out.

    python -m labsock.handout.nbval_tags notebooks/*.ipynb

rewrites notebooks in place (notebooks/*.ipynb when none are named) and says what it changed;
run it again after editing a notebook: a notebook without markers is left as it is.
"""

from __future__ import annotations

import sys

from labsock.handout.notebook_files import run

# The comments nbval 0.11 obeys (nbval/plugin.py, comment_markers) and the tag of each. The old
# PYTEST_VALIDATE_IGNORE_OUTPUT gets the current tag.
MARKER_TAGS = {
    "NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "PYTEST_VALIDATE_IGNORE_OUTPUT": "nbval-ignore-output",
    "NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "NBVAL_RAISES_EXCEPTION": "raises-exception",
    "NBVAL_SKIP": "nbval-skip",
}


def marker_of(line: str) -> str | None:
    """The nbval marker a line is, read as nbval reads it (a whole-line comment), or None."""
    stripped = line.strip()
    if not stripped.startswith("#"):
        return None
    word = stripped.lstrip("#").strip()
    return word if word in MARKER_TAGS else None


def markers_in(source: str) -> list[str]:
    return [marker for line in source.splitlines() if (marker := marker_of(line))]


def move_markers_to_tags(notebook) -> int:
    """Turn every nbval marker comment of notebook's code cells into a cell tag, in place.

    Returns how many cells changed. Tags already there stay, and none is added twice.
    """
    changed = 0
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        markers = markers_in(source)
        if not markers:
            continue
        kept = [line for line in source.split("\n") if not marker_of(line)]
        while kept and not kept[0].strip():  # the marker was the first line, or above a blank
            kept.pop(0)
        cell["source"] = "\n".join(kept)
        metadata = cell.setdefault("metadata", {})
        tags = metadata.setdefault("tags", [])
        for marker in markers:
            if MARKER_TAGS[marker] not in tags:
                tags.append(MARKER_TAGS[marker])
        changed += 1
    return changed


def main(argv: list[str]) -> int:
    """move_markers_to_tags on each notebook named (every one in notebooks/ without a name)."""
    said = "{changed} cell(s) now carry their nbval marker as a tag"
    return run(argv, move_markers_to_tags, said)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
