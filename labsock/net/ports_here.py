"""Which ports this notebook's labsock things serve, and which server cells failed to start.

A notebook's cells lean on each other: Task 3's clients count into the server its cell above
started. When that cell failed (another notebook's kernel held the port), the cells below must
say so instead of going on, or they count into the other notebook's server. So every server start
is noted here, failed or not, and a later cell asks start_failure(proto, port).

Each kind keeps its own registry (servers, relays, students' programs); a kind whose module was
never imported runs nothing, and is not imported here.
"""

from __future__ import annotations

import sys
import threading

from labsock.logic.errors import LabsockError

_failed: dict[tuple[str, int], str] = {}  # (protocol, port) -> why its latest start failed
_lock = threading.Lock()


def note_start(proto: str, port: int, failure: LabsockError | None = None) -> None:
    """A server's start on (proto, port): failure is why it failed, None when it started."""
    with _lock:
        if failure is None:
            _failed.pop((proto, port), None)
        else:
            _failed[(proto, port)] = str(failure)


def start_failure(proto: str, port: int) -> str | None:
    """Why the latest start of a server on this port failed, while nothing here serves it."""
    with _lock:
        failure = _failed.get((proto, port))
    if failure is None or serving(proto, port) is not None:
        return None
    return failure


def server_cell_failed(proto: str, host: str, port: int) -> str | None:
    """What to say instead of using a server on this laptop whose cell failed (None: it did
    not fail, or something of this notebook serves the port now)."""
    failure = start_failure(proto, port) if host.startswith("127.") else None
    if failure is None:
        return None
    return (
        f"The server cell above failed, so no server of this notebook listens on {host}:{port} "
        f"({proto.upper()}); anything sent there would reach whatever else holds the port. Why "
        f"it failed: {failure}"
    )


def serving(proto: str, port: int):
    """The running server, student's program or relay of this process that holds the port."""
    servers = sys.modules.get("labsock.net.servers")
    for server in servers.running_servers() if servers else ():
        if server.protocol == proto and server.port == port:
            return server
    programs = sys.modules.get("labsock.net.programs.job")
    for program in programs.running_jobs() if programs else ():
        if any(kind == proto and number == port for kind, _, number in program.ports):
            return program
    relays = sys.modules.get("labsock.net.relay")
    for relay in relays.running_relays() if relays else ():
        if relay.protocol == proto and relay.port == port:
            return relay
    return None


def failed_start(proto: str, port: int, error: LabsockError) -> LabsockError:
    """Note a server's failed start; the error to raise, with its way out when the port is taken.

    A program or relay of this very notebook may hold the port: then the error names it and
    offers to stop it. Otherwise (another notebook's kernel, a terminal) it offers to run the
    cell again, once the student has stopped the other one.
    """
    if error.failure == "EADDRINUSE":
        holder = serving(proto, port)
        if holder is not None:
            error = _held_here(holder, proto, port)
        else:
            error.way_out = (("Run this cell again", None),)
    note_start(proto, port, error)
    return error


def _held_here(holder, proto: str, port: int) -> LabsockError:
    name = getattr(holder, "name", None)
    if name is not None and hasattr(holder, "output_record"):  # a student's program
        who = f"your program {name!r} (started by %%background {name})"
        how = f"press Stop in its cell, or run labsock.job({name!r}).stop()"
        button = f"Stop {name}, then run this cell again"
    else:
        who = f"labsock's {proto.upper()} relay on port {port}"
        how = "stop it with relay.stop() (or labsock.stop_all())"
        button = "Stop the relay, then run this cell again"
    error = LabsockError(
        f"Port {port} ({proto.upper()}) is already in use in this notebook: {who} holds it. "
        f"To start this server there, {how}, then run this cell again; or choose another port."
    )
    error.failure = "EADDRINUSE"
    error.way_out = ((button, holder.stop),)
    return error
