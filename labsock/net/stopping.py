"""labsock.stop_all(): stop everything of every kind this notebook (or script) started.

Servers, counting clients, relays, TCP slicers and students' programs each keep a registry of
their own; a kind whose module was never imported has nothing running, and is not imported here.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from labsock.logic.errors import Interrupted

# module -> the function in it that lists the running things of its kind. Programs and clients
# first: a server stopped before its clients would see them knock on a closed port.
_KINDS = {
    "labsock.net.programs.job": "running_jobs",
    "labsock.net.counting": "running_counters",
    "labsock.net.relay": "running_relays",  # the TCP slicer is a relay too
    "labsock.net.servers": "running_servers",
}


def stop_all() -> None:
    """Stop every server, client, relay and program labsock started in this process."""
    for thing in running_now():
        thing.stop()


def running_now() -> list:
    """Everything of every kind labsock runs in this process now."""
    found = []
    for module_name, function in _KINDS.items():
        module = sys.modules.get(module_name)
        if module is not None:
            found.extend(getattr(module, function)())
    return found


def _short(thing) -> str:
    """A few words a student recognises: 'your program udp_server', 'UDP server on port 12000'."""
    if hasattr(thing, "output_record"):
        return f"your program {thing.name}"
    if hasattr(thing, "bind_port"):
        return f"counting client {thing.name or ''} from port {thing.bind_port}".replace("  ", " ")
    kind = "relay" if hasattr(thing, "target") else "server"
    return f"{thing.protocol.upper()} {kind} on port {thing.port}"


def after_interrupt(waiting_for: str) -> str:
    """What to say when Interrupt ended a wait: the wait is over, the background goes on."""
    running = [_short(thing) for thing in running_now()]
    if not running:
        return f"Stopped waiting for {waiting_for}. Nothing of labsock's runs in the background."
    return (
        f"Stopped waiting for {waiting_for}. Still running in the background: "
        f"{', '.join(running)}. Interrupt ends only the wait: labsock.stop_all() stops them all."
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
