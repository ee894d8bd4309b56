"""Task 3 on the server side: who sent what, in which order, and was anything lost.

- `counting_report(server)`: a snapshot of the log, as a per-client table, a picture and a
  conclusion
  (plain objects: they print in a terminal and show themselves in Jupyter).
- `counting_view(server)`: the live view: the latest messages with their senders' names, and the
  per-client table, redrawn at most ten times a second whatever the message rate.
- `ClientControls`: Start and Stop buttons for a counting client.

ipywidgets is imported only when a widget is made (through labsock.show.views).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from html import escape

from labsock.logic.errors import LabsockError
from labsock.logic.sentences import sentence_html
from labsock.logic.sequence import LAP, SequenceTracker, describe_runs, parse_number
from labsock.logic.text import escape_controls
from labsock.net.log import MESSAGE
from labsock.show.client_table import ClientTable, port_of, sender_label
from labsock.show.optional import widgets
from labsock.show.status_line import kernel_may_be_gone, state_of
from labsock.show.timeline import Timeline
from labsock.show.views import LiveView, live_text, shown_as_text


def _log_and_names(source, names: Mapping | None):
    """(log, names) from a server or a log; names given here win over the server's."""
    log = getattr(source, "log", source)
    if names is None:
        names = getattr(source, "names", None) or getattr(log, "names", None)
    return log, dict(names or {})


# -- a snapshot: table, picture, check -----------------------------------------------------------


