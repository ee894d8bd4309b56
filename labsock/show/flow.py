"""A flow diagram from the application's own logs: no packet capture, no admin rights.

Two lanes (say client and server), time running down, one arrow per message from the time it was
sent to the time it arrived; a message that never arrived ends in a cross. Drawn with matplotlib
(imported only when drawn) or as plain text where there is no display.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass

from labsock.logic.rtt import parse_ping
from labsock.logic.text import escape_controls, plot_label
from labsock.show.optional import pyplot


@dataclass(frozen=True)
class Arrow:
    sender: str
    receiver: str
    sent_at: float  # seconds, same clock for every arrow (epoch time from the logs)
    arrived_at: float | None  # None: lost
    label: str

    @property
    def lost(self) -> bool:
        return self.arrived_at is None


class FlowDiagram:
    """Arrows between two lanes. Shows itself: text in a terminal, a figure with .plot()."""

    def __init__(self, arrows: list[Arrow], lanes: tuple[str, str] = ("client", "server")):
        self.arrows = sorted(arrows, key=lambda a: a.sent_at)
        self.lanes = lanes

    @property
    def lost(self) -> int:
        return sum(a.lost for a in self.arrows)

    def text(self, limit: int = 60) -> str:
        if not self.arrows:
            return "(no messages)"
        left, right = self.lanes
        start = self.arrows[0].sent_at
        width = max(len(left), 6)
        lines = [f"{'t (ms)':>9}  {left:<{width}}            {right}"]
        for arrow in self.arrows[:limit]:
            label = escape_controls(arrow.label)  # received text: no control reaches a terminal
            label = label if len(label) <= 12 else label[:11] + "…"
            rightward = arrow.sender == left
            if arrow.lost:
                line = f"{label} ───✕" if rightward else f"✕─── {label}"
                note = "lost"
            else:
                line = f"{label} ───▶" if rightward else f"◀─── {label}"
                note = f"+{(arrow.arrived_at - arrow.sent_at) * 1000:.2f} ms"
            pad = " " * (width + 2) if rightward else " " * 2
            lines.append(f"{(arrow.sent_at - start) * 1000:9.2f}  {pad}{line:<20} {note}")
        if len(self.arrows) > limit:
            lines.append(f"... and {len(self.arrows) - limit} more")
        lines.append(f"{len(self.arrows)} messages, {self.lost} lost")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def plot(self, ax=None, limit: int = 40):
        """Draw the lanes and arrows; returns the matplotlib Axes.

        Each label stands beside its sender's lane, outside the two lanes where no arrow
        passes, and below the one before it when messages leave close together: labels never
        sit on arrows or on each other.
        """
        arrows = self.arrows[:limit]
        if ax is None:
            _, ax = pyplot().subplots(figsize=(5, max(3.0, min(9.0, 0.2 * len(arrows) + 1))))
        left, right = self.lanes
        x = {left: 0.0, right: 1.0}
        start = arrows[0].sent_at if arrows else 0.0

        def ms(t):
            return (t - start) * 1000

        end = max([ms(a.arrived_at or a.sent_at) for a in arrows], default=1.0) + 1e-3
        ax.set_ylim(end * 1.05, -0.05 * end)  # time runs down
        ax.set_xlim(-0.5, 1.5)
        # The lanes' names above the axes, where the title makes room for them.
        ax.xaxis.tick_top()
        ax.set_xticks(list(x.values()), labels=[plot_label(lane) for lane in x], fontsize=10)
        ax.tick_params(axis="x", length=0)
        labels = _LabelColumns(ax)
        for pos in x.values():
            ax.plot([pos, pos], [0, end * 1.05], color="0.6", lw=2)
        for a in arrows:
            x0, x1 = x.get(a.sender, 0.0), x.get(a.receiver, 1.0)
            y0 = ms(a.sent_at)
            if a.lost:
                # A lost message goes half way and stops at a cross.
                xm = (x0 + x1) / 2
                ym = y0 + 0.015 * end
                ax.plot([x0, xm], [y0, ym], color="tab:red", lw=1)
                ax.plot(xm, ym, marker="x", color="tab:red", ms=8, mew=2)
                labels.place(x0 <= x1, y0, f"{a.label} lost", "tab:red")
            else:
                ax.annotate(
                    "",
                    xy=(x1, ms(a.arrived_at)),
                    xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": "tab:blue", "lw": 1},
                )
                labels.place(x0 <= x1, y0, a.label, "tab:blue")
        ax.set_ylabel("time (ms)")
        ax.set_title(f"{len(arrows)} messages, {sum(a.lost for a in arrows)} lost")
        return ax


class _LabelColumns:
    """Labels in two columns, left of the left lane and right of the right one, each label at
    its message's time or, when that would touch the label above, just below it."""

    FONT = 7  # points

    def __init__(self, ax):
        self.ax = ax
        low, high = ax.get_ylim()
        box = ax.get_position()  # a fraction of the figure
        height_pt = box.height * ax.figure.get_figheight() * 72
        self.line = abs(low - high) / height_pt * self.FONT * 1.3  # one label's height, in ms
        self.last = {True: -math.inf, False: -math.inf}

    def place(self, from_left: bool, at: float, text: str, colour: str) -> None:
        y = max(at, self.last[from_left] + self.line)
        self.last[from_left] = y
        self.ax.text(
            -0.04 if from_left else 1.04,
            y,
            plot_label(text),  # a $ in received text is no formula
            ha="right" if from_left else "left",
            va="center",
            fontsize=self.FONT,
            color=colour,
        )


