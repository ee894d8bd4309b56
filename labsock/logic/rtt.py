"""Round trips for the pinger, without sockets: the ping message, matching replies, statistics.

A ping is the text ``Ping <number> <send time>`` (as in the Kurose & Ross exercise). Replies are
matched by number, and the send time in the reply must be the one we sent, so a stray datagram
can't pass for a reply. A reply that arrives after its ping has timed out is "late": reported,
but not counted as received, and never counted twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def ping_message(number: int, sent_at: float) -> str:
    return f"Ping {number} {sent_at:.6f}"


def parse_ping(text: str) -> tuple[int, str] | None:
    """(number, timestamp text) from a ping or its reply, or None if it is not one.

    Case-insensitive, so replies from an "upper" server (PING 3 ...) match too.
    """
    parts = text.strip().split()
    if len(parts) != 3 or parts[0].lower() != "ping":
        return None
    # ASCII decimals, not isdigit(): "²" is a digit to isdigit(), and int() refuses it.
    if not (parts[1].isascii() and parts[1].isdecimal()):
        return None
    return int(parts[1]), parts[2]


@dataclass
class Ping:
    number: int
    sent_at: float
    stamp: str
    rtt_ms: float | None = None
    timed_out: bool = False
    late_rtt_ms: float | None = None  # set when the reply came after the timeout


@dataclass(frozen=True)
class PingStats:
    sent: int
    received: int
    rtt_min: float | None
    rtt_avg: float | None
    rtt_max: float | None
    rtt_stdev: float | None

    @property
    def loss(self) -> float:
        return (self.sent - self.received) / self.sent if self.sent else 0.0

    def as_dict(self) -> dict:
        """The shape `python -m labsock ping --json` prints last."""
        return {
            "sent": self.sent,
            "received": self.received,
            "loss": round(self.loss, 6),
            "rtt_ms": {
                "min": _round(self.rtt_min),
                "avg": _round(self.rtt_avg),
                "max": _round(self.rtt_max),
                "stdev": _round(self.rtt_stdev),
            },
        }

    def summary(self, target: str = "") -> str:
        lines = [
            f"--- {target} ping statistics ---" if target else "--- ping statistics ---",
            f"{self.sent} sent, {self.received} received, {self.loss:.0%} lost",
        ]
        if self.received:
            lines.append(
                f"rtt min/avg/max/stdev = {self.rtt_min:.3f}/{self.rtt_avg:.3f}/"
                f"{self.rtt_max:.3f}/{self.rtt_stdev:.3f} ms"
            )
        return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def rtt_statistics(rtts_ms: list[float], sent: int) -> PingStats:
    """min/avg/max and the population standard deviation (what ping calls mdev)."""
    if not rtts_ms:
        return PingStats(sent, 0, None, None, None, None)
    n = len(rtts_ms)
    avg = math.fsum(rtts_ms) / n
    stdev = math.sqrt(math.fsum((x - avg) ** 2 for x in rtts_ms) / n)
    return PingStats(sent, n, min(rtts_ms), avg, max(rtts_ms), stdev)


@dataclass
class PingBook:
    """Bookkeeping for one ping run: what was sent, which replies matched, what came late."""

    pings: dict[int, Ping] = field(default_factory=dict)
    late: int = 0
    duplicates: int = 0
    strays: int = 0

    def sent(self, number: int, sent_at: float) -> str:
        """Record ping `number` going out; returns the text to send."""
        text = ping_message(number, sent_at)
        self.pings[number] = Ping(number, sent_at, parse_ping(text)[1])
        return text

    def timed_out(self, number: int) -> None:
        ping = self.pings[number]
        if ping.rtt_ms is None:
            ping.timed_out = True

    def reply(self, text: str, now: float) -> tuple[str, Ping | None]:
        """Classify a reply: "reply", "late", "duplicate" or "stray" (not one of our pings)."""
        parsed = parse_ping(text)
        ping = self.pings.get(parsed[0]) if parsed else None
        if ping is None or parsed[1] != ping.stamp:
            self.strays += 1
            return "stray", None
        rtt_ms = (now - ping.sent_at) * 1000.0
        if ping.rtt_ms is not None or ping.late_rtt_ms is not None:
            self.duplicates += 1
            return "duplicate", ping
        if ping.timed_out:
            ping.late_rtt_ms = rtt_ms
            self.late += 1
            return "late", ping
        ping.rtt_ms = rtt_ms
        return "reply", ping

    def statistics(self) -> PingStats:
        rtts = [p.rtt_ms for p in self.pings.values() if p.rtt_ms is not None]
        return rtt_statistics(rtts, len(self.pings))
