"""The program view's pure parts: what it escapes, what a piece holds, how lines are counted."""

from __future__ import annotations

import pytest

from labsock.net.programs.job import Output
from labsock.show.program_view import _last_lines, visible

pytestmark = pytest.mark.fast


def test_visible_escapes_what_escape_controls_escapes_but_keeps_lines_and_tabs():
    shown = visible("name\tscore\nESC\x1b[2J C1\x85 bidi\u202eevil\r\n")
    assert shown == "name\tscore\nESC\\x1b[2J C1\\x85 bidi\\u202eevil\\r\n"


def test_a_follower_gets_each_piece_once_and_the_count_of_every_line_printed():
    output = Output(limit=50)
    text, cursor, printed, follows = output.follow(None, 1000)
    assert (text, printed, follows) == ("", 0, False)
    output.add("line 1\nline 2\n")
    text, cursor, printed, follows = output.follow(cursor, 1000)
    assert (text, printed, follows) == ("line 1\nline 2\n", 2, True)
    for n in range(3, 40):
        output.add(f"line {n}\n")
    # more than the output keeps went by: a gap, and the count still counts every line
    text, cursor, printed, follows = output.follow(cursor, 1000)
    assert printed == 39 and not follows
    assert text.endswith("line 39\n") and len(text) <= 50
    output.add("line 40\n")
    assert output.follow(cursor, 1000) == ("line 40\n", cursor + 8, 40, True)


def test_a_piece_is_bounded_by_characters():
    output = Output()
    output.add("x" * 500)
    text, _, _, follows = output.follow(0, 100)
    assert text == "x" * 100 and not follows


def test_a_fresh_tail_starts_at_a_line_and_keeps_the_newest_lines(monkeypatch):
    monkeypatch.setattr("labsock.show.program_view.SHOWN_LINES", 2)
    assert _last_lines("ne 7\nline 8\nline 9\n", end=100) == "line 8\nline 9\n"
    assert _last_lines("line 1\nline 2\nline 3", end=20) == "line 2\nline 3"
    assert _last_lines("line 1\n", end=7) == "line 1\n"
