"""The server's log: every message a server receives, for views and tests to read.

Server threads never print (in Jupyter a thread's print lands in whatever cell runs at that moment,
or nowhere). They append here; the notebook views, the command line and the tests read from here.
The append is the hot path of every server, so entries are stored as plain tuples and turned into
Message objects only when someone reads them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from itertools import islice

from labsock.logic.text import escape_controls

MESSAGE, CONNECTED, DISCONNECTED, ERROR = "message", "connected", "disconnected", "error"


def readable(data: bytes) -> str:
    """Text for any bytes: UTF-8 where it is, \\xNN escapes where it is not."""
    return data.decode("utf-8", "backslashreplace")


class Message:
    """One log entry, read side: what arrived, from whom, when, and what the server did."""

    __slots__ = ("index", "time", "ip", "port", "data", "reply", "error", "kind", "name")

    def __init__(self, entry: tuple, names: dict | None = None):
        self.index, self.time, address, self.data, self.reply, self.error, self.kind = entry
        self.ip, self.port = address
        self.name = names.get(self.port) if names else None

    @property
    def client(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def sender(self) -> str:
        """The client's name where the server was given names, else ip:port."""
        return f"{self.name} ({self.client})" if self.name else self.client

    @property
    def text(self) -> str:
        return readable(self.data)

    @property
    def is_utf8(self) -> bool:
        try:
            self.data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def clock(self) -> str:
        """Arrival time as HH:MM:SS.mmm, local time."""
        return time.strftime("%H:%M:%S", time.localtime(self.time)) + f".{self.millis:03d}"

    @property
    def millis(self) -> int:
        return int(self.time * 1000) % 1000

    def line(self) -> str:
        """One line for a terminal or a plain-text view, control characters shown as escapes
        (a received ESC or CR must not act on the terminal or forge another line)."""
        if self.kind == MESSAGE:
            text = f"{self.sender}: {self.text}"
            if self.reply is not None:
                text += f"  -> {self.reply}"
            if self.error:
                text += f"  [error: {self.error}]"
        elif self.kind == ERROR:
            text = f"{self.client}: error: {self.error}"
        else:
            text = f"{self.sender} {self.kind}"
        return escape_controls(text)

    def __repr__(self) -> str:
        return f"<Message {self.clock()} {self.line()}>"


# Larger than any total a log reaches: "no reader is waiting".
_NOBODY = 1 << 62


