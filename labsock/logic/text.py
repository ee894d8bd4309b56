"""Received text made safe to show: pure logic, used by every layer that prints or draws it.

A datagram is whatever its sender chose. Printed raw, an ESC starts a terminal command (clear the
screen, set the window title), a CR or a newline forges a line that looks like another client's,
and a bidi override makes the line read differently from what it holds. Every plain-text output
of received text (the command line, Message.line, text reports) goes through escape_controls, so
these characters show as visible escapes (\\x1b, \\r, \\u202e) and do nothing. HTML views escape
with html.escape; plot labels also need escape_mathtext.
"""

from __future__ import annotations

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# C0 controls, DEL and C1 controls act on a terminal; the bidi controls and the line and
# paragraph separators change how a line reads or where it breaks. Other invisible characters
# (the joiners in emoji and Arabic script, say) are left alone: they command nothing.
_CONTROLS = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    *range(0x2028, 0x202F),
    *range(0x2066, 0x206A),
]


def _escape(code: int) -> str:
    return _NAMED.get(chr(code)) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


_TABLE = {code: _escape(code) for code in _CONTROLS}
# A program's output keeps its line breaks and tabs: they lay out a view, they command nothing.
_LINES_TABLE = {code: text for code, text in _TABLE.items() if chr(code) not in "\n\t"}
# In JSON output the C0 controls are escaped by json itself; these are the ones it lets through.
_JSON_TABLE = {code: f"\\u{code:04x}" for code in _CONTROLS if code >= 0x7F}


def escape_controls(text: str, *, keep_lines: bool = False) -> str:
    """text with every control character shown as an escape (ESC -> \\x1b, CR -> \\r).

    keep_lines: newlines and tabs stay as they are (a program's output, shown as lines).
    """
    if text.isprintable():  # the usual case, one C-level scan: nothing to do
        return text
    return text.translate(_LINES_TABLE if keep_lines else _TABLE)


def json_line(value) -> str:
    """value as one line of JSON, non-ASCII text kept readable, no control character raw."""
    import json  # here, not at the top: it would add a millisecond to every `import labsock`

    return json.dumps(value, ensure_ascii=False).translate(_JSON_TABLE)


def escape_mathtext(text: str) -> str:
    """A plot label that matplotlib shows as typed: a $ would start a formula (and a broken
    one stops the whole figure from drawing)."""
    return text.replace("$", r"\$")


def plot_label(text: str) -> str:
    """Received text as a matplotlib label: controls escaped, no formula."""
    return escape_mathtext(escape_controls(text))
