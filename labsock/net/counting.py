"""A counting client: sends 1, 2, ..., 100, then 1 again, from a chosen local port, in a thread.

    c1 = start_counting(bind_port=11000, port=12000)     # sends "1", "2", ... every 0.2 s
    c1.stop()

The server tells two counting clients apart by their source port, which is why each binds its
own. Like the servers, a client started on a bind port that labsock already counts from stops
the old one first, so re-running a cell never leaves an orphan sending in the background.
"""

from __future__ import annotations

import select
import socket
import threading
import time

from labsock.logic.errors import LabsockError, explain, failure_name, is_refusal
from labsock.logic.sequence import LAP
from labsock.logic.validation import ANY_ADDRESS, validate_count, validate_delay
from labsock.net.interrupts import interruptible
from labsock.net.lifecycle import LifeCycle, background_thread, running, stop_all
from labsock.net.ports_here import server_cell_failed
from labsock.net.progress import Progress
from labsock.net.sockets import bind_port_of, destination

UNTIL_STOPPED = "such as 130 (past the wrap from 100 to 1), or None to count until stopped"


def running_counters() -> list[CountingClient]:
    """The counting clients labsock runs in this process."""
    return running(CountingClient)


def stop_counting() -> None:
    """Stop every counting client labsock runs in this process."""
    stop_all(CountingClient)


