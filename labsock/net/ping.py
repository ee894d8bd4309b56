"""A UDP pinger, as in the Kurose & Ross exercise: numbered, timestamped pings, a timeout each.

    result = ping(port=12000, count=10)     # against serve_udp(port=12000, reply="echo")
    result                                  # one line per ping, then min/avg/max/stdev and loss

labsock.plot_pings(result) and labsock.ping_flow(result) draw it. The bookkeeping and the
statistics live in labsock.logic.rtt (no sockets, tested with plain data); this module only
sends, waits and reads the clock.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from labsock.logic.errors import explain, is_refusal
from labsock.logic.rtt import PingBook, PingStats, ping_message
from labsock.logic.validation import validate_count, validate_interval, validate_timeout
from labsock.net.sockets import destination


@dataclass
class PingResult:
    target: str
    book: PingBook
    lines: list[str] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    interrupted: bool = False

    @property
    def stats(self) -> PingStats:
        return self.book.statistics()

    def as_dict(self) -> dict:
        return self.stats.as_dict()

    def summary(self) -> str:
        text = self.stats.summary(self.target)
        if self.book.late:
            text += f"\n{self.book.late} late repl{'y' if self.book.late == 1 else 'ies'} ignored"
        return text

    def __repr__(self) -> str:
        return "\n".join([*self.lines, "", self.summary()])


class _Clock:
    """Epoch time with perf_counter's resolution (time.time() ticks coarsely on some systems).

    Epoch-based so the times line up with a server log's; perf_counter-based so RTTs of a few
    microseconds are measured, not rounded away.
    """

    def __init__(self):
        self._epoch = time.time()
        self._start = time.perf_counter()

    def __call__(self) -> float:
        return self._epoch + (time.perf_counter() - self._start)


def ping(
    host: str = "127.0.0.1",
    port: int = 12000,
    count: int = 10,
    timeout: float = 1.0,
    interval: float = 1.0,
    *,
    on_event: Callable[[dict, str], None] | None = None,
) -> PingResult:
    """Send `count` pings, one every `interval` seconds, each waiting at most `timeout`.

    on_event(event, line) is called for each ping's outcome (the command line prints them).
    """
    host, port = destination(host, port, "udp")
    timeout = validate_timeout(timeout)
    count = validate_count(count, most=10_000, example="such as 10")
    interval = validate_interval(interval)
    target = f"{host}:{port}"
    book = PingBook()
    result = PingResult(target, book)
    clock = _Clock()

    def report(event: dict, line: str) -> None:
        result.events.append(event)
        result.lines.append(line)
        if on_event is not None:
            on_event(event, line)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((host, port))
        try:
            _run(sock, book, count, timeout, interval, clock, report, target, host, port)
        except KeyboardInterrupt:
            # Like ping: Ctrl+C (or Interrupt in Jupyter) stops, and the figures so far stand.
            result.interrupted = True
            for p in book.pings.values():
                if p.rtt_ms is None:
                    book.timed_out(p.number)
    return result


def _run(sock, book, count, timeout, interval, clock, report, target, host, port) -> None:
    next_send = time.perf_counter()
    for number in range(1, count + 1):
        time.sleep(max(0.0, next_send - time.perf_counter()))
        next_send = time.perf_counter() + interval
        sent_at = clock()
        try:
            sock.send(ping_message(number, sent_at).encode())
        except OSError as exc:
            raise explain(exc, action="send", proto="udp", host=host, port=port) from None
        # Recorded once really sent: an interrupt just before must not count a ping as lost.
        book.sent(number, sent_at)
        deadline = time.perf_counter() + timeout
        answered = _wait_for_reply(sock, book, number, deadline, clock, report, target)
        if not answered:
            book.timed_out(number)
        if answered is False:  # None: refused, and already said so
            report(
                {"event": "timeout", "seq": number},
                f"ping {number}: no reply within {timeout:g} s",
            )


def _wait_for_reply(sock, book, number, deadline, clock, report, target) -> bool | None:
    """Read replies until ping `number` is answered (True) or its deadline passes (False);
    None when the system said nothing listens there."""
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except TimeoutError:
            return False
        except OSError as exc:
            if is_refusal(exc):
                # The port is closed: the ping is lost, as far as the statistics go.
                report(
                    {"event": "refused", "seq": number},
                    f"ping {number}: nothing listening at {target} (port closed)",
                )
                time.sleep(max(0.0, deadline - time.perf_counter()))
                return None
            raise explain(exc, action="receive", proto="udp", host=target, port=None) from None
        kind, ping_ = book.reply(data.decode("utf-8", "replace"), clock())
        if kind == "reply":
            report(
                {"event": "reply", "seq": ping_.number, "rtt_ms": round(ping_.rtt_ms, 3)},
                f"reply from {target}: seq={ping_.number} rtt={ping_.rtt_ms:.3f} ms",
            )
            if ping_.number == number:
                return True
        elif kind == "late":
            report(
                {"event": "late", "seq": ping_.number, "rtt_ms": round(ping_.late_rtt_ms, 3)},
                f"late reply for seq={ping_.number} after {ping_.late_rtt_ms:.3f} ms "
                "(already counted as lost)",
            )
        elif kind == "duplicate":
            report(
                {"event": "duplicate", "seq": ping_.number}, f"duplicate reply seq={ping_.number}"
            )
        else:
            report({"event": "stray"}, "a datagram that is not a reply to our pings (ignored)")
