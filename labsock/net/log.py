"""The server's log: every message a server receives, for views and tests to read.

Server threads never print (in Jupyter a thread's print lands in whatever cell runs at that moment,
or nowhere). They append here; the notebook views (labsock.show), the command line and the tests
read from here.
The append is the hot path of every server, so entries are stored as plain tuples and turned into
Message objects only when someone reads them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from itertools import islice

from labsock.logic.errors import LabsockError
from labsock.logic.validation import number
from labsock.net.interrupts import interruptible

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
        from labsock.logic.text import escape_controls  # here: `import labsock` stays light

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
# An entry holding at least this many bytes (message, reply and error together) counts against
# the log's byte budget. Smaller ones are bounded by maxlen alone: 10,000 of them stay a few MB.
BIG_ENTRY = 1024
# Big entries kept at most: 10,000 datagrams of 65 KB would be 1.3 GB with their replies.
MAX_BYTES = 32 * 1024 * 1024


# Far more than any lab keeps; a bigger number (2**70) would overflow the deque that holds them.
MOST_KEPT = 1_000_000_000


def _check_size(value, name: str, example: str) -> int:
    if number(value, 1, MOST_KEPT, whole=True) is None:
        raise LabsockError(
            f"{name}={value!r} is not a size the log can keep. Use a whole number from 1 to "
            f"{MOST_KEPT:,}, such as {example}."
        )
    return value


class MessageLog:
    """A thread-safe record of what a server received, bounded by count and by bytes.

    total counts every entry ever appended, so a reader can keep a cursor (a previous total) and
    ask only for what is new with since(cursor), however many entries the bounds have dropped.

    Writers: append() and add_event() take a lock, so replies finishing in several threads can
    log. A server loop that is the only writer uses writer() instead, without a lock, because it
    runs for every datagram: each entry carries its own number, and readers copy the entries in
    one C-level call, which no append can interleave with, then keep the numbers they asked for.
    """

    def __init__(
        self, maxlen: int = 10_000, names: dict | None = None, *, max_bytes: int = MAX_BYTES
    ):
        self.maxlen = _check_size(maxlen, "log_size", "10000 (messages kept)")
        self.max_bytes = _check_size(max_bytes, "max_bytes", "32_000_000")
        self.names = dict(names or {})
        self.closed = False
        self._entries: deque = deque(maxlen=maxlen)
        self._numbers = itertools.count()
        self._events = 0
        self._lock = threading.Lock()  # guards the waiters
        self._write_lock = threading.Lock()  # one locked writer at a time
        self._waiters: list[tuple[int, threading.Event]] = []
        # The entry number at which some reader must be woken (its target total - 1).
        self.wake_at = _NOBODY
        self._big: deque[tuple[int, int]] = deque()  # (number, bytes) of the big entries kept
        self._big_bytes = 0

    @property
    def total(self) -> int:
        """How many entries were ever appended: the newest one's number + 1."""
        try:
            return self._entries[-1][0] + 1
        except IndexError:
            return 0

    @property
    def dropped(self) -> int:
        """Entries appended but no longer kept (the oldest, dropped by the bounds)."""
        return self.total - len(self._entries)

    # -- writing --------------------------------------------------------------------------------

    def writer(self):
        """(numbers, push) for a server loop that is the log's only writer, inline, no lock.

        Per message the loop takes the next number, pushes the entry tuple (number, time,
        address, data, reply, error, kind), calls log.count_bytes for an entry of BIG_ENTRY bytes
        or more, and log.wake() once the number reaches log.wake_at: what append() does, without
        the method call (UDPServer._serve does it).
        """
        return self._numbers, self._entries.append

    def append(self, when, address, data, reply=None, error=None) -> None:
        """Log one received message."""
        self._write((when, address, data, reply, error, MESSAGE), False)

    def add_event(self, when, address, kind, error=None) -> None:
        """Log a connection event or an error (not a message)."""
        self._write((when, address, b"", None, error, kind), True)

    def _write(self, entry: tuple, event: bool) -> None:
        with self._write_lock:
            number = next(self._numbers)
            if event:
                # Count the event before it shows: a reader may then undercount messages for an
                # instant, never overcount them.
                self._events += 1
            self._entries.append((number, *entry))
            size = len(entry[2]) + len(entry[3] or "") + len(entry[4] or "")
            if size >= BIG_ENTRY:
                self.count_bytes(number, size)
        # The entry is visible before wake_at is read, and wait() sets wake_at before it reads
        # total: one of the two always sees the other, so no reader sleeps through its message.
        if number >= self.wake_at:
            self.wake()

    def count_bytes(self, number: int, size: int) -> None:
        """Count a big entry against max_bytes, dropping the oldest entries while over it (the
        writer's thread; the newest entry is always kept)."""
        big = self._big
        big.append((number, size))
        self._big_bytes += size
        entries = self._entries
        first = entries[0][0]
        while big[0][0] < first:  # already dropped by maxlen
            self._big_bytes -= big.popleft()[1]
        while self._big_bytes > self.max_bytes and len(big) > 1:
            oldest, size = big.popleft()
            self._big_bytes -= size
            while entries[0][0] <= oldest:
                entries.popleft()

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
        with interruptible(f"{count} message(s) in the log"):
            return self._wait_for(count, timeout)

    def _wait_for(self, count: int, timeout: float) -> bool:
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

    def since_raw(self, cursor: int) -> tuple[list[tuple], int]:
        """since(), as the log's own tuples (number, time, address, data, reply, error, kind):
        for a reader that turns thousands of them into lines a second."""
        raw = self._from(cursor)
        return raw, (raw[-1][0] + 1 if raw else max(cursor, 0))

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

    # -- as text (its HTML, for Jupyter, is labsock.show.as_html.log_html) ------------------------

    def tail(self, rows: int = 20) -> list[Message]:
        """The newest entries, at most rows of them: the cost is the rows, not the log's size."""
        return [Message(e, self.names) for e in self._copy(max(rows, 0))]

    def tail_text(self, rows: int = 20) -> str:
        lines = [f"{m.clock()}  {m.line()}" for m in self.tail(rows)]
        dropped = self.dropped
        head = f"{self.message_count} message(s) received"
        if dropped > 0:
            head += f" ({dropped} oldest entries no longer kept)"
        return "\n".join([head, *lines])

    def __repr__(self) -> str:
        return self.tail_text()
