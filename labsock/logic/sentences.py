"""labsock's sentences as HTML: escaped, with `code` in backticks shown as code.

The same sentence prints in a terminal, where backticks mark what to type, and shows in a
widget or an HTML table, where raw backticks would only be noise. Pure string building.
"""

from __future__ import annotations

import re

# A run of text between two backticks on one line: what the student types or reads as code.
_CODE = r"`([^`\n]+)`"


def sentence_html(text: str) -> str:
    """text escaped for HTML, each `code` in <code> (backticks dropped)."""
    from html import escape  # here: html.entities costs 1-2 ms of `import labsock`

    return re.sub(_CODE, r"<code>\1</code>", escape(str(text)))
