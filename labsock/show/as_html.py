"""HTML for what the network layer returns (a server's log, a relay, a ping run), and the hook
that makes Jupyter use it.

The network layer's objects only know their text (repr, for a terminal). In Jupyter they still
show themselves as HTML: show_in_jupyter() tells IPython, by module and class name, which function
here draws which class, so nothing is imported before it is shown. labsock/__init__.py calls it
when labsock is imported inside IPython. Received text is escaped in every cell.
"""

from __future__ import annotations

import sys

from labsock.net.log import MESSAGE


def _escape(text: str) -> str:
    from html import escape  # here, not at the top: html.entities costs 1-2 ms of import

    return escape(text)


def log_html(log, rows: int = 20) -> str:
    """The last rows entries of a server's log as a table: time, sender, message, reply."""
    entries = log.tail(rows)  # builds only the rows shown, however long the log
    body = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            m.clock(),
            _escape(m.sender),
            _escape(m.text if m.kind == MESSAGE else m.kind)
            + (f" <b style='color:#b00'>error: {_escape(m.error)}</b>" if m.error else ""),
            "" if m.reply is None else _escape(m.reply),
        )
        for m in entries
    )
    count = log.message_count
    shown = f", last {len(entries)} shown" if count > len(entries) else ""
    if log.dropped:
        shown += f" ({log.dropped} oldest entries no longer kept)"
    return (
        f"<div><b>{count} message(s) received</b>{shown}"
        "<table style='border-spacing: 14px 2px; text-align: left'>"
        "<tr><th>time</th><th>from</th><th>message</th><th>reply</th></tr>"
        f"{body}</table></div>"
    )


def text_html(thing) -> str:
    """Anything whose text is already laid out (a ping run): that text, kept as it is."""
    return f"<pre>{_escape(repr(thing))}</pre>"


def relay_html(relay) -> str:
    """A relay: where it relays and how it misbehaves, then its counts per client."""
    table = relay.table()
    shown = f"<pre>{_escape(table)}</pre>" if "\n" in table else ""  # rows below the heading
    return text_html(relay) + shown


# (module, class) of the network layer -> the function above that draws it.
DRAWN_AS_HTML = {
    ("labsock.net.log", "MessageLog"): log_html,
    ("labsock.net.relay", "UDPRelay"): relay_html,
    ("labsock.net.ping", "PingResult"): text_html,
}


def show_in_jupyter(shell=None) -> bool:
    """Register the functions above with IPython's HTML formatter; False outside IPython."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    for (module, name), draw in DRAWN_AS_HTML.items():
        formatter.for_type_by_name(module, name, draw)
    return True
