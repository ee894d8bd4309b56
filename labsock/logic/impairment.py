"""Seeded decisions for a misbehaving network: loss, delay, jitter, duplicates, reordering.

Pure logic, no sockets (the relay in labsock.net.relay does the I/O). One `Link` is one direction of
one conversation: datagrams go in with `push(data, now)`, come out of `due(now)` when their time
has come, and the link counts what it did (`link.counts`), the ground truth a receiver's own
figures are checked against.

What each setting means, per datagram:
- loss: dropped with this probability.
- delay_ms, jitter_ms: held for delay_ms plus a uniform amount in [-jitter_ms, +jitter_ms] (never
  below zero). Jitter alone can reorder datagrams, as on a real network.
- duplicate: sent twice, the copy right after the original.
- reorder: held back until the next datagram has gone out, so the two swap places. If no next
  datagram comes within `reorder_hold_ms`, it goes out in order after all.
- corrupt: one bit flipped (off unless asked for).

The random draws per datagram are the same whatever the settings, so with one seed the same
datagrams are lost whether the delay is 0 or 100 ms.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import asdict, dataclass, field, replace

from labsock.logic.errors import LabsockError


@dataclass(frozen=True)
class Impairment:
    """How one direction misbehaves. Probabilities are 0..1, times in milliseconds."""

    loss: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    corrupt: float = 0.0
    reorder_hold_ms: float = 200.0

    def __post_init__(self):
        for name in ("loss", "duplicate", "reorder", "corrupt"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise LabsockError(
                    f"{name} is a probability: a number from 0 to 1 (0.05 means 5%), not {value!r}."
                )
        for name in ("delay_ms", "jitter_ms", "reorder_hold_ms"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 60_000:
                raise LabsockError(
                    f"{name} is a time in milliseconds from 0 to 60000, not {value!r}."
                )

    def with_changes(self, **changes) -> Impairment:
        return replace(self, **changes)

    def describe(self) -> str:
        parts = []
        if self.loss:
            parts.append(f"{self.loss:.1%} loss")
        if self.delay_ms or self.jitter_ms:
            text = f"{self.delay_ms:g} ms delay"
            if self.jitter_ms:
                text += f" ± {self.jitter_ms:g} ms jitter"
            parts.append(text)
        if self.duplicate:
            parts.append(f"{self.duplicate:.1%} duplicated")
        if self.reorder:
            parts.append(f"{self.reorder:.1%} reordered")
        if self.corrupt:
            parts.append(f"{self.corrupt:.1%} corrupted")
        return ", ".join(parts) if parts else "perfect (no impairment)"


# Illustrative figures, in the range people measure on such links; not a model of any one network.
PRESETS: dict[str, Impairment] = {
    "perfect": Impairment(),
    "good wifi": Impairment(loss=0.005, delay_ms=2, jitter_ms=1),
    "crowded wifi": Impairment(loss=0.05, delay_ms=15, jitter_ms=10, duplicate=0.005, reorder=0.01),
    "mobile": Impairment(loss=0.02, delay_ms=40, jitter_ms=20, reorder=0.02),
    "satellite": Impairment(loss=0.01, delay_ms=300, jitter_ms=10),
    "lossy": Impairment(loss=0.2),
}


def preset(name: str | Impairment | None) -> Impairment:
    """An Impairment by name ("good wifi", "crowded wifi", "mobile", ...); an Impairment passes."""
    if name is None:
        return Impairment()
    if isinstance(name, Impairment):
        return name
    key = str(name).strip().lower().replace("-", " ").replace("_", " ")
    if key not in PRESETS:
        raise LabsockError(
            f"There is no network preset called {name!r}. Pick one of: "
            + ", ".join(repr(k) for k in PRESETS)
            + ", or build your own with Impairment(loss=..., delay_ms=...)."
        )
    return PRESETS[key]


@dataclass
class Counts:
    """What a link did, datagram by datagram (the ground truth a receiver is checked against)."""

    received: int = 0  # datagrams in
    sent: int = 0  # datagrams out, copies included
    dropped: int = 0  # lost on purpose, or because the queue was full
    duplicated: int = 0  # second copies sent
    delayed: int = 0  # held back before going on
    reordered: int = 0  # overtaken by a later datagram
    corrupted: int = 0  # sent with one bit flipped

    def as_dict(self) -> dict:
        return asdict(self)

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{k: v + getattr(other, k) for k, v in asdict(self).items()})


@dataclass(frozen=True)
class Decision:
    """The random draws for one datagram, turned into what happens to it."""

    drop: bool
    copies: int  # 1, or 2 when duplicated
    delay_s: float
    hold: bool  # reorder: wait for the next datagram to overtake it
    flip_bit: int | None  # bit index to flip, or None


def decide(settings: Impairment, rng: random.Random, size: int) -> Decision:
    """One datagram's fate. Always draws the same five numbers, whatever the settings."""
    r_loss, r_dup, r_reorder, r_corrupt, r_jitter = (rng.random() for _ in range(5))
    delay_ms = settings.delay_ms + (2 * r_jitter - 1) * settings.jitter_ms
    flip = None
    if r_corrupt < settings.corrupt and size > 0:
        # r_corrupt is uniform below settings.corrupt here, so this picks any bit evenly.
        flip = min(int(r_corrupt / settings.corrupt * size * 8), size * 8 - 1)
    return Decision(
        drop=r_loss < settings.loss,
        copies=2 if r_dup < settings.duplicate else 1,
        delay_s=max(0.0, delay_ms) / 1000.0,
        hold=r_reorder < settings.reorder,
        flip_bit=flip,
    )