def match_messages(
    sent: list[tuple[float, str]],
    received: list[tuple[float, str]],
    sender: str = "client",
    receiver: str = "server",
) -> list[Arrow]:
    """Pair what one side sent with what the other side logged, by text, first come first paired.

    A text received more often than it was sent (a duplicate) gets an extra arrow from the same
    send time, labelled "(copy)".
    """
    send_times: dict[str, deque[float]] = defaultdict(deque)
    last_send: dict[str, float] = {}
    for t, text in sent:
        send_times[text].append(t)
    pending = {text: deque(times) for text, times in send_times.items()}
    arrows = []
    for t, text in received:
        if pending.get(text):
            sent_at = pending[text].popleft()
            last_send[text] = sent_at
            arrows.append(Arrow(sender, receiver, sent_at, t, text))
        elif text in last_send:
            arrows.append(Arrow(sender, receiver, last_send[text], t, f"{text} (copy)"))
    for text, times in pending.items():
        arrows.extend(Arrow(sender, receiver, t, None, text) for t in times)
    return arrows


def flow_from_logs(sent, received, lanes: tuple[str, str] = ("client", "server")) -> FlowDiagram:
    """A diagram from (time, text) pairs or log Messages (anything with .time and .text)."""
    return FlowDiagram(match_messages(_pairs(sent), _pairs(received), *lanes), lanes)


def _pairs(items) -> list[tuple[float, str]]:
    return [(i.time, i.text) if hasattr(i, "time") else (float(i[0]), str(i[1])) for i in items]


def ping_flow(result, server_log=None) -> FlowDiagram:
    """A ping run (ping()'s result) as request and reply arrows; the server's log, if given,
    says when each ping reached the server (else it is drawn half way)."""
    arrived = {}
    if server_log is not None:
        for m in server_log.messages():
            parsed = parse_ping(m.text)  # anything the server received: it may not be a ping
            if parsed is not None:
                arrived.setdefault(parsed[0], m.time)
    arrows = []
    for p in result.book.pings.values():
        label = f"ping {p.number}"
        answered = p.rtt_ms if p.rtt_ms is not None else p.late_rtt_ms
        back = None if answered is None else p.sent_at + answered / 1000
        at_server = arrived.get(p.number)
        if at_server is None and back is not None:
            at_server = (p.sent_at + back) / 2
        arrows.append(Arrow("client", "server", p.sent_at, at_server, label))
        if at_server is not None:
            arrows.append(Arrow("server", "client", at_server, back, f"reply {p.number}"))
    return FlowDiagram(arrows, ("client", "server"))


def relay_flow(relay, client_port: int, server, first: int = 30, name: str | None = None):
    """One client's first datagrams through a relay, to the server: lost ones marked.

    The relay's own record says when each datagram came in, whether it was dropped and when
    each copy went on; the server's log says when it arrived (the entry with the same text
    nearest that moment, since numbers repeat every lap).
    """
    upstream = relay.upstream_ports().get(client_port)
    log = getattr(server, "log", server)
    arrivals: dict[str, list[float]] = {}
    for m in log.messages():
        if m.port == upstream:
            arrivals.setdefault(m.text, []).append(m.time)
    if name is None:
        name = (getattr(server, "names", None) or {}).get(upstream) or f"port {client_port}"
    arrows = []
    for e in relay.events(client_port)[:first]:
        text = e.data.decode("utf-8", "replace")
        came_in = relay.epoch_time(e.arrived)
        if not e.sent_at:
            arrows.append(Arrow(name, "server", came_in, None, text))
        for copy, sent in enumerate(e.sent_at):
            out = relay.epoch_time(sent)
            near = min(arrivals.get(text, []), key=lambda t: abs(t - out), default=None)
            arrived = near if near is not None and abs(near - out) < 0.5 else out
            label = text + (" (copy)" if copy else "") + (" (late)" if e.reordered else "")
            arrows.append(Arrow(name, "server", came_in, arrived, label))
    return FlowDiagram(arrows, (name, "server"))
