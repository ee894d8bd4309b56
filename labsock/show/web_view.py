"""What the browser said and what the server answered: one exchange per row, and pictures.

    labsock.web_exchanges("web_server")          # a table in Jupyter, plain text in a terminal
    labsock.web_exchanges("web_server").plot()   # which request went on which connection

Everything received is shown escaped: a request is whatever its sender chose to send.
"""

from __future__ import annotations

import re
from html import escape

from labsock.logic.exchanges import KEPT, RECEIVED, SENT, Exchange, Lane, Piece, exchanges
from labsock.logic.text import escape_controls, plot_label
from labsock.show.optional import pyplot

MAX_ROWS = 50  # the newest exchanges shown; a browser asks for little, a loop for thousands


# Header lines whose values are kept out of the view: the browser sends its login cookies for the
# address (JupyterLab's, or through a JupyterHub's proxy the hub's), and a notebook gets shared.
SECRET_HEADERS = ("cookie", "authorization", "proxy-authorization")

# JupyterLab right-aligns a table's cells and centres them in their row; a request and its
# response read from the left, and from the top, like the row's number beside them.
LEFT = "style='text-align:left; vertical-align:top'"
# A head line wider than its column wraps at its spaces (JupyterLab's own rule for an output's
# <pre> breaks anywhere: "l / ike Gecko"); only a word wider than the column is cut, so a long
# token can narrow its column rather than push the table off the page.
HEAD_STYLE = (
    "margin:0; text-align:left; white-space:pre-wrap; word-break:normal; overflow-wrap:anywhere"
)


_AFTER_A_SEPARATOR = re.compile(r"(?<=[,;])")


def _shown_line(line: str) -> str:
    name, colon, value = line.partition(":")
    if colon and name.strip().lower() in SECRET_HEADERS:
        return f"{name}: ({len(value.strip()):,} characters not shown: login cookies or keys)"
    return escape_controls(line)


def _lines(raw: bytes) -> list[str]:
    """A head's lines as sent, each with its own line end made visible (\\r\\n or \\n)."""
    text = raw.decode("latin-1")
    lines = []
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        end = "\\r\\n" if line.endswith("\r") else "\\n"
        lines.append((_shown_line(line.removesuffix("\r")), end))
    if not text.endswith("\n") and lines:
        lines[-1] = (lines[-1][0], "")
    return lines


def _head_html(raw: bytes, note: str = "") -> str:
    rows = "".join(
        f"{_breakable(line)}<span style='color:#999'>{end}</span>\n" for line, end in _lines(raw)
    )
    tail = f"<i style='color:#666'>{escape(note)}</i>" if note else ""
    return f"<pre style='{HEAD_STYLE}'>{rows}{tail}</pre>"


def _breakable(line: str) -> str:
    """A header line, escaped, that may wrap after its commas and semicolons too: a browser's
    Accept is one long token ("text/html,application/xhtml+xml,...;q=0.9"), cut anywhere
    otherwise."""
    return "<wbr>".join(escape(part) for part in _AFTER_A_SEPARATOR.split(line))


def _head_text(raw: bytes, indent: str = "    ") -> str:
    return "\n".join(f"{indent}{line}{end}" for line, end in _lines(raw))


def _request_note(row: Exchange) -> str:
    if row.request_error:
        return row.request_error
    if row.cut:
        return f"(labsock kept the first {KEPT} bytes of each piece: the rest is not shown)"
    return ""


def _response_note(row: Exchange) -> str:
    if row.response_error:
        return row.response_error
    if row.response is not None and row.body_cut:
        kept = f"labsock kept {KEPT} bytes of each piece"
        return f"... then a body of more than {row.body_bytes:,} bytes ({kept})"
    if row.response is not None:
        return f"... then {row.body_bytes:,} bytes of body"
    return ""