def flip_bit(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


# An event keeps this much of its datagram: enough for a diagram's label, never 65 KB per event.
EVENT_BYTES = 256


@dataclass(slots=True)
class Event:
    """One datagram's story, for diagrams and for checking: index in, what happened, when out."""

    index: int  # 1, 2, 3 ... in arrival order at the link
    arrived: float
    data: bytes  # its first EVENT_BYTES bytes
    action: str  # "sent" | "dropped"
    sent_at: list[float] = field(default_factory=list)
    duplicated: bool = False
    reordered: bool = False
    corrupted: bool = False


class Link:
    """One direction through the impaired network: push datagrams in, take them out when due."""

    def __init__(
        self,
        settings: Impairment | str | None = None,
        seed: int | str | None = None,
        *,
        name: str = "",
        keep_events: int = 10_000,
        max_waiting: int = 10_000,
    ):
        self.settings = preset(settings)
        self.name = name
        # A str seed is hashed with SHA-512 by random: stable across runs and machines.
        self._rng = random.Random(f"labsock-{seed}-{name}" if seed is not None else None)
        self.counts = Counts()
        self.events: list[Event] = []
        self._keep_events = keep_events
        # Like a router's queue: a link holding this many datagrams drops the next (counted).
        self.max_waiting = max_waiting
        self._heap: list[tuple[float, int, int, bytes, Event]] = []
        self._order = 0  # tie-break so equal times keep push order
        self._held: tuple[float, int, bytes, Event] | None = None  # (due, copies, data, event)
        self._held_until = 0.0
        self._highest_sent = 0  # highest arrival index already sent: anything lower is overtaken
        self._first_kept: int | None = None  # first and last arrival index not dropped
        self._last_kept = 0
        self.waiting_bytes = 0  # bytes held for later (copies counted), for a relay's budget

    def push(self, data: bytes, now: float, *, room: bool = True) -> Decision:
        """A datagram arrives at the link at time `now` (seconds, any monotonic clock).

        room=False: whoever runs the link has no memory left for it (a relay's byte budget), so
        it is dropped like a router with a full queue drops, and counted."""
        self.counts.received += 1
        index = self.counts.received
        decision = decide(self.settings, self._rng, len(data))
        event = Event(index=index, arrived=now, data=data[:EVENT_BYTES], action="sent")
        if len(self.events) < self._keep_events:
            self.events.append(event)
        if decision.drop or not room or self.waiting >= self.max_waiting:
            event.action = "dropped"
            self.counts.dropped += 1
            return decision
        if self._first_kept is None:
            self._first_kept = index
        self._last_kept = index
        if decision.flip_bit is not None:
            data = flip_bit(data, decision.flip_bit)
            event.corrupted = True
            self.counts.corrupted += 1
        if decision.delay_s > 0:
            self.counts.delayed += 1
        due = now + decision.delay_s
        if decision.hold and self._held is None:
            self._held = (due, decision.copies, data, event)
            self.waiting_bytes += len(data) * decision.copies
            self._held_until = now + self.settings.reorder_hold_ms / 1000.0
            return decision
        self._schedule(due, decision.copies, data, event)
        if self._held is not None:
            # The datagram held for reordering goes right after this one.
            held_due, copies, held_data, held_event = self._held
            self._held = None
            self.waiting_bytes -= len(held_data) * copies  # counted again as it is scheduled
            self._schedule(max(due, held_due), copies, held_data, held_event)
        return decision

    def _schedule(self, due: float, copies: int, data: bytes, event: Event) -> None:
        self.waiting_bytes += len(data) * copies
        for _ in range(copies):
            self._order += 1
            heapq.heappush(self._heap, (due, self._order, event.index, data, event))

    def next_due(self) -> float | None:
        """When the link next has something to do (a send or a held datagram's deadline)."""
        times = []
        if self._heap:
            times.append(self._heap[0][0])
        if self._held is not None:
            times.append(self._held_until)
        return min(times) if times else None

    def due(self, now: float) -> list[bytes]:
        """Datagrams to send now, in order. Counts them as they go out."""
        if self._held is not None and now >= self._held_until:
            held_due, copies, data, event = self._held
            self._held = None
            self.waiting_bytes -= len(data) * copies  # counted again as it is scheduled
            self._schedule(held_due, copies, data, event)
        out = []
        while self._heap and self._heap[0][0] <= now:
            _, _, index, data, event = heapq.heappop(self._heap)
            out.append(data)
            self.waiting_bytes -= len(data)
            self._record_send(index, event, now)
        return out

    def drop_waiting(self) -> None:
        """Forget what still waits (a relay that stops sends nothing more): memory back now."""
        self._heap.clear()
        self._held = None
        self.waiting_bytes = 0

    def _record_send(self, index: int, event: Event, now: float) -> None:
        first_copy = not event.sent_at
        event.sent_at.append(now)
        self.counts.sent += 1
        if not first_copy:
            event.duplicated = True
            self.counts.duplicated += 1
        elif index < self._highest_sent:
            # Overtaken by a later datagram: that is what a receiver sees as out of order.
            event.reordered = True
            self.counts.reordered += 1
        self._highest_sent = max(self._highest_sent, index)

    @property
    def waiting(self) -> int:
        return len(self._heap) + (self._held is not None)

    def receiver_view(self) -> dict:
        """What a receiver can know, for datagrams numbered in the order they were sent, once
        everything kept has gone out (the relay is idle).

        A loss shows only once something after it arrives: a receiver counts as missing just
        the drops between the first and the last datagram that got through. Duplicates and
        late arrivals it sees exactly. (The keys are labsock.logic.sequence's names.)
        """
        # Everything before the first kept datagram and after the last one was dropped, so the
        # count needs no record of each datagram (the event list is bounded; this is not).
        c = self.counts
        if self._first_kept is None:
            missing = 0
        else:
            missing = c.dropped - (self._first_kept - 1) - (c.received - self._last_kept)
        return {
            "received": self.counts.sent,
            "missing": missing,
            "duplicates": self.counts.duplicated,
            "out_of_order": self.counts.reordered,
            "dropped_unseen": self.counts.dropped - missing,
        }
