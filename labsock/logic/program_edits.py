"""Set a variable of a student's program from outside, e.g. the partner's address in Task 2.

    %%client lan_client --set serverName={partner.address}

changes the program's own top-level `serverName = ...` line (the first one) to the given value,
so the program and its saved file stay the student's code, with the value written in, as the
student would have typed it. A program without such a line gets one at the top.
"""

from __future__ import annotations

import ast
import re

from labsock.logic.errors import LabsockError

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def parse_setting(text: str) -> tuple[str, object]:
    """'serverName=10.0.0.5' -> ('serverName', '10.0.0.5'); 'serverPort=12001' -> (..., 12001)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not re.fullmatch(_NAME, name):
        raise LabsockError(
            f"--set {text!r} is not NAME=VALUE. Write it as --set serverName=192.168.1.34 (no "
            "spaces around =)."
        )
    value = value.strip()
    return name, int(value) if value.isascii() and value.isdigit() else value


def set_variables(code: str, settings: dict[str, object]) -> tuple[str, list[str]]:
    """The program with each NAME's first top-level assignment set to its value; and notes."""
    notes = []
    for name, value in settings.items():
        code, replaced = _set_one(code, name, value)
        where = "" if replaced else " (a new first line: the program had no such line)"
        notes.append(f"labsock set {name} = {value!r}{where}")
    return code, notes


def _set_one(code: str, name: str, value) -> tuple[str, bool]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):  # ValueError: a lone surrogate, said when the program starts
        return f"{name} = {value!r}\n{code}", False  # the program's own error shows when it runs
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == name
        ):
            lines = _lines_as_python_counts(code)
            start, end = node.value, node.value
            before = _offset(lines, start.lineno, start.col_offset)
            after = _offset(lines, end.end_lineno, end.end_col_offset)
            text = "".join(lines)
            return text[:before] + repr(value) + text[after:], True
    return f"{name} = {value!r}\n{code}", False


def _lines_as_python_counts(code: str) -> list[str]:
    """The code's lines, with their ends, as the parser numbers them: only \n, \r\n and \r
    end a line (str.splitlines also ends one at \x0c, \x1c-\x1e, \x85, \u2028, \u2029,
    which would put every position after such a character on the wrong line)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", code)


def _offset(lines: list[str], line: int, column: int) -> int:
    """Character offset of (line, UTF-8 byte column) in the joined lines."""
    prefix = sum(len(text) for text in lines[: line - 1])
    return prefix + len(lines[line - 1].encode("utf-8")[:column].decode("utf-8"))
