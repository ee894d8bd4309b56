"""Interrupt (the notebook's stop button, or Ctrl+C) during a labsock wait: one line, no traceback.

A cell that waits (`c1.wait()`, `server.log.wait_for(...)`, `relay.wait_idle(...)`) and is
interrupted would print a KeyboardInterrupt traceback through threading.py, and say nothing of
what goes on running: Interrupt ends the wait, not the servers, clients and programs in the
background. interruptible() turns it into one line that says both.
"""

from __future__ import annotations

from contextlib import contextmanager

from labsock.logic.errors import Interrupted
from labsock.net.lifecycle import running


def _short(thing) -> str:
    """A few words a student recognises: 'your program udp_server', 'UDP server on port 12000'."""
    if thing.kind == "program":
        return f"your program {thing.name}"
    if thing.kind == "counting client":
        return f"counting client {thing.name or ''} from port {thing.bind_port}".replace("  ", " ")
    port = getattr(thing, "port", None)
    return f"{thing.what.removeprefix('the ')} on port {port}" if port else thing.what


def after_interrupt(waiting_for: str) -> str:
    """What to say when Interrupt ended a wait: the wait is over, the background goes on."""
    still = [_short(thing) for thing in running()]
    if not still:
        return f"Stopped waiting for {waiting_for}. Nothing of labsock's runs in the background."
    return (
        f"Stopped waiting for {waiting_for}. Still running in the background: "
        f"{', '.join(still)}. Interrupt ends only the wait: labsock.stop_all() stops them all."
    )


@contextmanager
def interruptible(waiting_for: str):
    """A labsock wait that Interrupt (Ctrl+C) ends with one line, not a traceback."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(after_interrupt(waiting_for)) from None