class MessageLog:
    """A thread-safe, bounded record of what a server received.

    total counts every entry ever appended, so a reader can keep a cursor (a previous total) and
    ask only for what is new with since(cursor), however many entries the bound has dropped.

    One thread writes (the server's); any number read. The write takes no lock, because it runs for
    every datagram: each entry carries its own number, and readers copy the entries in one C-level
    call, which no append can interleave with, then keep the numbers they asked for.
    """

    def __init__(self, maxlen: int = 10_000, names: dict | None = None):
        self.maxlen = maxlen
        self.names = dict(names or {})
        self.closed = False
        self._entries: deque = deque(maxlen=maxlen)
        self._numbers = itertools.count()
        self._events = 0
        self._lock = threading.Lock()  # guards the waiters only
        self._waiters: list[tuple[int, threading.Event]] = []
        # The entry number at which some reader must be woken (its target total - 1).
        self.wake_at = _NOBODY

    @property
    def total(self) -> int:
        """How many entries were ever appended: the newest one's number + 1."""
        try:
            return self._entries[-1][0] + 1
        except IndexError:
            return 0

    # -- writing (the server's thread) ----------------------------------------------------------

    def writer(self):
        """(numbers, push) for a server's hot loop, which writes entries inline:

            number = next(numbers)
            push((number, when, address, data, reply, error, MESSAGE))
            if number >= log.wake_at:
                log.wake()

        (append() does exactly this, at the price of a method call per message.)
        """
        return self._numbers, self._entries.append

    def append(self, when, address, data, reply=None, error=None) -> None:
        """Log one received message."""
        number = next(self._numbers)
        self._entries.append((number, when, address, data, reply, error, MESSAGE))
        # The entry is visible before wake_at is read, and wait() sets wake_at before it reads
        # total: one of the two always sees the other, so no reader sleeps through its message.
        if number >= self.wake_at:
            self.wake()

    def add_event(self, when, address, kind, error=None) -> None:
        """Log a connection event or an error (not a message)."""
        number = next(self._numbers)
        # Count the event before it shows: a reader may then undercount messages for an
        # instant, never overcount them.
        self._events += 1
        self._entries.append((number, when, address, b"", None, error, kind))
        if number >= self.wake_at:
            self.wake()

    def close(self) -> None:
        """Called when the server stops: wakes every reader so none waits for nothing."""
        self.closed = True
        self.wake()

    def wake(self) -> None:
        """Wake the readers whose wait is over (called by the writer when it reaches wake_at)."""
        with self._lock:
            total, closed = self.total, self.closed
            waiting = []
            for target, event in self._waiters:
                if total >= target or closed:
                    event.set()
                else:
                    waiting.append((target, event))
            self._set_waiters(waiting)

    def _set_waiters(self, waiters: list) -> None:
        self._waiters = waiters
        self.wake_at = min((target for target, _ in waiters), default=_NOBODY + 1) - 1

    # -- reading --------------------------------------------------------------------------------

    @property
    def message_count(self) -> int:
        """Messages received so far (connection events and errors not counted)."""
        return self.total - self._events

    def wait(self, after: int, timeout: float | None = None) -> bool:
        """Block until total > after or the log is closed; False if timeout came first."""
        target = after + 1
        event = threading.Event()
        with self._lock:
            self._waiters.append((target, event))
            self.wake_at = min(self.wake_at, target - 1)
        # Checked after registering: an append before it shows here, one after it wakes us.
        reached = self.total >= target or self.closed or event.wait(timeout)
        with self._lock:
            self._set_waiters([(t, e) for t, e in self._waiters if e is not event])
        return reached or self.total >= target or self.closed

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least count messages are logged; False after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            # Read total before the count: an append in between then wakes wait() at once.
            seen = self.total
            missing = count - self.message_count
            if missing <= 0:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return False
            # Each message adds one to total: sleep until it could be enough, not at every one.
            self.wait(seen + missing - 1, remaining)

    def _copy(self, newest: int | None = None) -> list[tuple]:
        """The newest entries (all when newest is None), oldest first, as one consistent copy."""
        while True:
            try:
                if newest is None:
                    return list(self._entries)
                raw = list(islice(reversed(self._entries), newest))
            except RuntimeError:  # appended to during the copy (free-threaded Python): again
                continue
            raw.reverse()
            return raw

    def _from(self, cursor: int) -> list[tuple]:
        """Entries numbered cursor or later that the bound still keeps, oldest first."""
        want = max(self.total - cursor, 0) + 1  # one more, to see where the gap ends
        while True:
            raw = self._copy(want)
            # Complete when the copy reaches back before cursor, or holds all that is kept.
            if len(raw) < want or raw[0][0] < cursor:
                break
            want *= 2  # more arrived while we looked
        skip = 0
        while skip < len(raw) and raw[skip][0] < cursor:
            skip += 1
        return raw[skip:]

    def since(self, cursor: int) -> tuple[list[Message], int]:
        """Entries appended after cursor (a previous total), and the new cursor.

        Entries the bound has already dropped are skipped: the count of them is
        new_cursor - cursor - len(entries).
        """
        raw = self._from(cursor)
        new_cursor = raw[-1][0] + 1 if raw else max(cursor, 0)
        return [Message(e, self.names) for e in raw], new_cursor

    def entries(self) -> list[Message]:
        return [Message(e, self.names) for e in self._copy()]

    def messages(self) -> list[Message]:
        return [m for m in self.entries() if m.kind == MESSAGE]

    def texts(self) -> list[str]:
        return [m.text for m in self.messages()]

    def by_client(self) -> dict[str, list[str]]:
        """Message texts grouped by sender, senders in order of first appearance."""
        groups: dict[str, list[str]] = {}
        for m in self.messages():
            groups.setdefault(m.sender, []).append(m.text)
        return groups

    def errors(self) -> list[str]:
        return [m.error for m in self.entries() if m.error]

    def __len__(self) -> int:
        return len(self._entries)

    # -- showing ------------------------------------------------------------------------------

    def tail_text(self, rows: int = 20) -> str:
        entries = self.entries()[-rows:]
        lines = [f"{m.clock()}  {m.line()}" for m in entries]
        dropped = self.total - len(self._entries)
        head = f"{self.message_count} message(s) received"
        if dropped > 0:
            head += f" ({dropped} oldest entries no longer kept)"
        return "\n".join([head, *lines])

    def tail_html(self, rows: int = 20) -> str:
        from html import escape  # here, not at the top: html.entities costs 1-2 ms of import

        entries = self.entries()[-rows:]
        body = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                m.clock(),
                escape(m.sender),
                escape(m.text if m.kind in (MESSAGE,) else m.kind)
                + (f" <b style='color:#b00'>error: {escape(m.error)}</b>" if m.error else ""),
                "" if m.reply is None else escape(m.reply),
            )
            for m in entries
        )
        shown = f", last {len(entries)} shown" if self.message_count > len(entries) else ""
        return (
            f"<div><b>{self.message_count} message(s) received</b>{shown}"
            "<table style='border-spacing: 14px 2px; text-align: left'>"
            "<tr><th>time</th><th>from</th><th>message</th><th>reply</th></tr>"
            f"{body}</table></div>"
        )

    def _repr_html_(self) -> str:
        return self.tail_html()

    def __repr__(self) -> str:
        return self.tail_text()