class WebExchanges:
    """The exchanges of one server's log, ready to show (see the module docstring)."""

    def __init__(self, rows: list[Exchange], name: str = "the server"):
        self.rows = rows
        self.name = name

    def __len__(self) -> int:
        return len(self.rows)

    def summary(self) -> list[str]:
        """One line per exchange: connection, request, answer (for tests and terminals)."""
        return [f"connection {r.connection}: {r.what} -> {r.answer}" for r in self.rows]

    def _shown(self) -> list[Exchange]:
        return self.rows[-MAX_ROWS:]

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<div>No request has reached {escape(self.name)} yet.</div>"
        cells = []
        for row in self._shown():
            request = (
                _head_html(row.request.head.raw, _request_note(row))
                if row.request
                else f"<i>{escape(_request_note(row))}</i>"
            )
            response = (
                _head_html(row.response.head.raw, _response_note(row))
                if row.response
                else f"<i>{escape(_response_note(row) or '(no answer)')}</i>"
            )
            cells.append(
                f"<tr><td {LEFT}>{row.connection}</td>"
                f"<td {LEFT}>{escape(escape_controls(f'{row.client[0]}:{row.client[1]}'))}</td>"
                f"<td {LEFT}>{request}</td>"
                f"<td style='text-align:left; vertical-align:top; min-width: 16em'>{response}</td>"
                "</tr>"
            )
        dropped = len(self.rows) - len(self._shown())
        more = f" (the newest {MAX_ROWS}; {dropped} earlier not shown)" if dropped else ""
        return (
            f"<div><b>{len(self.rows)} exchange(s) with {escape(self.name)}{more}</b>"
            "<table style='border-spacing: 10px 4px; font-size: 90%'>"
            f"<tr><th {LEFT}>conn.</th><th {LEFT}>browser</th><th {LEFT}>what the browser sent</th>"
            f"<th {LEFT}>what the server answered</th></tr>{''.join(cells)}</table></div>"
        )

    def __str__(self) -> str:
        if not self.rows:
            return f"No request has reached {self.name} yet."
        parts = [f"{len(self.rows)} exchange(s) with {self.name}"]
        for row in self._shown():
            parts.append(f"\n-- connection {row.connection} ({row.client[0]}:{row.client[1]})")
            parts.append("  the browser sent:")
            if row.request:
                parts.append(_head_text(row.request.head.raw))
            note = _request_note(row)
            if note:
                parts.append(f"    {note}")
            parts.append("  the server answered:")
            if row.response:
                parts.append(_head_text(row.response.head.raw))
            parts.append(f"    {_response_note(row) or '(no answer)'}")
        return "\n".join(parts)

    __repr__ = __str__

    def lanes(self) -> list:
        """One lane per connection, its requests and answers as events (for plot_lanes)."""
        if not self.rows:
            return []
        origin = min(t for r in self.rows for t in (r.requested_at, r.answered_at) if t)
        lanes: dict[int, Lane] = {}
        for row in self.rows:
            lane = lanes.setdefault(row.connection, Lane(f"connection {row.connection}", []))
            if row.requested_at is not None:
                lane.events.append((row.requested_at - origin, row.what))
            if row.answered_at is not None:
                lane.events.append((row.answered_at - origin, row.answer))
        for lane in lanes.values():
            times = [t for t, _ in lane.events]
            lane.start, lane.end = min(times, default=0.0), max(times, default=0.0)
        return list(lanes.values())

    def plot(self, ax=None):
        return plot_lanes(self.lanes(), ax, title=f"Requests and answers of {self.name}")

    def picture_text(self) -> str:
        return lanes_text(self.lanes())


def pieces_of(program) -> list[Piece]:
    """What a student's program received and sent on TCP, piece by piece, by connection."""
    pieces = [
        Piece((m.ip, m.port), m.time, RECEIVED, m.data)
        for m in program.log.messages()
        if m.data  # a connection's end shows as an empty piece
    ]
    pieces += [Piece((m.ip, m.port), m.time, SENT, m.data) for m in program.sent_log.messages()]
    return pieces


def web_exchanges(program="web_server") -> WebExchanges:
    """The exchanges of a student's web server (a program's name, or its Job), as a view."""
    from labsock.net.programs.job import job

    found = job(program) if isinstance(program, str) else program
    return WebExchanges(exchanges(pieces_of(found)), found.name)


# -- pictures of connections over time ----------------------------------------------------------

_COLOURS = {"answer": "#1a7f37", "request": "#0550ae", "silent": "#c8c8c8", "waiting": "#f0a030"}


def _kind(what: str) -> str:
    if what[:1].isdigit() or what.startswith("answer"):
        return "answer"
    if what.split(" ")[0].isupper() or "request" in what:
        return "request"
    return "other"


def _phases(lane) -> list[tuple[float, float, str]]:
    """(from, to, kind) bars: connected but silent, then each request waiting for its answer."""
    events = sorted(lane.events)
    requests = [t for t, what in events if _kind(what) == "request"]
    answers = [t for t, what in events if _kind(what) == "answer"]
    connected = next((t for t, what in events if what == "connected"), None)
    bars = []
    if connected is not None:
        bars.append((connected, requests[0] if requests else lane.end or connected, "silent"))
    for at in requests:
        answer = next((t for t in answers if t >= at), lane.end)
        if answer is not None:
            bars.append((at, answer, "waiting"))
    return bars


