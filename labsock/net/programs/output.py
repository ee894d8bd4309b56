"""What a program printed, kept within bounds: the newest characters, and a count of the rest."""

from __future__ import annotations

import threading
from collections import deque

OUTPUT_LIMIT = 1_000_000  # characters of output a job keeps (the newest)


class Output:
    """What a program printed: the newest `limit` characters, and how many were dropped."""

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit = limit
        self.dropped = 0
        self.total = 0  # characters ever added: a cursor for readers that follow along
        self._chunks: deque[str] = deque()
        self._size = 0
        self._newlines = 0  # in the kept text: a redraw must not count them all again
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._chunks.append(text)
            self._size += len(text)
            self._newlines += text.count("\n")
            self.total += len(text)
            while self._size > self.limit and self._chunks:
                extra = self._size - self.limit
                first = self._chunks[0]
                if len(first) <= extra:
                    self._chunks.popleft()
                    cut = first
                else:
                    self._chunks[0] = first[extra:]
                    cut = first[:extra]
                self._size -= len(cut)
                self._newlines -= cut.count("\n")
                self.dropped += len(cut)

    def _newest(self, characters: int) -> str:
        """The newest `characters` characters kept (all of them if fewer), without joining the
        rest: a client's cell asks for what is new every 50 ms."""
        picked, size = [], 0
        for chunk in reversed(self._chunks):
            picked.append(chunk)
            size += len(chunk)
            if size >= characters:
                break
        return "".join(reversed(picked))[-characters:] if characters else ""

    def text(self) -> str:
        with self._lock:
            return "".join(self._chunks)

    def since(self, cursor: int) -> tuple[str, int]:
        """What was added after cursor (a previous total), and the new cursor."""
        with self._lock:
            new = self.total - cursor
            if new <= 0:
                return "", self.total
            if new > self._size:
                note = f"[... {new - self._size:,} characters not kept ...]\n"
                return note + "".join(self._chunks), self.total
            return self._newest(new), self.total

    def tail(self, lines: int) -> tuple[str, int]:
        """The last `lines` lines, and how many lines before them are not shown."""
        with self._lock:
            picked, newlines = [], 0
            for chunk in reversed(self._chunks):
                picked.append(chunk)
                newlines += chunk.count("\n")
                if newlines > lines:
                    break
            text = "".join(reversed(picked))
            last = self._chunks[-1] if self._chunks else ""
            all_lines = self._newlines + (1 if last and not last.endswith("\n") else 0)
        kept = text.split("\n")
        if text.endswith("\n"):
            kept.pop()
        shown = kept[-lines:]
        return "\n".join(shown), max(all_lines - len(shown), 0)
