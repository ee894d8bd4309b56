"""The per-client table of a counting server: plain text in a terminal, HTML in Jupyter.

Pure formatting over `SenderStats` snapshots (labsock.logic.sequence); no sockets, no widgets.
"""

from __future__ import annotations

import html
from collections.abc import Hashable, Iterable, Mapping

from labsock.logic.sequence import SenderStats
from labsock.logic.tables import text_table

COLUMNS = [
    # (heading, tooltip): the tooltip repeats the definition from labsock.logic.sequence
    ("client", "name given to the client's port, and its address"),
    ("received", "messages with a valid number, duplicates included"),
    ("last", "the number of the latest message"),
    ("missing", "numbers between the lowest and highest so far that have not arrived"),
    ("duplicates", "messages whose number had already arrived"),
    ("out of order", "messages that arrived after a later number"),
    ("wraps", "times the count went from 100 back to 1"),
    ("rate", "messages a second over the last few seconds"),
]


def port_of(sender: Hashable) -> int | None:
    """The port in a sender key: ``11000``, ``"127.0.0.1:11000"`` or ``("127.0.0.1", 11000)``."""
    if isinstance(sender, bool):
        return None
    if isinstance(sender, int):
        return sender
    if isinstance(sender, tuple) and len(sender) >= 2 and isinstance(sender[1], int):
        return sender[1]
    if isinstance(sender, str):
        _, _, port = sender.rpartition(":")
        if port.isdecimal():
            return int(port)
    return None


def sender_name(sender: Hashable, names: Mapping | None = None) -> str | None:
    """The name given to a sender (by key or by its port), or None."""
    if not names:
        return None
    if sender in names:
        return str(names[sender])
    port = port_of(sender)
    return str(names[port]) if port in names else None


def sender_label(sender: Hashable, names: Mapping | None = None) -> str:
    """``"c1 (127.0.0.1:11000)"`` when named, else just the address."""
    if isinstance(sender, tuple) and len(sender) == 2:
        address = f"{sender[0]}:{sender[1]}"
    else:
        address = str(sender)
    name = sender_name(sender, names)
    return f"{name} ({address})" if name else address


def _cell_style(column: int) -> str:
    # The client's name reads from the left; the numbers line up on the right.
    return f"text-align:{'left' if column == 0 else 'right'}; padding:0 0.6em"


def _rate_text(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1f}/s"


def _last_text(value: int | None) -> str:
    return "-" if value is None else str(value)


class ClientTable:
    """One row per client; ``print(table)`` or display it in Jupyter."""

    def __init__(
        self,
        stats: Iterable[SenderStats],
        names: Mapping | None = None,
        rates: bool = True,
        note: str | None = None,
    ):
        self.stats = list(stats)
        self.names = dict(names or {})
        self.rates = rates  # False leaves the rate out, e.g. for output that must repeat
        self.note = note  # a line under the table, e.g. about clients not shown

    def rows(self) -> list[list[str]]:
        rows = []
        for s in self.stats:
            row = [
                sender_label(s.sender, self.names),
                str(s.received),
                _last_text(s.last),
                str(s.missing),
                str(s.duplicates),
                str(s.out_of_order),
                str(s.wraps),
            ]
            if self.rates:
                row.append(_rate_text(s.rate))
            rows.append(row)
        return rows

    def headings(self) -> list[tuple[str, str]]:
        return COLUMNS if self.rates else COLUMNS[:-1]

    def __str__(self) -> str:
        rows = self.rows()
        if not rows:
            return "no messages yet"
        # The client's name reads from the left; the numbers line up on the right.
        lines = text_table([[h for h, _ in self.headings()], *rows], align="l" + "r" * 7)
        return "\n".join([*lines, *([self.note] if self.note else [])])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return self.html()

    def html(self) -> str:
        head = "".join(
            f'<th title="{html.escape(tip)}" style="{_cell_style(i)}">{html.escape(h)}</th>'
            for i, (h, tip) in enumerate(self.headings())
        )
        body = []
        for s, row in zip(self.stats, self.rows(), strict=True):
            # A row with anything missing, duplicated or late is tinted, so it stands out.
            style = "" if s.clean else ' style="background:#fff3cd"'
            cells = "".join(
                f'<td style="{_cell_style(i)}">{html.escape(c)}</td>' for i, c in enumerate(row)
            )
            body.append(f"<tr{style}>{cells}</tr>")
        if not body:
            return "<p>no messages yet</p>"
        return (
            '<table class="labsock-clients" style="font-family:monospace">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            + (f"<p><i>{html.escape(self.note)}</i></p>" if self.note else "")
        )