class CountingClient(LifeCycle):
    """Sends the numbers 1..lap, round and round, to a UDP server from one local port.

    bind_port: the local port to send from (the server sees it as the client's port); 0 lets
    the system pick one. delay: seconds between messages. count: stop by itself after this many
    messages (None: until stop()). Each message is the number as text, e.g. ``37``.
    """

    kind = "counting client"

    def __init__(
        self,
        bind_port: int = 11000,
        host: str = "127.0.0.1",
        port: int = 12000,
        *,
        delay: float = 0.2,
        count: int | None = None,
        name: str | None = None,
        lap: int = LAP,
    ):
        self.host, self.port = destination(host, port, "udp")
        # None, like 0, lets the system pick the port.
        self.bind_port = bind_port_of(bind_port) or 0
        self._requested_bind_port = self.bind_port
        self.delay = validate_delay(delay)
        self.count = None if count is None else validate_count(count, example=UNTIL_STOPPED)
        self.name = name
        self.lap = lap
        self.sent = 0  # messages handed to the system
        self.last_sent: int | None = None
        self.replies = 0  # replies read back (a server with reply="none" sends none)
        self.refused = 0  # sends the system reported as "nothing listens there"
        self.error: str | None = None  # why the client stopped by itself, or the last refusal
        self.replaced: str | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._progress = Progress()
        self._finished = True  # no thread counts (never started, or its thread has ended)

    # -- life cycle (see labsock.net.lifecycle) -------------------------------------------------

    what = "the counting client"

    def claims(self) -> set[tuple]:
        port = self.bind_port if self.running else self._requested_bind_port
        return {("udp", ANY_ADDRESS, port)} if port else set()

    def _begin(self) -> None:
        """Bind, then count in a background thread.

        A new client starts at 1. Started again after stop(), it carries on from the next number
        (and sends `count` more), so the server sees one unbroken count rather than a jump back
        to 1, which would look like lost messages.
        """
        failed = server_cell_failed("udp", self.host, self.port)
        if failed:
            raise LabsockError(f"{failed} Once the server runs, start the clients again.")
        self.bind_port = self._requested_bind_port
        self._sock = self._open()
        self.bind_port = self._sock.getsockname()[1]
        self.error = None
        self._stop.clear()
        self._finished = False
        self._thread = background_thread(self._count_then_close, f"labsock-count-{self.bind_port}")

    def _end(self) -> None:
        """Stop sending; returns once the thread has ended and the bind port is free again."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            thread.join()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until a client with a count has sent them all; True once it has stopped.

        A client without a count only stops when told, so this returns at once for it.
        """
        thread = self._thread
        if thread is None:
            return True
        if self.count is not None:
            who = self.name or "the counting client"
            with interruptible(f"{who} to send all {self.count} numbers"):
                # Woken as it ends, not join(timeout): on Python 3.11 an interrupted join marks a
                # thread that goes on counting as ended, and the client would say "stopped".
                if self._progress.wait_until(lambda: self._finished, timeout):
                    thread.join()
        return not thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- waiting for it -----------------------------------------------------------------------

    def wait_sent(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until count messages have been sent in all; False after timeout, or if the
        client stopped before."""
        return self._wait_for("sent", count, timeout)

    def wait_replies(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until count replies have come back in all (False as for wait_sent)."""
        return self._wait_for("replies", count, timeout)

    def wait_refused(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until the system has said "nothing listens there" count times in all."""
        return self._wait_for("refused", count, timeout)

    def _wait_for(self, counter: str, count: int, timeout: float) -> bool:
        def reached_or_over() -> bool:
            return getattr(self, counter) >= count or self._finished

        with interruptible(f"{self.name or 'the counting client'} to reach {count} {counter}"):
            self._progress.wait_until(reached_or_over, timeout)
        return getattr(self, counter) >= count

    def _open(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("0.0.0.0", self.bind_port))
        except OSError as exc:
            sock.close()
            raise explain(
                exc, action="bind", proto="udp", host="0.0.0.0", port=self.bind_port
            ) from None
        try:
            # Connected: only the server's replies come back, and "nothing listens there" is
            # reported as an error on a later send instead of vanishing.
            sock.connect((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise explain(exc, action="send", proto="udp", host=self.host, port=self.port) from None
        # Non-blocking, so reading replies never holds up the count.
        sock.setblocking(False)
        return sock

    # -- the thread ---------------------------------------------------------------------------

    def _count_then_close(self) -> None:
        try:
            self._count()
        except Exception as exc:  # a bug must show in the client's state, not vanish
            self.error = f"the counting client stopped: {exc!r}"
        finally:
            sock, self._sock = self._sock, None
            # Closed by its own thread, after its last use: the port is free when the thread ends.
            sock.close()
            self._forget()
            self._finished = True
            self._progress.changed()  # nothing more will come: waiters may stop waiting

    def _count(self) -> None:
        sock, stop, delay = self._sock, self._stop, self.delay
        number = 1 if self.last_sent is None else self.last_sent % self.lap + 1
        sent_now = 0
        next_time = time.monotonic()
        while not stop.is_set() and (self.count is None or sent_now < self.count):
            if self._send(sock, number):
                self.last_sent = number
                self.sent += 1
                sent_now += 1
                number = number % self.lap + 1
            self._read_replies(sock)
            self._progress.changed()
            if delay:
                # Keep to a schedule, so the rate stays 1/delay whatever each send costs.
                next_time += delay
                wait = next_time - time.monotonic()
                if wait < -max(delay, 0.05):
                    # Far behind (a busy or sleeping laptop): carry on from now rather than
                    # catch up in a burst, which a server's receive buffer may not hold.
                    next_time = time.monotonic()
                elif wait > 0 and stop.wait(wait):
                    return

    def _send(self, sock: socket.socket, number: int) -> bool:
        try:
            sock.send(str(number).encode("ascii"))
            return True
        except BlockingIOError:
            # The send buffer is full (delay=0): wait until there is room, then try again.
            select.select([], [sock], [], 0.1)
            return False
        except OSError as exc:
            if failure_name(exc) == "ENOBUFS":
                # macOS says "no buffer space" where Linux would block: a pause, not a failure.
                self._stop.wait(0.001)
                return False
            if is_refusal(exc):
                self._note_refusal()
                return False
            self.error = str(
                explain(exc, action="send", proto="udp", host=self.host, port=self.port)
            )
            self._stop.set()
            return False

    def _read_replies(self, sock: socket.socket) -> None:
        while True:
            try:
                sock.recv(65535)
            except BlockingIOError:
                return
            except OSError as exc:
                if is_refusal(exc):
                    self._note_refusal()
                    continue
                return
            self.replies += 1

    def _note_refusal(self) -> None:
        self.refused += 1
        self.error = (
            f"Nothing listens on {self.host}:{self.port} (UDP): the numbers sent meanwhile are "
            "lost. Start the server (run its cell), or check its address and port; the client "
            "keeps counting."
        )

    # -- showing ------------------------------------------------------------------------------

    def describe(self) -> str:
        who = f"{self.name} " if self.name else ""
        state = "running" if self.running else "stopped"
        text = (
            f"counting client {who}from port {self.bind_port} to {self.host}:{self.port} (UDP), "
            f"{state}, {self.sent} sent"
        )
        if self.last_sent is not None:
            text += f", last {self.last_sent}"
        if self.refused:
            text += f", {self.refused} refused"
        if self.replaced and self.running:
            text += f" ({self.replaced})"
        return text

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


def start_counting(
    bind_port: int = 11000,  # c1 sends from 11000, c2 from 13000: the server tells them apart
    host: str = "127.0.0.1",
    port: int = 12000,
    *,
    delay: float = 0.2,  # seconds between two numbers: 0.2 is five a second
    count: int | None = None,  # stop by itself after this many (None: when told to)
    name: str | None = None,
) -> CountingClient:
    """Make a counting client and start it; returns the running client."""
    return CountingClient(bind_port, host, port, delay=delay, count=count, name=name).start()
