"""What the grader takes from a student's notebook: their programs and their functions, as text.

    programs_in(notebook)   # {"udp_server": Program(...), ...}: the last cell of each name
    functions_in(notebook)  # the notebook's imports and definitions, nothing else

No cell of a student's notebook is run as it stands: a program runs as its own process, as
%%background or %%client would run it (with the cell's --set applied), and of the other cells
only `import`, `def` and `class` statements are kept, so a cell that starts a server, loops or
deletes files does nothing here. Pure: notebook JSON in, text out.
"""

from __future__ import annotations

import argparse
import ast
import shlex
from dataclasses import dataclass, field

from labsock.logic.errors import LabsockError
from labsock.logic.program_edits import parse_setting, set_variables

MAGICS = ("background", "client")


@dataclass(frozen=True)
class Program:
    """One program cell of the notebook, as the magic would run it."""

    name: str
    magic: str  # "background" or "client"
    code: str  # the cell's code with its --set values written in
    typed: tuple[str, ...] = ()
    timeout: float | None = None
    notes: tuple[str, ...] = field(default=())  # what was changed or left out, in words


def cells(notebook: dict) -> list[str]:
    """The sources of the notebook's code cells, in order."""
    found = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            found.append("".join(source) if isinstance(source, list) else str(source))
    return found


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # a bad magic line is no program: never exit the grader
        raise ValueError(message)


def _magic_parser() -> argparse.ArgumentParser:
    parser = _Parser(add_help=False)
    parser.add_argument("name")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--type", action="append", default=[], dest="typed")
    parser.add_argument("--set", action="append", default=[], dest="settings")
    return parser


def program_of(source: str) -> Program | None:
    """The program a %%background/%%client cell runs; None for any other cell or a bad line."""
    first, _, body = source.lstrip("\n").partition("\n")
    magic, _, line = first.strip().partition(" ")
    if magic.removeprefix("%%") not in MAGICS or not magic.startswith("%%"):
        return None
    try:
        args, _unknown = _magic_parser().parse_known_args(shlex.split(line))
    except ValueError:
        return None
    settings, notes = {}, []
    for text in args.settings:
        if "{" in text:  # IPython fills {expression} in from the kernel; there is no kernel here
            notes.append(f"--set {text} left out: the grader has no {text.partition('=')[2]}")
            continue
        try:
            name, value = parse_setting(text)
        except LabsockError as exc:
            notes.append(str(exc))
            continue
        settings[name] = value
    code, set_notes = set_variables(body, settings) if settings else (body, [])
    return Program(
        args.name,
        magic.removeprefix("%%"),
        code,
        tuple(args.typed),
        args.timeout,
        tuple(notes + set_notes),
    )


def programs_in(notebook: dict) -> dict[str, Program]:
    """Every program of the notebook by name; a name's last cell wins, as re-running it would."""
    found: dict[str, Program] = {}
    for source in cells(notebook):
        program = program_of(source)
        if program is not None:
            found[program.name] = program
    return found


def _python_lines(source: str) -> str:
    # IPython's own lines (%magic, !shell, %%cell magic) are not Python: they go.
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def functions_in(notebook: dict) -> str:
    """The notebook's imports and definitions, in cell order; every other statement left out.

    A cell that is not valid Python is skipped whole (its definitions are not the student's
    finished work). Decorators are kept with their definition: they run when it is defined."""
    kept = []
    for source in cells(notebook):
        try:
            tree = ast.parse(_python_lines(source))
        except SyntaxError:
            continue
        kept += [ast.unparse(node) for node in tree.body if isinstance(node, KEPT)]
    return "\n\n".join(kept) + ("\n" if kept else "")
