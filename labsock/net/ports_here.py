"""Which ports this notebook's labsock things serve, and which server cells failed to start.

A notebook's cells lean on each other: Task 3's clients count into the server its cell above
started. When that cell failed (another notebook's kernel held the port), the cells below must
say so instead of going on, or they count into the other notebook's server. So every server start
is noted here, failed or not, and a later cell asks start_failure(proto, port).

What runs is read from labsock.net.lifecycle's registry, every kind's. Every start is also
recorded for the student's other notebooks (labsock.net.other_notebooks), so a cell there whose
port this notebook holds can say so; and a start that finds its port taken names the other
notebook that holds it, with a button that stops it when it is a program.
"""

from __future__ import annotations

import threading

from labsock.logic.errors import LabsockError
from labsock.net import other_notebooks, port_holders
from labsock.net.lifecycle import running

_failed: dict[tuple[str, int], str] = {}  # (protocol, port) -> why its latest start failed
_lock = threading.Lock()


def note_start(proto: str, port: int, failure: LabsockError | None = None) -> None:
    """A server's start on (proto, port): failure is why it failed, None when it started."""
    with _lock:
        if failure is None:
            _failed.pop((proto, port), None)
        else:
            _failed[(proto, port)] = str(failure)
    if failure is None:
        other_notebooks.record()


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
    """The running server, student's program or relay of this process that holds the port
    (a counting client's port is where it sends from: it serves nobody)."""
    for thing in running():
        if thing.kind == "counting client":
            continue
        for claim in thing.claims():
            if len(claim) == 3 and claim[0] == proto and claim[2] == port:
                return thing
    return None


def failed_start(proto: str, port: int, error: LabsockError) -> LabsockError:
    """Note a server's failed start; the error to raise, with its way out when the port is taken.

    Whatever of this notebook held the port was stopped before the start (labsock.net.lifecycle),
    so the holder is elsewhere (another notebook's kernel, a terminal): once the student has
    stopped it, the cell runs again at one click. When another of the student's notebooks holds
    it, the error names that notebook and what holds the port instead of pointing at the
    Running panel.
    """
    if error.failure == "EADDRINUSE":
        holder = other_notebooks.holder_of(proto, port)
        if holder is not None:
            taken = f"Port {port} ({proto.upper()}) is already in use: "
            error = LabsockError(taken + holder.sentence())
            error.failure = "EADDRINUSE"
        else:
            another = (
                "choose another port, for example port=12001, or port=0 to let the system pick one"
            )
            error = port_holders.closing_said(proto, port, error, another)
        error.way_out = _way_out(holder)
    note_start(proto, port, error)
    return error


def program_bind_failed(program, proto: str, port: int) -> None:
    """A student's program could not bind (proto, port): noted, so the cells below say so; when
    another of the student's notebooks holds the port, its error names that notebook and the
    program gets the way out (program.way_out, shown under its cell)."""
    holder = other_notebooks.holder_of(proto, port)
    if holder is not None:
        said = program.error or ""
        program.way_out = _way_out(holder)
        # The program's own explanation names the holder when it could read the same records;
        # when it could not (it named only a process), the note under its output does.
        if holder.sentence() not in said:
            program.error = _naming(said, holder)
            program.notes.append(holder.sentence())
    note_start(proto, port, LabsockError(program.error or "bind failed"))


def _naming(explanation: str, holder) -> str:
    """The program's explanation with its guesses at the holder ("perhaps another notebook...
    the Running panel... another port") replaced by the holder itself."""
    said, found, _guesses = explanation.partition("already in use")
    if not found:
        return f"{explanation} {holder.sentence()}".strip()
    return f"{said}already in use: {holder.sentence()}"


def _way_out(holder) -> tuple:
    again = ("Run this cell again", None)
    if holder is None or not holder.stoppable:
        return (again,)
    return ((holder.button(), lambda: other_notebooks.stop(holder)), again)
