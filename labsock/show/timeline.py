"""The picture of counting clients: each number against its arrival time, one colour a client.

``Timeline.plot()`` draws it with matplotlib (imported only then); ``print(timeline)`` draws a
plain text chart, for a terminal or wherever there is no display. No sockets here.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping

from labsock.logic.sequence import LAP, pause_after
from labsock.show.client_table import sender_label
from labsock.show.optional import pyplot

MARKS = "abcdefghijklmnopqrstuvwxyz"


def broken_at_pauses(pairs: list[tuple[float, int]]) -> tuple[list[float], list[float]]:
    """(times, numbers) to draw, with a gap (NaN, which matplotlib leaves undrawn) wherever the
    sender paused: a silence several times its usual interval (labsock.logic.sequence)."""
    times = [t for t, _ in pairs]
    pause = pause_after([times[i] - times[i - 1] for i in range(1, len(times))])
    xs: list[float] = []
    ys: list[float] = []
    for index, (time, number) in enumerate(pairs):
        if index and time - times[index - 1] > pause:
            xs.append(math.nan)
            ys.append(math.nan)
        xs.append(time)
        ys.append(number)
    return xs, ys


class Timeline:
    """Arrivals ``(sender, number, time)`` in the order they came, ready to draw."""

    def __init__(
        self,
        points: Iterable[tuple[Hashable, int, float]],
        names: Mapping | None = None,
        lap: int = LAP,
    ):
        self.points = list(points)
        self.names = dict(names or {})
        self.lap = lap

    def senders(self) -> list:
        """Senders in the order they first appear."""
        return list(dict.fromkeys(sender for sender, _, _ in self.points))

    def series(self) -> dict:
        """For each sender, ``(seconds since the first arrival, number)`` pairs."""
        start = min((t for _, _, t in self.points), default=0.0)
        out: dict = {sender: [] for sender in self.senders()}
        for sender, number, time in self.points:
            out[sender].append((time - start, number))
        return out

    # -- matplotlib ---------------------------------------------------------------------------

    def plot(self, ax=None, title: str | None = "Numbers as they arrived"):
        """Draw number against arrival time, one colour a client; returns the matplotlib Axes."""
        if ax is None:
            # constrained: the figure makes room for the legend outside the axes
            _, ax = pyplot().subplots(figsize=(9, 4), layout="constrained")
        for sender, pairs in self.series().items():
            times, numbers = broken_at_pauses(pairs)
            # Thin lines show the saw-tooth of each wrap; dots show each message; a pause is a
            # gap in the line, not a flat line that looks like numbers kept coming.
            ax.plot(times, numbers, marker=".", markersize=4, linewidth=0.6,
                    label=sender_label(sender, self.names))  # fmt: skip
        ax.set_xlabel("arrival time (s since the first message)")
        ax.set_ylabel("number")
        ax.set_ylim(0, self.lap + 5)
        if title:
            ax.set_title(title)
        if self.points:
            # Outside, right of the axes: inside, it hid the first numbers of every client.
            ax.legend(
                loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize="small"
            )
        ax.grid(True, alpha=0.3)
        return ax

    # -- text ---------------------------------------------------------------------------------

    def text(self, width: int = 60, height: int = 10) -> str:
        """A text chart: time across, number up; a letter for each client, * where they meet."""
        if not self.points:
            return "no numbers yet"
        series = self.series()
        marks = {sender: MARKS[i % len(MARKS)] for i, sender in enumerate(series)}
        end = max(t for pairs in series.values() for t, _ in pairs)
        grid = [[" "] * width for _ in range(height)]
        for sender, pairs in series.items():
            for time, number in pairs:
                col = min(width - 1, int(time / end * width)) if end > 0 else 0
                row = min(height - 1, (number - 1) * height // self.lap)
                cell = grid[row][col]
                grid[row][col] = marks[sender] if cell in (" ", marks[sender]) else "*"
        lines = []
        for row in range(height - 1, -1, -1):
            top = (row + 1) * self.lap // height
            lines.append(f"{top:>4} |" + "".join(grid[row]).rstrip())
        lines.append("     +" + "-" * width)
        left, right = "0 s", f"{end:.1f} s"
        lines.append("      " + left + right.rjust(width - len(left)))
        legend = [f"{marks[s]} = {sender_label(s, self.names)}" for s in series]
        if len(series) > 1:
            legend.append("* = more than one")
        lines.append("      " + "   ".join(legend))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())
