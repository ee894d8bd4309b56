"""Sequence tracking for counting clients: pure logic, no sockets.

A counting client sends 1, 2, ..., 100 and then starts again at 1. A server that receives
these numbers can tell, for each sender, what arrived, what went missing, what came twice and
what came late. `SequenceTracker` is fed ``(sender, number)`` pairs in the order they arrived
(``sender`` is anything hashable: a port, ``"127.0.0.1:11000"``...) and keeps the counts.

How an arrival is placed
    Numbers repeat every lap (1..100), so each arrival is first given a *place* on an endless
    count. The first number from a sender stays where it is. Every later number goes to the
    place nearest to the highest place so far that carries that number: up to half a lap
    (50) ahead is read as forward, 1 to 49 behind as behind. So ``99, 100, 1, 2`` is four
    steps forward across a wrap, ``98, 3`` is a jump over ``99, 100, 1, 2`` (lost), and
    ``99, 1, 100, 2`` is a late ``100``. A burst of more than 50 losses in a row, or a message
    more than 49 places late, can't be told apart from the opposite case; on a lab network both
    are far outside what happens.

    ``in_order=True`` is for a network that neither reorders nor copies datagrams (one
    laptop's loopback, with no relay between): there, nothing can be late or come twice from
    the network, so every arrival is read forward, and a burst of 50 to 99 losses (a flooded
    server's socket buffer overflowing) is counted as lost instead of as copies or late ones:
    ``1..40, 21`` is 80 lost. Only the number just before it again is a duplicate (the client
    sent it twice, or exactly 99 were lost: these can't be told apart).

Definitions (per sender)
    received      arrivals that carried a valid number (1..100), duplicates included.
    unique        distinct places that arrived.
    last          the number of the latest arrival, in arrival order.
    highest       the number at the highest place so far: how far the sender has got.
    missing       places between the lowest and the highest place so far that have not
                  arrived. A late arrival fills its gap and the count goes down again; a gap
                  more than 49 places behind the highest can no longer be filled (its number
                  now means a future place), so it stays missing for good.
    duplicates    arrivals at a place that had already arrived.
    out_of_order  arrivals at a new place lower than the highest place so far (they came
                  after a later message). Duplicates are counted as duplicates only.
    wraps         how many times the places that arrived cross from 100 to 1 (laps between
                  the lowest and the highest place). ``1..100, 1`` has one wrap; so does
                  ``98, 3`` (the wrap happened even if 100 and 1 were lost).
    invalid       arrivals that were not a whole number from 1 to 100 (text, 0, 101...).
    rate          messages a second (valid or not) at the sender's current pace: over the
                  last `rate_window` seconds, pauses left out (a silence several times longer
                  than the usual interval), so a client that paused and resumed shows the
                  pace it sends at now, not an average over its pause. Measured up to `now`,
                  it falls towards 0 once the sender stops. Needs arrival times.
"""

from __future__ import annotations

from collections import OrderedDict, deque, namedtuple
from collections.abc import Hashable, Iterable

LAP = 100
# Arrival times kept per sender for its rate: the rate needs intervals, not every arrival, so a
# sender at 100,000 messages a second costs no more memory than one at 10.
RATE_SAMPLES = 1000
# A silence longer than this many usual intervals (and at least PAUSE_SECONDS) is a pause.
PAUSE_INTERVALS = 3
PAUSE_SECONDS = 1.0
MAX_SENDERS = 5_000
_TOTALS = ("senders", "received", "missing", "duplicates", "out_of_order", "invalid")


