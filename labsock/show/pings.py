"""A ping run drawn: the round trip of each ping, lost ones marked (matplotlib, imported only
when drawn)."""

from __future__ import annotations

from labsock.show.optional import pyplot


def plot_pings(result, ax=None):
    """RTT of each ping of a ping() result; lost ones as red crosses at the bottom. Returns the
    matplotlib Axes."""
    if ax is None:
        _, ax = pyplot().subplots(figsize=(6, 3))
    pings = sorted(result.book.pings.values(), key=lambda p: p.number)
    got = [(p.number, p.rtt_ms) for p in pings if p.rtt_ms is not None]
    lost = [p.number for p in pings if p.rtt_ms is None]
    if got:
        ax.plot(*zip(*got, strict=True), "o-", color="tab:blue", ms=4, label="round trip")
    if lost:
        ax.plot(lost, [0] * len(lost), "x", color="tab:red", ms=8, mew=2, label="lost")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("ping number")
    ax.set_ylabel("RTT (ms)")
    ax.set_ylim(bottom=0)
    ax.set_title(result.stats.summary(result.target).splitlines()[1])
    ax.legend(loc="upper right", fontsize=8)
    return ax