def plot_lanes(lanes: list, ax=None, title: str = ""):
    """Each connection a lane across time (ms): when it was silent, when it waited for an answer,
    each request (a triangle, its words above) and each answer (a dot, its words below)."""
    plt = pyplot()
    if ax is None:
        height = 1.6 + 0.8 * max(len(lanes), 1)
        _, ax = plt.subplots(figsize=(9, height), layout="constrained")
    for row, lane in enumerate(lanes):
        y = len(lanes) - row
        for start, end, kind in _phases(lane):
            ax.plot([start * 1000, end * 1000], [y, y], color=_COLOURS[kind], linewidth=9,
                    solid_capstyle="butt")  # fmt: skip
        for at, what in lane.events:
            kind = _kind(what)
            if kind == "other":
                continue
            above = kind == "request"
            ax.plot([at * 1000], [y], marker="v" if above else "o", markersize=7,
                    color=_COLOURS[kind], linestyle="none")  # fmt: skip
            # Requests' words above the lane, answers' below: close together, they stay apart.
            ax.annotate(plot_label(what)[:40], (at * 1000, y + (0.22 if above else -0.32)),
                        fontsize=8, ha="center", color=_COLOURS[kind],
                        annotation_clip=False)  # fmt: skip
    ax.set_yticks(range(len(lanes), 0, -1), [plot_label(lane.name) for lane in lanes])
    ax.set_ylim(0.4, len(lanes) + 0.7)
    ax.set_xlabel("time (ms)")
    ax.grid(True, axis="x", alpha=0.3)
    from matplotlib.lines import Line2D

    legend = [
        Line2D([], [], color=_COLOURS["silent"], linewidth=9, label="connected, nothing sent"),
        Line2D([], [], color=_COLOURS["waiting"], linewidth=9, label="waiting for the answer"),
        Line2D([], [], color=_COLOURS["request"], marker="v", linestyle="none", label="request"),
        Line2D([], [], color=_COLOURS["answer"], marker="o", linestyle="none", label="answer"),
    ]
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              borderaxespad=0)  # fmt: skip
    if title:
        ax.set_title(plot_label(title))
    return ax


def lanes_text(lanes: list, width: int = 60) -> str:
    """The same picture as text: one line per event, in time order, lane by lane."""
    if not lanes:
        return "(no connections)"
    lines = []
    for lane in lanes:
        lines.append(f"{lane.name}:")
        for at, what in lane.events:
            lines.append(f"  {at * 1000:8.0f} ms  {escape_controls(what)}")
    return "\n".join(lines)


def lanes_html(lanes: list) -> str:
    return f"<pre>{escape(lanes_text(lanes))}</pre>"


# -- the link that opens the student's page in their own browser ---------------------------------


class WebLink:
    """A link to a page of the student's server, and a sentence saying which case this is:
    the notebook on this laptop (the link goes straight to 127.0.0.1), or on a JupyterHub (the
    server runs on the hub, so the link goes through the hub's jupyter-server-proxy)."""

    def __init__(self, path: str, port: int, prefix: str | None, proxy: bool):
        self.path = "/" + path.lstrip("/")
        self.port = port
        self.prefix = prefix
        self.proxy = proxy

    @property
    def url(self) -> str:
        if self.prefix is None:
            return f"http://127.0.0.1:{self.port}{self.path}"
        return f"{self.prefix.rstrip('/')}/proxy/{self.port}{self.path}"

    @property
    def where(self) -> str:
        if self.prefix is None:
            return (
                "This notebook runs on your laptop, and so does your server: the link goes "
                f"straight to it, at 127.0.0.1 port {self.port}."
            )
        where = (
            "This notebook runs on a JupyterHub, and so does your server (not your laptop): "
            "the link goes through the hub's proxy (jupyter-server-proxy), which passes the "
            f"browser's requests on to port {self.port} on the hub."
        )
        if not self.proxy:
            where += (
                " jupyter-server-proxy is not installed here, so the link will not work: ask "
                "whoever runs the hub to install it (pip install jupyter-server-proxy)."
            )
        return where

    def _repr_html_(self) -> str:
        return (
            f"<div><a href='{escape(self.url, quote=True)}' target='_blank' "
            f"class='labsock-web-link'>Open {escape(self.path)} in your browser</a>"
            f"<br><i>{escape(self.where)}</i></div>"
        )

    def __str__(self) -> str:
        return f"Open {self.url} in your browser.\n{self.where}"

    __repr__ = __str__


def web_link(path: str = "/HelloWorld.html", port: int = 6789) -> WebLink:
    """The link to a page of the web server on port, for this notebook's case (see WebLink)."""
    import importlib.util
    import os

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or None
    proxy = importlib.util.find_spec("jupyter_server_proxy") is not None
    return WebLink(path, port, prefix, proxy)