def parse_number(text: str | bytes | int | None) -> int | None:
    """The whole number in a message such as ``"37"`` or ``b"37\\n"``, or None if it isn't one."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int):
        return text
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    text = text.strip()
    # isdecimal, not int(): int() also takes "+5", "1_000" and non-ASCII digits
    if not text.isascii() or not text.isdecimal() or len(text) > 9:
        return None
    return int(text)


_STATS_FIELDS = (
    "sender received unique last highest missing duplicates out_of_order wraps invalid rate "
    "first_time last_time missing_numbers"
)


class SenderStats(namedtuple("SenderStats", _STATS_FIELDS)):
    """A snapshot of one sender's counts (see the module docstring for each definition).

    missing_numbers holds the most recent missing numbers, oldest first. (A named tuple, not a
    dataclass: dataclasses would add about 10 ms to `import labsock`.)
    """

    __slots__ = ()

    @property
    def clean(self) -> bool:
        """True when nothing is missing, duplicated, late or invalid."""
        return not (self.missing or self.duplicates or self.out_of_order or self.invalid)


class _Sender:
    """Running state for one sender. Places are ints; number = place % lap + 1."""

    __slots__ = (
        "received",
        "duplicates",
        "out_of_order",
        "invalid",
        "last",
        "lowest",
        "highest",
        "open_gaps",
        "lost",
        "recent_lost",
        "first_time",
        "last_time",
        "times",
    )

    def __init__(self, keep_missing: int):
        self.received = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.invalid = 0
        self.last: int | None = None
        self.lowest: int | None = None
        self.highest: int | None = None
        self.open_gaps: set[int] = set()  # missing places a late arrival can still fill
        self.lost = 0  # missing places too far behind to be filled any more
        self.recent_lost: deque[int] = deque(maxlen=keep_missing)
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.times: deque[float] = deque(maxlen=RATE_SAMPLES)


class SequenceTracker:
    """Counts what arrived from each sender of a 1..100 counting stream.

    >>> t = SequenceTracker()
    >>> for n in [98, 99, 100, 1, 3, 2, 2]:
    ...     kind = t.feed("c1", n)
    >>> s = t.stats("c1")
    >>> (s.received, s.missing, s.duplicates, s.out_of_order, s.wraps, s.last, s.highest)
    (7, 0, 1, 1, 1, 2, 3)
    """

    def __init__(
        self,
        lap: int = LAP,
        rate_window: float = 5.0,
        keep_missing: int = 20,
        max_senders: int = MAX_SENDERS,
        in_order: bool = False,
    ):
        if lap < 3:
            raise ValueError("lap must be at least 3")
        self.lap = lap
        self.ahead_limit = lap // 2  # up to this many places ahead reads as forward
        self.behind_limit = lap - self.ahead_limit - 1  # up to this many behind reads as late
        self.in_order = in_order  # the network cannot reorder or copy (module docstring)
        self.rate_window = rate_window
        self.keep_missing = keep_missing
        # Past max_senders, the sender heard from least recently is summed into `retired` and
        # forgotten: 50,000 senders must not cost 100 MB (about 2 KB each).
        self.max_senders = max_senders
        self._senders: dict[Hashable, _Sender] = {}
        self._heard: OrderedDict[Hashable, None] = OrderedDict()  # least recently heard first
        self.retired = dict.fromkeys(_TOTALS, 0)

    # -- feeding ------------------------------------------------------------------------------

    def feed(self, sender: Hashable, number: int | None, time: float | None = None) -> str:
        """Record one arrival; returns what it was.

        One of ``"first"`` (first from this sender), ``"next"`` (one after the highest),
        ``"gap"`` (ahead, with places skipped), ``"late"`` (fills a gap: out of order),
        ``"duplicate"`` or ``"invalid"`` (not a number from 1 to lap).
        """
        state = self._senders.get(sender)
        if state is None:
            if len(self._senders) >= self.max_senders:
                self._retire_least_recent()
            state = self._senders[sender] = _Sender(self.keep_missing)
            self._heard[sender] = None
        else:
            self._heard.move_to_end(sender)
        if time is not None:
            self._note_time(state, time)
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= self.lap:
            state.invalid += 1
            return "invalid"
        state.received += 1
        state.last = number
        if state.highest is None:
            state.lowest = state.highest = number - 1
            return "first"
        return self._place(state, number)

    def _retire_least_recent(self) -> None:
        sender, _ = self._heard.popitem(last=False)
        for key, value in self._totals_of(self._senders.pop(sender)).items():
            self.retired[key] += value

    def feed_many(self, arrivals: Iterable[tuple]) -> None:
        """Feed ``(sender, number)`` or ``(sender, number, time)`` tuples in arrival order."""
        for arrival in arrivals:
            self.feed(*arrival)

    def _note_time(self, state: _Sender, time: float) -> None:
        if state.first_time is None:
            state.first_time = time
        state.last_time = time
        times = state.times
        times.append(time)
        # Keep one arrival older than the window: the interval up to the first one inside it
        # says whether the sender paused just before.
        while len(times) > 2 and time - times[1] > self.rate_window:
            times.popleft()

    def _place(self, state: _Sender, number: int) -> str:
        highest = state.highest
        ahead = (number - 1 - highest) % self.lap
        if ahead == 0:
            state.duplicates += 1
            return "duplicate"
        if ahead <= self.ahead_limit or self.in_order:
            place = highest + ahead
            state.open_gaps.update(range(highest + 1, place))
            state.highest = place
            self._retire_old_gaps(state)
            return "next" if ahead == 1 else "gap"
        place = highest - (self.lap - ahead)
        if place < state.lowest:
            # Late, and earlier than anything so far: the places in between are now gaps.
            state.open_gaps.update(range(place + 1, state.lowest))
            state.lowest = place
        elif place in state.open_gaps:
            state.open_gaps.discard(place)
        else:
            state.duplicates += 1
            return "duplicate"
        state.out_of_order += 1
        return "late"

    def _retire_old_gaps(self, state: _Sender) -> None:
        if not state.open_gaps:
            return
        # A place further behind than behind_limit can never be named again: its number now
        # means a place ahead. Keep it counted as missing, but stop waiting for it.
        oldest_fillable = state.highest - self.behind_limit
        old = sorted(g for g in state.open_gaps if g < oldest_fillable)
        for gap in old:
            state.open_gaps.discard(gap)
            state.lost += 1
            state.recent_lost.append(gap)

    # -- reading ------------------------------------------------------------------------------

    def senders(self) -> list:
        """Senders in the order they were first seen."""
        return list(self._senders)

    def __contains__(self, sender: Hashable) -> bool:
        return sender in self._senders

    def __len__(self) -> int:
        return len(self._senders)

    def stats(self, sender: Hashable, now: float | None = None) -> SenderStats:
        """A snapshot of one sender's counts; `now` (a time) makes the rate fall when it stops."""
        state = self._senders[sender]
        lap = self.lap
        if state.highest is None:
            unique = missing = wraps = 0
            highest = None
            recent: list[int] = []
        else:
            missing = state.lost + len(state.open_gaps)
            unique = state.highest - state.lowest + 1 - missing
            wraps = state.highest // lap - state.lowest // lap
            highest = state.highest % lap + 1
            recent = list(state.recent_lost) + sorted(state.open_gaps)
        return SenderStats(
            sender=sender,
            received=state.received,
            unique=unique,
            last=state.last,
            highest=highest,
            missing=missing,
            duplicates=state.duplicates,
            out_of_order=state.out_of_order,
            wraps=wraps,
            invalid=state.invalid,
            rate=self._rate(state, now),
            first_time=state.first_time,
            last_time=state.last_time,
            missing_numbers=tuple(p % lap + 1 for p in recent[-self.keep_missing :]),
        )

    def totals(self) -> dict:
        """Counts summed over every sender, retired ones included (cheap: no rates, no lists)."""
        out = dict(self.retired)
        for state in self._senders.values():
            out["senders"] += 1
            out["received"] += state.received
            out["missing"] += state.lost + len(state.open_gaps)
            out["duplicates"] += state.duplicates
            out["out_of_order"] += state.out_of_order
            out["invalid"] += state.invalid
        return out

    @staticmethod
    def _totals_of(state: _Sender) -> dict:
        return {
            "senders": 1,
            "received": state.received,
            "missing": state.lost + len(state.open_gaps),
            "duplicates": state.duplicates,
            "out_of_order": state.out_of_order,
            "invalid": state.invalid,
        }

    def all_stats(self, now: float | None = None) -> list[SenderStats]:
        """`stats` for every sender, in the order they were first seen."""
        return [self.stats(sender, now) for sender in self._senders]

    def _rate(self, state: _Sender, now: float | None) -> float | None:
        return current_rate(state.times, now, self.rate_window)


