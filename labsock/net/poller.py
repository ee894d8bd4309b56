"""Waiting on many sockets at once: epoll where the system has it, selectors elsewhere.

The TCP server waits here once per message. selectors builds a (key, events) pair per ready
socket in Python, about a microsecond a message; epoll's own poll() hands back (fd, events)
directly. Windows and macOS (no epoll) use selectors, translated to the same (fd, events) form.
"""

from __future__ import annotations

import select
import selectors

# At most this many ready sockets per poll(): without a bound, epoll's poll() allocates room for
# 1,023 (12 KB) at every call, once per message, a tenth of its cost. Level-triggered epoll hands
# the rest over at the next call, in turn.
MAX_EVENTS = 64

if hasattr(select, "epoll"):
    READ = select.EPOLLIN
    WRITE = select.EPOLLOUT
    # A socket with an error or a hang-up is readable: recv() then says what happened.
    READABLE = select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP

    class Poller:
        """register(fd, events), modify, unregister, poll(timeout, MAX_EVENTS) ->
        [(fd, events)], close: epoll's own methods, with nothing in between."""

        READ, WRITE, READABLE = READ, WRITE, READABLE

        def __init__(self):
            epoll = select.epoll()
            self.register = epoll.register
            self.modify = epoll.modify
            self.unregister = epoll.unregister
            self.poll = epoll.poll  # timeout in seconds; None waits until something happens
            self.close = epoll.close

else:
    READ, WRITE = 1, 4
    READABLE = READ

    class Poller:  # type: ignore[no-redef]
        READ, WRITE, READABLE = READ, WRITE, READABLE

        def __init__(self):
            self._selector = selectors.DefaultSelector()

        @staticmethod
        def _as_selector_events(events: int) -> int:
            return (selectors.EVENT_READ if events & READ else 0) | (
                selectors.EVENT_WRITE if events & WRITE else 0
            )

        def register(self, fd: int, events: int) -> None:
            self._selector.register(fd, self._as_selector_events(events))

        def modify(self, fd: int, events: int) -> None:
            self._selector.modify(fd, self._as_selector_events(events))

        def unregister(self, fd: int) -> None:
            self._selector.unregister(fd)

        def poll(self, timeout: float | None, max_events: int = -1) -> list[tuple[int, int]]:
            # max_events is epoll's: selectors hands over every ready socket at once.
            ready = []
            for key, events in self._selector.select(timeout):
                ready.append(
                    (
                        key.fd,
                        (READ if events & selectors.EVENT_READ else 0)
                        | (WRITE if events & selectors.EVENT_WRITE else 0),
                    )
                )
            return ready

        def close(self) -> None:
            self._selector.close()
