"""Counters a background thread moves on, and threads that wait for them, without polling.

A counting client counts what it sent, a relay what it read and passed on. A test or a notebook
cell that needs "150 sent" or "the relay is idle" waits here until it is so, woken by the thread
the moment it changes, instead of sleeping in a loop and looking again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Progress:
    """Where waiters wait for a condition on some counters, and the working thread says when
    the counters changed. changed() costs one attribute check while nobody waits."""

    def __init__(self):
        self._condition = threading.Condition()
        self._waiters = 0

    def changed(self) -> None:
        # The counters are written before _waiters is read here, and a waiter counts itself in
        # before it first tests its condition: either it sees the new counts, or it is woken.
        if self._waiters:
            with self._condition:
                self._condition.notify_all()

    def wait_until(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        """Block until condition() is true (True) or timeout seconds have passed (False)."""
        with self._condition:
            self._waiters += 1
            try:
                return self._condition.wait_for(condition, timeout)
            finally:
                self._waiters -= 1
