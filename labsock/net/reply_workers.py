"""A student's reply function, run beside the server's loop: a slow one holds up only its own
message, never the other clients, and never stop().

The built-in replies (upper, alnum, echo, none) are quick and run in the server's loop. A function
of the student's may sleep, wait for input or loop for ever. Run in the loop, it would make every
other client wait, and a thread blocked in it cannot be stopped, so stop() could not free the
port. So it runs here, in a few threads that are started while all are busy (up to max_threads);
the server's loop goes on receiving, and stop() does not wait for a reply still running: its
message is logged as not answered, and whatever the function returns later is dropped.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

# A message waiting for a free thread costs its bytes plus this much bookkeeping (so that a flood
# of empty datagrams is bounded too).
_JOB_COST = 128


class ReplyWorkers:
    """Threads that call answer(data) for each submitted job, then finish(job, data, result).

    answer never raises (the server's answer catches everything). finish runs in a worker
    thread, or in stop(), once per job: with result None when the job will never be answered
    because the server stopped first.
    """

    def __init__(
        self,
        answer: Callable,
        finish: Callable,
        *,
        name: str,
        max_threads: int = 16,
        max_waiting_bytes: int = 4 * 1024 * 1024,
    ):
        self._answer = answer
        self._finish = finish
        self.name = name
        self.max_threads = max_threads
        self.max_waiting_bytes = max_waiting_bytes
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a job and not yet promised one
        self._waiting_bytes = 0
        self._running: dict[int, tuple] = {}  # thread id -> (job, data) in the reply function
        self._stopping = False

    @property
    def busy(self) -> int:
        """Replies running now."""
        return len(self._running)

    def submit(self, job, data: bytes) -> bool:
        """Queue one message; False when too much is already waiting (the caller says "busy")."""
        cost = len(data) + _JOB_COST
        with self._lock:
            if self._stopping:
                return False
            if self._waiting_bytes + cost > self.max_waiting_bytes:
                return False
            self._waiting_bytes += cost
            if self._idle:
                self._idle -= 1  # promised to this job
            elif len(self._threads) < self.max_threads:
                thread = threading.Thread(
                    target=self._work,
                    name=f"{self.name}-reply-{len(self._threads) + 1}",
                    daemon=True,  # a reply blocked for ever must not keep the kernel alive
                )
                self._threads.append(thread)
                thread.start()
        self._jobs.put((job, data))
        return True

    def _work(self) -> None:
        me = threading.get_ident()
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, data = item
            with self._lock:
                self._waiting_bytes -= len(data) + _JOB_COST
                stopped = self._stopping
                if not stopped:
                    self._running[me] = item
            if stopped:  # taken just as stop() emptied the queue: not answered, like the rest
                self._finish_quietly(job, data, None)
                return
            result = self._answer(data)
            with self._lock:
                del self._running[me]
                if self._stopping:
                    return  # stop() has logged this message as not answered
            self._finish_quietly(job, data, result)
            with self._lock:
                if self._stopping:
                    return
                self._idle += 1

    def _finish_quietly(self, job, data: bytes, result) -> None:
        try:
            self._finish(job, data, result)
        except Exception:  # finish logs what it can; a failure there must not end the worker
            pass

    def stop(self) -> None:
        """Stop taking jobs. The jobs still waiting and those whose reply function is still
        running are finished as not answered (result None), now. Idle threads end now; a thread
        inside a reply function ends when the function returns, and its result is dropped."""
        with self._lock:
            self._stopping = True
            unanswered = list(self._running.values())
            busy = set(self._running)
            threads = list(self._threads)
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                unanswered.append(item)
        for _ in threads:
            self._jobs.put(None)
        for job, data in unanswered:
            self._finish_quietly(job, data, None)
        for thread in threads:
            if thread.ident not in busy:
                thread.join(1.0)
