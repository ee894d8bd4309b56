"""What a program printed, kept within bounds: the newest characters, and a count of the rest."""

from __future__ import annotations

import threading
from collections import deque

OUTPUT_LIMIT = 1_000_000  # characters of output a job keeps (the newest)
TAIL_CHARACTERS_A_LINE = 500  # characters a view shows for each line it shows, on average


class Output:
    """What a program printed: the newest `limit` characters, and how many were dropped."""

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit = limit
        self.dropped = 0
        self.total = 0  # characters ever added: a cursor for readers that follow along
        self.lines_ended = 0  # newlines ever added: a view's count of the lines it hides
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
            newlines = text.count("\n")
            self._newlines += newlines
            self.lines_ended += newlines
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

    def follow(self, cursor: int | None, characters: int) -> tuple[str, int, int, bool]:
        """For a view that shows at most `characters`: what was added after cursor (None: from
        the start), the newest `characters` of it at most; the new cursor; the newlines ever
        added up to it; and whether the text follows on from cursor (False: a gap, start over)."""
        with self._lock:
            new = self.total - (cursor or 0)
            whole = cursor is not None and new <= min(self._size, characters)
            text = self._newest(min(new, self._size, characters))
            return text, self.total, self.lines_ended, whole

    def tail(self, lines: int, characters: int | None = None) -> tuple[str, int]:
        """The last `lines` lines, and how many lines before them are not shown.

        At most `characters` characters (TAIL_CHARACTERS_A_LINE a line by default): one line of
        a million characters must not be joined, split and drawn at every redraw. A line shown
        without its start begins with a note that says so."""
        if characters is None:
            characters = max(lines, 1) * TAIL_CHARACTERS_A_LINE
        with self._lock:
            picked, newlines, size = [], 0, 0
            for chunk in reversed(self._chunks):
                picked.append(chunk)
                newlines += chunk.count("\n")
                size += len(chunk)
                if newlines > lines or size > characters:
                    break
            before = ""  # the character kept just before the text taken, if any
            trimmed = max(size - characters, 0)
            if trimmed:
                before = picked[-1][trimmed - 1]
                picked[-1] = picked[-1][trimmed:]
            elif len(picked) < len(self._chunks):
                before = self._chunks[-len(picked) - 1][-1]
            text = "".join(reversed(picked))
            last = self._chunks[-1] if self._chunks else ""
            all_lines = self._newlines + (1 if last and not last.endswith("\n") else 0)
        kept = text.split("\n")
        if text.endswith("\n"):
            kept.pop()
        shown = kept[-lines:]
        cut_line = before not in ("", "\n") and len(shown) == len(kept) and shown
        text = "\n".join(shown)
        if cut_line:
            text = "[... the start of this line is not shown ...]" + text
        return text, max(all_lines - len(shown), 0)
