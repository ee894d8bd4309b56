"""A ping run drawn: the round trip of each ping, lost ones marked (matplotlib, imported only
when drawn)."""

from __future__ import annotations

import math

from labsock.show.optional import pyplot


def plot_pings(result, ax=None):
    """RTT of each ping of a ping() result; lost ones as red crosses at the bottom. Returns the
    matplotlib Axes."""
    if ax is None:
        # constrained: the figure makes room for the legend outside the axes
        _, ax = pyplot().subplots(figsize=(6, 3), layout="constrained")
    pings = sorted(result.book.pings.values(), key=lambda p: p.number)
    got = [(p.number, p.rtt_ms) for p in pings if p.rtt_ms is not None]
    lost = [p.number for p in pings if p.rtt_ms is None]
    if got:
        # A lost ping leaves a gap (NaN is not drawn): the line does not pretend it came back.
        rtts = [math.nan if p.rtt_ms is None else p.rtt_ms for p in pings]
        numbers = [p.number for p in pings]
        ax.plot(numbers, rtts, "o-", color="tab:blue", ms=4, label="round trip")
    if lost:
        ax.plot(lost, [0] * len(lost), "x", color="tab:red", ms=8, mew=2, label="lost")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("ping number")
    ax.set_ylabel("RTT (ms)")
    # Half a ping of room at each end and a tenth above the highest: no point sits on the edge.
    if pings:
        ax.set_xlim(pings[0].number - 0.5, pings[-1].number + 0.5)
    highest = max((rtt for _, rtt in got), default=1.0)
    ax.set_ylim(-0.05 * highest, 1.1 * highest)  # a lost ping's cross at 0 shows whole too
    ax.set_title(result.stats.summary(result.target).splitlines()[1])
    # Outside, right of the axes: inside, it covered the last pings.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8)
    return ax
