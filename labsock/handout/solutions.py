"""The student version of one notebook: solutions out, a stub in, their outputs cleared.

The rules are nbgrader's (ClearSolutions with enforce_metadata=False, then clearing outputs), so
the notebooks also work with nbgrader's own `generate_assignment`:
- every line between one containing "BEGIN SOLUTION" and one containing "END SOLUTION" (both
  lines included) becomes the stub, indented like the BEGIN line; in a markdown cell the stub is
  "YOUR ANSWER HERE";
- a cell that nbgrader's metadata marks as a solution but holds no region becomes the stub whole.
One difference: nbgrader clears every output; here only the outputs that came from a solution
go (see outputs_to_clear), so the rest of the stored outputs still show what to expect.

Pure functions on notebook dicts (as json or nbformat reads them); no files, no kernel.
"""

from __future__ import annotations

import ast
import copy
import re

from labsock.lessons.exercises import STUB
from labsock.logic.errors import LabsockError

BEGIN = "BEGIN SOLUTION"
END = "END SOLUTION"
TEXT_STUB = "YOUR ANSWER HERE"
# An author's tag for a cell whose output comes from a solution without naming it (say, a
# client cell whose reply comes from the student's server on a fixed port).
CLEAR_OUTPUT_TAG = "handout-clear-output"

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MarkerError(LabsockError):
    """A notebook's solution markers do not pair up; the message names the cell."""


def source_of(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def solution_lines(source: str) -> list[str]:
    """The lines of source inside solution regions (the markers themselves excluded)."""
    lines, inside = [], False
    for line in source.split("\n"):
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def replace_regions(source: str, stub: str) -> tuple[str, bool]:
    """(source with every solution region replaced by stub, whether there was a region)."""
    out: list[str] = []
    inside = found = False
    for line in source.split("\n"):
        if BEGIN in line:
            if inside:
                raise MarkerError(f"a second {BEGIN!r} before {END!r}")
            inside = found = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub_line for stub_line in stub.split("\n"))
        elif END in line:
            inside = False  # as nbgrader: an END without a BEGIN is dropped too
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{BEGIN!r} without {END!r}")
    return "\n".join(out), found


def is_nbgrader_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution", False))


def names_bound(source: str) -> set[str]:
    """Names a code cell leaves in the notebook's namespace (at its top level).

    A cell that starts with a cell magic (`%%background udp_server`) runs its body elsewhere; it
    binds the names given on the magic's line.
    """
    first, _, _ = source.lstrip().partition("\n")
    if first.startswith("%%"):
        words = first.split()[1:]
        return {w for w in words if IDENTIFIER.fullmatch(w)}
    # Line magics and shell escapes are not Python; they bind nothing here.
    python = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for statement in tree.body:
        names |= _top_level_names(statement)
    return names


def _top_level_names(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}  # its body's names are local to it
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in statement.names}
    found = set()
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)  # defined inside an if or a loop: still top level
        elif not isinstance(node, ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return found


def uses_any(source: str, names: set[str]) -> bool:
    return any(re.search(rf"(?<![\w.]){re.escape(name)}\b", source) for name in names)


def outputs_to_clear(cells: list, exercises: set[int]) -> set[int]:
    """Indexes of the code cells whose stored output came from a solution.

    An exercise cell's own; a later cell that uses a name an exercise binds (and so on: a cell
    that uses a name bound by such a cell); and a cell tagged CLEAR_OUTPUT_TAG. Names are taken
    from the reference version, where the solutions still stand.
    """
    clear: set[int] = set()
    tainted: set[str] = set()
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = source_of(cell)
        tags = cell.get("metadata", {}).get("tags", [])
        if index in exercises or CLEAR_OUTPUT_TAG in tags or uses_any(source, tainted):
            clear.add(index)
            tainted |= names_bound(source)
    return clear


def exercise_cells(cells: list) -> set[int]:
    """Indexes of the cells that hold a solution (a region, or nbgrader's solution metadata)."""
    return {
        index
        for index, cell in enumerate(cells)
        if cell.get("cell_type") in ("code", "markdown")
        and (BEGIN in source_of(cell) or is_nbgrader_solution(cell))
    }


def student_version(notebook, name: str = "notebook", stub: str = STUB):
    """A copy of notebook with every solution replaced by the stub and its outputs cleared."""
    student = copy.deepcopy(notebook)
    cells = student["cells"]
    exercises = exercise_cells(cells)
    clear = outputs_to_clear(cells, exercises)
    for index in sorted(exercises):
        cell = cells[index]
        cell_stub = stub if cell["cell_type"] == "code" else TEXT_STUB
        source = source_of(cell)
        try:
            new_source, found = replace_regions(source, cell_stub)
        except MarkerError as error:
            raise MarkerError(f"{name}, cell {index + 1}: {error}.") from None
        magics = [line.split()[0] for line in solution_lines(source) if line.startswith("%%")]
        if magics:
            raise MarkerError(
                f"{name}, cell {index + 1}: keep the {magics[0]} line above {BEGIN!r}: "
                "the magic runs the cell, the student writes only its body."
            )
        cell["source"] = new_source if found else cell_stub
    for index in clear:
        cells[index]["outputs"] = []
        cells[index]["execution_count"] = None
    return student
