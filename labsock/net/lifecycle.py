"""The life cycle every background thing of labsock shares: start, stop, `with`, and re-runs.

A server, a counting client, a relay, a student's program run as a process: each is started from a
notebook cell, holds something of the machine's (a port, a process) and must give it back. Three
promises, the same for every kind:

- start() returns once the thing is ready (its port bound, its process ready), and stop() returns
  only once what it held is released (thread joined, process ended, port free again);
- starting a thing that claims what an older one holds (the same port, the same program name)
  stops the older one first, so a re-run cell never meets "Address already in use";
- `labsock.stop_all()` stops every one of them, of every kind.

The registry lives here, in the package, not in notebook variables: a re-run cell rebinds its
variable and loses the old object, which still holds the port.

What a kind implements (the whole interface; a student's program, labsock.net.programs.job.Job,
is the kind that is no thread of ours):

    class Job(LifeCycle):
        what = "your program 'c1'"          # words for messages ("stopped your program 'c1' ...")
        kind = "program"                    # server, web server, relay, counting client, program
        def claims(self) -> set[tuple]:     # what it holds, or will hold once started:
            return {("program", self.name), *self.ports_held}    # e.g. ("udp", host, port)
        def _begin(self) -> None:           # acquire and start; return once ready. On failure
            ...                             # raise (a LabsockError), holding nothing.
        def _end(self) -> None:             # stop, and return only once everything is released
            ...                             # (a process: terminate, wait, kill if it must)
        @property
        def running(self) -> bool: ...      # still at work

and calls self._forget() when it ends by itself (a counting client that sent its count, a
program that exited), so the registry only lists what is at work. A claim is a tuple; two claims
clash when they are equal, and ("udp", "0.0.0.0", 12000) also clashes with every other address's
("udp", host, 12000), as the system's own bind does.

ThreadOnPort, below, fills in claims() and running for a kind that serves one port with one
thread (servers, the relay, the slicer).
"""

from __future__ import annotations

import threading

from labsock.logic.errors import LabsockError
from labsock.logic.validation import ANY_ADDRESS

_registry: list[LifeCycle] = []
_registry_lock = threading.Lock()
# One start at a time: stopping the clashing older thing and taking its port must not interleave
# with another start claiming the same port (re-entrant: a start may stop another thing).
_starting = threading.RLock()


def background_thread(target, name: str) -> threading.Thread:
    """Start target in a thread of its own, named for a reader of threading.enumerate().

    A daemon: a forgotten server, client or relay must not keep a kernel or terminal from
    exiting.
    """
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def clash(a: tuple, b: tuple) -> bool:
    """Do two claims hold the same thing? Ports claimed on 0.0.0.0 cover every address."""
    if a == b:
        return True
    return len(a) == len(b) == 3 and a[0] == b[0] and a[2] == b[2] and ANY_ADDRESS in (a[1], b[1])


def running(kind: type | None = None) -> list[LifeCycle]:
    """Everything labsock runs in this process (of one kind, when kind is given)."""
    with _registry_lock:
        things = list(_registry)
    return [t for t in things if kind is None or isinstance(t, kind)]


def stop_all(kind: type | None = None) -> None:
    """Stop everything labsock runs in this process: servers, clients, relays, programs.

    One that fails to stop does not keep the others running: all are tried, then the failures
    are said in one message."""
    failed = []
    for thing in reversed(running(kind)):  # newest first: clients before the servers they use
        try:
            thing.stop()
        except Exception as exc:  # noqa: BLE001 (said below, after the others are stopped)
            failed.append(f"{thing.what}: {type(exc).__name__}: {_said(exc)}")
    if failed:
        raise LabsockError("labsock could not stop " + "; ".join(failed))


def _said(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 (an exception whose __str__ fails)
        return "(its message could not be shown)"


class LifeCycle:
    """start(), stop(), `with`, the registry and re-runs, for every kind (see the module doc)."""

    what = "the background task"
    # Which kind it is, for code that treats kinds differently (no guessing from attributes):
    # "server", "web server", "relay", "counting client", "program".
    kind = "background task"
    # Set by start() when it stopped an older thing holding the same claim.
    replaced: str | None = None

    # -- what each kind fills in ----------------------------------------------------------------

    def claims(self) -> set[tuple]:
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------

    def start(self):
        """Start (stopping an older thing that holds the same claim); returns self once ready."""
        with _starting:
            if self.running:
                return self
            self._stop_clashing()
            # Listed before it begins: a thing that ends by itself at once (a client with a
            # count of 1) forgets itself after this, never before.
            with _registry_lock:
                if self not in _registry:
                    _registry.append(self)
            try:
                self._begin()
            except BaseException:
                self._forget()
                raise
        return self

    def stop(self) -> None:
        """Stop; returns (None, for every kind: a notebook cell ending in `server.stop()` shows
        nothing) once everything it held is released. Stopping twice is harmless."""
        self._end()
        self._forget()

    def _forget(self) -> None:
        """Leave the registry (called by stop(), or by a thing that ended by itself)."""
        with _registry_lock:
            if self in _registry:
                _registry.remove(self)

    def _stop_clashing(self) -> None:
        mine = self.claims()
        if not mine:
            return
        for old in running():
            if old is not self and any(clash(a, b) for a in mine for b in old.claims()):
                old.stop()
                self.replaced = f"stopped {old.what} from an earlier run"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


# The kinds that serve one port with a thread of ours (ThreadOnPort): protocol, host and port.
SERVES_A_PORT = ("server", "web server", "relay")


class ThreadOnPort(LifeCycle):
    """What a server, a relay and a slicer share: one port of one protocol, one thread.

    They set protocol, host, port (the one bound, once running), _requested_port (0: any free
    port) and _thread, and implement _begin and _end.
    """

    protocol = "?"
    _thread = None

    def claims(self) -> set[tuple]:
        port = self.port if self.running else self._requested_port
        return {(self.protocol, self.host, port)} if port else set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