class CountingReport:
    """What a counting server received, per client: counts, the picture, a conclusion."""

    def __init__(
        self,
        messages: Iterable,
        names: Mapping | None = None,
        lap: int = LAP,
        *,
        in_order: bool = False,
    ):
        self.names = dict(names or {})
        self.lap = lap
        self.tracker = SequenceTracker(lap=lap, in_order=in_order)
        self.numbers: dict = {}  # sender -> numbers in arrival order
        self.points = []  # (sender, number, time), for the picture
        self.received = []  # (time, sender, text) of every message, in the order received
        for m in messages:
            if getattr(m, "kind", MESSAGE) != MESSAGE:
                continue
            self.received.append((m.time, m.client, m.text))
            number = parse_number(m.text)
            self.tracker.feed(m.client, number, m.time)
            if number is not None:
                self.numbers.setdefault(m.client, []).append(number)
                self.points.append((m.client, number, m.time))

    def arrivals(self, count: int = 10, start: int = 0) -> str:
        """Messages in the order received, with their senders' names and seconds since the first.

        ``start`` picks where to begin (``-10`` for the last ten).
        """
        if not self.received:
            return "no messages"
        first = self.received[0][0]
        chosen = self.received[start:][:count]
        return "\n".join(
            f"{when - first:8.3f} s  {sender_label(sender, self.names)}: {escape_controls(text)}"
            for when, sender, text in chosen
        )

    def table(self, rates: bool = True) -> ClientTable:
        """The per-client table; rates=False leaves out the one column that varies run to run."""
        return ClientTable(self.tracker.all_stats(), self.names, rates=rates)

    def timeline(self) -> Timeline:
        """Number against arrival time: ``.plot()`` draws it, ``print()`` gives a text chart."""
        return Timeline(self.points, self.names, self.lap)

    def plot(self, ax=None):
        return self.timeline().plot(ax)

    def conclusion(self, ports: Iterable[int] = ()) -> str:
        """A few lines that repeat exactly when all went well (for a notebook's last cell).

        For each client, by port: the numbers as runs (``1..100, 1..30`` is a clean stream past
        the wrap), and whether they came in order, with nothing missing or duplicated.
        """
        senders = sorted(self.tracker.senders(), key=lambda s: (port_of(s) or 0, str(s)))
        seen_ports = [port_of(s) for s in senders]
        lines = []
        for port in ports:
            if port not in seen_ports:
                lines.append(f"port {port}: NOTHING RECEIVED")
        named = ", ".join(
            f"{p} ({self.names[p]})" if p in self.names else str(p) for p in seen_ports
        )
        lines.insert(0, f"ports seen: {named or 'none'}")
        for sender in senders:
            s = self.tracker.stats(sender)
            numbers = self.numbers.get(sender, [])
            counted = [i % self.lap + 1 for i in range(len(numbers))]
            who = self.names.get(port_of(sender)) or f"port {port_of(sender)}"
            verdict = [
                "in order from 1" if numbers == counted else "NOT in order from 1",
                f"{s.wraps} wrap{'' if s.wraps == 1 else 's'}",
                "nothing missing" if not s.missing else f"{s.missing} MISSING",
                "no duplicates" if not s.duplicates else f"{s.duplicates} DUPLICATES",
            ]
            if s.invalid:
                verdict.append(f"{s.invalid} NOT NUMBERS")
            lines.append(f"{who}: {s.received} numbers: {describe_runs(numbers)}")
            lines.append(f"{' ' * len(who)}  {', '.join(verdict)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return str(self.table())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()


def counting_report(source, names: Mapping | None = None) -> CountingReport:
    """A report of everything in a server's log (or a MessageLog)."""
    log, names = _log_and_names(source, names)
    return CountingReport(log.messages(), names, in_order=arrives_in_order(source))


def arrives_in_order(source) -> bool:
    """True for a student's program that no relay of this notebook sends to: its datagrams come
    straight over loopback (or a LAN), which neither reorders nor copies them, so a long run of
    lost numbers (a flooded server) is not mistaken for copies or late ones."""
    from labsock.net.programs.job import Job
    from labsock.net.relay import running_relays

    if not isinstance(source, Job):
        return False
    held = {port for proto, _, port in source.ports if proto == "udp"}
    return not any(relay.target[1] in held for relay in running_relays())


# -- the live view -------------------------------------------------------------------------------


class CountingView:
    """The latest messages with their senders, and the per-client table, kept up to date.

    A thread follows the log: each new message is counted (the tracker sees every one), but the
    widget is redrawn at most max_rate times a second, and once a second when nothing arrives
    (so the rates fall when clients stop). update() and text() do the same without widgets.
    """

    def __init__(
        self,
        source,
        names: Mapping | None = None,
        *,
        rows: int = 12,
        max_clients: int = 20,
        max_rate: float = 10.0,
        clients: Iterable = (),
        widget: bool = True,
    ):
        self.log, self.names = _log_and_names(source, names)
        self.source = source
        self.tracker = SequenceTracker(in_order=arrives_in_order(source))
        self.recent: deque = deque(maxlen=rows)
        self.max_clients = max_clients  # table rows; a class of 2,000 clients gets a summary
        self.skipped = 0  # log entries dropped by the log's bound before the view read them
        self._cursor = 0
        self._lock = threading.Lock()
        self.live: LiveView | None = None
        self.widget = None
        self.update()
        if widget:
            # Redrawn once a second also while nothing arrives, so the rates fall towards 0.
            self.live = LiveView(
                self.log,
                self._redraw,
                source=source,
                max_rate=max_rate,
                label="counting view",
                when_quiet=True,
                thread_name="labsock-counting-view",
            )
            controls = [ClientControls(c).widget for c in clients]
            self.widget = widgets().VBox([*controls, self.live.widget])

    def update(self) -> int:
        """Count what arrived since the last update; returns how many entries were new."""
        with self._lock:
            entries, cursor = self.log.since(self._cursor)
            self.skipped += cursor - self._cursor - len(entries)
            self._cursor = cursor
            for m in entries:
                if m.kind != MESSAGE:
                    continue
                self.tracker.feed(m.client, parse_number(m.text), m.time)
                self.recent.append(m)
            return len(entries)

    def _redraw(self) -> str:
        self.update()
        return self.html()

    @property
    def redraws(self) -> int:
        return 0 if self.live is None else self.live.redraws

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the view has stopped following the log (its server stopped)."""
        return True if self.live is None else self.live.wait(timeout)

    @property
    def status(self) -> str:
        """Whether what the view follows still runs, in words (the line above the widget)."""
        return state_of(self.source)[1]

    def stop(self) -> None:
        """Stop following the log (the widget keeps its last picture)."""
        if self.live is not None:
            self.live.stop()

    # -- drawing ------------------------------------------------------------------------------

    def table(self, now: float | None = None) -> ClientTable:
        now = now if now is not None else time.time()
        with self._lock:
            senders = self.tracker.senders()
            shown = senders[: self.max_clients]
            stats = [self.tracker.stats(sender, now) for sender in shown]
            note = None
            if len(senders) > len(shown):
                t = self.tracker.totals()
                note = (
                    f"{t['senders'] - len(shown):,} more clients not shown. All "
                    f"{t['senders']:,}: {t['received']:,} received, {t['missing']:,} missing, "
                    f"{t['duplicates']:,} duplicates, {t['out_of_order']:,} out of order."
                )
                if self.tracker.retired["senders"]:  # memory stays bounded: say what it costs
                    note += (
                        f" The {self.tracker.retired['senders']:,} heard from least recently "
                        "are kept as these totals only."
                    )
        return ClientTable(stats, self.names, note=note)

    def _recent_rows(self) -> list[tuple[str, str, str]]:
        with self._lock:
            messages = list(self.recent)
        return [(m.clock(), sender_label(m.client, self.names), m.text) for m in messages]

    def html(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(clock)}</td><td>{escape(who)}</td>"
            f"<td style='text-align:right'>{escape(text)}</td></tr>"
            for clock, who, text in self._recent_rows()
        )
        total = self.log.message_count
        skipped = f" ({self.skipped} came too fast to count)" if self.skipped else ""
        return (
            f"<div><b>{total} message(s) received</b>{escape(skipped)}"
            f"{self.table().html()}"
            "<p><i>Latest messages, in the order received:</i></p>"
            "<table style='font-family:monospace'><tr><th>time</th><th>from</th>"
            f"<th>message</th></tr>{rows}</table></div>"
        )

    def text(self) -> str:
        running, status, _ = state_of(self.source)
        lines = [] if running else [status]  # a view of what stopped says so first
        lines += [f"{self.log.message_count} message(s) received", str(self.table()), ""]
        rows = self._recent_rows()
        lines += [f"{clock}  {who}: {escape_controls(text)}" for clock, who, text in rows]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, **kwargs):
        if self.widget is None:
            return {"text/plain": self.text()}
        return shown_as_text(self.widget, live_text("counting view"))


def counting_view(source, names: Mapping | None = None, *, clients: Iterable = (), **options):
    """The live Task 3 view of a server: latest messages and the per-client table.

    clients: counting clients to show Start/Stop buttons for, above the table.
    """
    return CountingView(source, names, clients=clients, **options)


# -- Start / Stop --------------------------------------------------------------------------------


class ClientControls:
    """Start and Stop buttons for a counting client, with a status line.

    Start is greyed out while the client runs, Stop while it does not. controls.start() and
    controls.stop() do what the buttons do, so a notebook also runs headless.
    """

    refresh_interval = 0.5  # the status line is redrawn twice a second while the client runs

    def __init__(self, client):
        ui = widgets()
        self.client = client
        label = client.name or f"port {client.bind_port}"
        self.start_button = ui.Button(description=f"Start {label}", button_style="success")
        self.stop_button = ui.Button(description=f"Stop {label}", button_style="warning")
        self.status = ui.HTML()
        self.start_button.on_click(lambda _button: self.start())
        self.stop_button.on_click(lambda _button: self.stop())
        self.widget = ui.HBox([self.start_button, self.stop_button, self.status])
        self._refresher: threading.Thread | None = None
        self._stopped = threading.Event()
        self._beat = 0
        self._error = ""
        self._show()
        if client.running:
            self._follow_client()

    def start(self) -> str:
        self._error = ""
        try:
            self.client.start()
        except LabsockError as exc:
            self._error = str(exc)
            self._show()
            return str(exc)
        self._follow_client()
        return self._show()

    def stop(self) -> str:
        self.client.stop()
        self._stopped.set()  # the status line need not wait for its next refresh
        return self._show()

    def _show(self) -> str:
        client = self.client
        running = client.running
        text = client.describe()
        self._beat += 1
        html = escape(text)
        if running:
            html += kernel_may_be_gone(self._beat, "this client")
        for problem in (client.error, self._error):
            if problem:
                html += f"<br><span style='color:#b00'>{sentence_html(problem)}</span>"
        # The buttons first: once the line says "running", Start is already greyed out.
        self.start_button.disabled = running
        self.stop_button.disabled = not running
        self.status.value = html
        return text

    def _follow_client(self) -> None:
        if self._refresher is not None and self._refresher.is_alive():
            return
        self._stopped.clear()
        self._refresher = threading.Thread(target=self._refresh, daemon=True)
        self._refresher.start()

    def _refresh(self) -> None:
        while self.client.running:
            self._show()
            self._stopped.wait(self.refresh_interval)  # wakes at once when Stop is pressed
        self._show()

    def _repr_mimebundle_(self, **kwargs):
        what = self.client.describe().split(",")[0]
        return shown_as_text(self.widget, f"<Start/Stop buttons for the {what}>")