def pause_after(intervals) -> float:
    """The silence, in seconds, that counts as a pause between messages at this pace: several
    usual intervals (the median), and at least PAUSE_SECONDS."""
    usual = sorted(intervals)[len(intervals) // 2] if intervals else 0.0
    return max(PAUSE_SECONDS, PAUSE_INTERVALS * usual)


def current_rate(times, now: float | None = None, window: float = 5.0) -> float | None:
    """Messages a second at a sender's current pace (see "rate" in the module docstring).

    times: arrival times, oldest first (one older than the window may lead). now: measure up to
    this time, so a silence since the last arrival lowers the rate (None: up to the last
    arrival). None when there is no interval to measure yet; 0.0 when nothing came recently.
    """
    if not times:
        return None
    times = list(times)
    end = times[-1] if now is None else now
    recent = [i for i, t in enumerate(times) if end - window < t <= end]
    if not recent:
        return 0.0
    intervals = [max(0.0, times[i] - times[i - 1]) for i in recent if i > 0]
    if not intervals:
        return None
    pause = pause_after(intervals)
    sending = [gap for gap in intervals if gap <= pause]
    if not sending:
        return None  # the first arrival after a pause: no pace to measure yet
    busy = sum(sending)
    # A silence since the last arrival counts once it is longer than an interval at this pace.
    silence = max(0.0, end - times[recent[-1]] - busy / len(sending))
    return len(sending) / (busy + silence) if busy + silence > 0 else None


def describe_runs(numbers: Iterable[int], limit: int = 8) -> str:
    """Numbers as runs of consecutive ones: ``[1..100, 1, 2, 3]`` gives ``"1..100, 1..3"``.

    A clean counting stream reads as whole laps; a loss, a duplicate or a late number breaks a
    run where it happened. Past `limit` runs the rest is summed up, so the text stays short.
    """
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    parts = [str(a) if a == b else f"{a}, {b}" if b == a + 1 else f"{a}..{b}" for a, b in runs]
    if len(parts) > limit:
        hidden = len(parts) - limit
        parts = parts[:limit] + [f"... ({hidden} more run{'s' if hidden > 1 else ''})"]
    return ", ".join(parts) if parts else "nothing"
