"""The server's log: every message a server receives, for views and tests to read.

Server threads never print (in Jupyter a thread's print lands in whatever cell runs at that moment,
or nowhere). They append here; the notebook views, the command line and the tests read from here.
The append is the hot path of every server, so entries are stored as plain tuples and turned into
Message objects only when someone reads them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from html import escape
from itertools import islice

MESSAGE, CONNECTED, DISCONNECTED, ERROR = "message", "connected", "disconnected", "error"


def readable(data: bytes) -> str:
    """Text for any bytes: UTF-8 where it is, \\xNN escapes where it is not."""
    return data.decode("utf-8", "backslashreplace")


class Message:
    """One log entry, read side: what arrived, from whom, when, and what the server did."""

    __slots__ = ("time", "ip", "port", "data", "reply", "error", "kind", "name")

    def __init__(self, entry: tuple, names: dict | None = None):
        self.time, (self.ip, self.port), self.data, self.reply, self.error, self.kind = entry
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
        """One line for a terminal or a plain-text view."""
        if self.kind == MESSAGE:
            text = f"{self.sender}: {self.text}"
            if self.reply is not None:
                text += f"  -> {self.reply}"
            if self.error:
                text += f"  [error: {self.error}]"
            return text
        if self.kind == ERROR:
            return f"{self.client}: error: {self.error}"
        return f"{self.sender} {self.kind}"

    def __repr__(self) -> str:
        return f"<Message {self.clock()} {self.line()}>"


class MessageLog:
    """A thread-safe, bounded record of what a server received.

    total counts every entry ever appended, so a reader can keep a cursor (a previous total) and
    ask only for what is new with since(cursor), however many entries the bound has dropped.
    """

    def __init__(self, maxlen: int = 10_000, names: dict | None = None):
        self.maxlen = maxlen
        self.names = dict(names or {})
        self.total = 0
        self.closed = False
        self._entries: deque = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._waiters: list[threading.Event] = []
        self._events = 0

    # -- writing (server threads) -------------------------------------------------------------

    def append(self, when, address, data, reply=None, error=None) -> None:
        """Log one received message (the per-message hot path of every server)."""
        with self._lock:
            self._entries.append((when, address, data, reply, error, MESSAGE))
            self.total += 1
            if self._waiters:
                self._wake()

    def add_event(self, when, address, kind, error=None) -> None:
        """Log a connection event or an error (not a message)."""
        with self._lock:
            self._entries.append((when, address, b"", None, error, kind))
            # Count the event before the total: a reader without the lock may then undercount
            # messages for an instant, never overcount them.
            self._events += 1
            self.total += 1
            if self._waiters:
                self._wake()

    def close(self) -> None:
        """Called when the server stops: wakes every reader so none waits for nothing."""
        with self._lock:
            self.closed = True
            self._wake()

    def _wake(self) -> None:
        for event in self._waiters:
            event.set()
        self._waiters.clear()

    # -- reading --------------------------------------------------------------------------------

    @property
    def message_count(self) -> int:
        """Messages received so far (connection events and errors not counted)."""
        return self.total - self._events

    def wait(self, after: int, timeout: float | None = None) -> bool:
        """Block until total > after or the log is closed; False if timeout came first."""
        with self._lock:
            if self.total > after or self.closed:
                return True
            event = threading.Event()
            self._waiters.append(event)
        if event.wait(timeout):
            return True
        with self._lock:
            if event in self._waiters:
                self._waiters.remove(event)
            return self.total > after

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least count messages are logged; False after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            # Read total before the count: an append in between then wakes wait() at once.
            seen = self.total
            if self.message_count >= count:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return False
            self.wait(seen, remaining)

    def since(self, cursor: int) -> tuple[list[Message], int]:
        """Entries appended after cursor (a previous total), and the new cursor.

        Entries the bound has already dropped are skipped: the count of them is
        new_cursor - cursor - len(entries).
        """
        with self._lock:
            total = self.total
            new = min(total - cursor, len(self._entries))
            raw = list(islice(reversed(self._entries), new)) if new > 0 else []
        raw.reverse()
        return [Message(e, self.names) for e in raw], total

    def entries(self) -> list[Message]:
        with self._lock:
            raw = list(self._entries)
        return [Message(e, self.names) for e in raw]

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
            "<table><tr><th>time</th><th>from</th><th>message</th><th>reply</th></tr>"
            f"{body}</table></div>"
        )

    def _repr_html_(self) -> str:
        return self.tail_html()

    def __repr__(self) -> str:
        return self.tail_text()
