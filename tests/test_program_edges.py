"""The pure edges of running students' programs (issue 17, point 4): --set edits by the parser's
positions, text that cannot be UTF-8, output bounded by characters, one validation for numbers.
No sockets, no processes."""

from __future__ import annotations

import argparse
import ast
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labsock.logic.arguments import seconds, whole_number
from labsock.logic.errors import LabsockError
from labsock.logic.program_edits import set_variables
from labsock.logic.validation import validate_text, validate_timeout
from labsock.net.log import MessageLog
from labsock.net.programs.job import Output

pytestmark = pytest.mark.fast

# Characters str.splitlines() ends a line at, and Python's parser does not.
NOT_LINE_ENDS = ["\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x0b"]


def value_of(code: str, name: str):
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return ast.literal_eval(node.value)
    return None


@pytest.mark.parametrize("odd", NOT_LINE_ENDS)
def test_set_edits_the_right_place_after_a_character_splitlines_counts_as_a_line_end(odd):
    code = f"# a comment with {odd} inside\nmessage = 'x{odd}y'\nserverName = 'localhost'\n"
    changed, _ = set_variables(code, {"serverName": "10.0.0.5"})
    assert value_of(changed, "serverName") == "10.0.0.5"
    assert value_of(changed, "message") == f"x{odd}y"
    assert changed == code.replace("'localhost'", "'10.0.0.5'")


@given(st.lists(st.sampled_from([*NOT_LINE_ENDS, "\n", "\r\n", "\r", "é", "x", " "]), max_size=30))
def test_set_changes_only_the_value_whatever_comes_before(pieces):
    comment = "".join(pieces).replace("\r", "\n")  # a comment ends at a real line end
    code = "".join(f"# {line}\n" for line in comment.split("\n")) + "serverName = 'a'\nx = 1\n"
    changed, _ = set_variables(code, {"serverName": "10.0.0.5"})
    assert changed == code.replace("serverName = 'a'", "serverName = '10.0.0.5'")


def test_a_lone_surrogate_is_named_with_its_place():
    assert validate_text("ünïcode ✓", "x") == "ünïcode ✓"
    with pytest.raises(LabsockError, match=r"'\\udfff' at line 3, character 2"):
        validate_text("a\nb\nc\udfff", "The code")


def test_set_on_code_with_a_lone_surrogate_leaves_the_saying_to_the_start():
    changed, _ = set_variables("x = '\udc80'\n", {"serverName": "10.0.0.5"})
    assert changed.startswith("serverName = '10.0.0.5'\n")


def test_one_long_line_is_shown_by_its_newest_characters_only():
    output = Output()
    output.add("begin" + "x" * 999_000 + "end\nlast line\n")
    text, hidden = output.tail(200)
    assert len(text) < 200_000  # not the million characters, at every redraw
    assert text.startswith("[... the start of this line is not shown ...]x")
    assert text.endswith("xxend\nlast line")
    assert hidden == 0  # the long line is shown, in part


@given(st.lists(st.text(alphabet="ab\n", max_size=40), max_size=30), st.integers(1, 8),
       st.integers(1, 60))  # fmt: skip
def test_the_tail_is_the_end_of_the_output_within_its_bounds(pieces, lines, characters):
    output = Output()
    for piece in pieces:
        output.add(piece)
    whole = "".join(pieces)
    text, hidden = output.tail(lines, characters)
    marker = "[... the start of this line is not shown ...]"
    shown = text.removeprefix(marker)
    assert len(shown) <= characters
    assert shown.count("\n") < lines
    assert whole.removesuffix("\n").endswith(shown)
    all_lines = whole.count("\n") + (1 if whole and not whole.endswith("\n") else 0)
    assert (
        max(all_lines - lines, 0) <= hidden <= all_lines - (shown.count("\n") + 1 if shown else 0)
    )


BAD_SECONDS = [math.nan, math.inf, -math.inf, -1, 0.0 - 1e-9, 1e300, "2", True, None]


@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
def test_one_check_refuses_every_bad_number_of_seconds(value):
    with pytest.raises(LabsockError, match="is not a number of seconds"):
        validate_timeout(value)


@pytest.mark.parametrize("text", ["١", "²", "１", "-1", "nan", "inf", "1e999", ""])
def test_the_command_line_takes_only_plain_numbers(text):
    for parse in (seconds, whole_number):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)


def test_the_command_line_still_takes_plain_numbers():
    assert seconds(" 2.5 ") == 2.5
    assert whole_number("10") == 10


@pytest.mark.parametrize("size", [2**70, 0, -5, 1.5, math.nan, "100"], ids=repr)
def test_a_log_size_too_big_or_not_whole_is_said(size):
    with pytest.raises(LabsockError, match="is not a size the log can keep"):
        MessageLog(size)


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "١"])
def test_a_cell_timeout_is_checked_as_every_other(value):
    from labsock.show.magics import _arguments

    with pytest.raises(LabsockError, match="positive number of seconds"):
        _arguments("client", f"c1 --timeout {value}")
