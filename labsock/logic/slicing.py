"""How a TCP relay re-cuts a byte stream, without sockets.

TCP promises the bytes, in order, and nothing about where one recv() ends. A `ByteSlicer` makes
that visible: it gathers what arrives for `merge_ms` (so two messages can come out as one piece),
then cuts it into random pieces of 1..`max_piece` bytes, `gap_ms` apart (so one message can come
out in halves). Same interface as impairment.Link: push(data, now), due(now), next_due().
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass

from labsock.logic.errors import LabsockError


@dataclass
class SliceCounts:
    bytes_in: int = 0
    bytes_out: int = 0
    writes_in: int = 0  # recv() results the relay got
    pieces_out: int = 0  # send() calls it made


class ByteSlicer:
    def __init__(
        self,
        seed: int | str | None = None,
        *,
        max_piece: int = 7,
        merge_ms: float = 20.0,
        gap_ms: float = 5.0,
        name: str = "",
    ):
        if max_piece < 1:
            raise LabsockError("max_piece is the largest piece in bytes: 1 or more.")
        self.max_piece = max_piece
        self.merge_s = merge_ms / 1000.0
        self.gap_s = gap_ms / 1000.0
        self._rng = random.Random(f"labsock-slicer-{seed}-{name}" if seed is not None else None)
        self._buffer = bytearray()
        self._flush_at: float | None = None
        self._heap: list[tuple[float, int, bytes]] = []
        self._order = 0
        self._last_out = float("-inf")
        self.counts = SliceCounts()

    def cut(self, data: bytes) -> list[bytes]:
        """Random pieces of 1..max_piece bytes that join back to `data`."""
        pieces, i = [], 0
        while i < len(data):
            size = self._rng.randint(1, self.max_piece)
            pieces.append(bytes(data[i : i + size]))
            i += size
        return pieces

    def push(self, data: bytes, now: float) -> None:
        self.counts.bytes_in += len(data)
        self.counts.writes_in += 1
        self._buffer += data
        if self._flush_at is None:
            self._flush_at = now + self.merge_s

    def next_due(self) -> float | None:
        first = self._heap[0][0] if self._heap else None
        times = [t for t in (self._flush_at, first) if t is not None]
        return min(times) if times else None

    def due(self, now: float) -> list[bytes]:
        if self._flush_at is not None and now >= self._flush_at:
            # Pieces leave gap_ms apart, and never before earlier ones: the byte order must hold.
            t = max(now, self._last_out + self.gap_s)
            for piece in self.cut(bytes(self._buffer)):
                self._order += 1
                heapq.heappush(self._heap, (t, self._order, piece))
                self._last_out = t
                t += self.gap_s
            self._buffer.clear()
            self._flush_at = None
        out = []
        while self._heap and self._heap[0][0] <= now:
            piece = heapq.heappop(self._heap)[2]
            out.append(piece)
            self.counts.bytes_out += len(piece)
            self.counts.pieces_out += 1
        return out

    @property
    def waiting(self) -> int:
        return len(self._heap) + len(self._buffer)

    @property
    def backlog(self) -> int:
        """Bytes taken in and not yet handed out."""
        return self.counts.bytes_in - self.counts.bytes_out
