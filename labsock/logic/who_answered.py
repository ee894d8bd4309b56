"""Which program answered a client: said when it is not the one the student is working on.

A server from an earlier cell keeps running, so a client can be answered by it rather than by
the server the student just wrote (the upper-case server answering the alnum client with
"HELLO, WORLD 42!"). The client's cell names the program that answered whenever that is not the
program of the latest %%background cell, and says so when none of the notebook's programs did.
"""

from __future__ import annotations

from dataclasses import dataclass

LOOPBACK = ("127.", "::1", "localhost")
NOT_WRITTEN = "not written yet"  # how a program still the exercise's stub is said to be


@dataclass(frozen=True)
class Answerer:
    """Who holds the address the reply came from."""

    kind: str  # "program" (a student's), "labsock" (a labsock server or relay), "nobody",
    # "notebook" (a program another of the student's notebooks started)
    name: str  # the program's name, labsock's thing in words, or the address "ip:port"
    state: str = ""  # for a program: running / stopped / failed..., in words
    notebook: str = ""  # for "notebook": that notebook's file name
    address: str = ""  # for "notebook": "ip:port" the reply came from


def answered_note(client: str, answerer: Answerer, latest: str | None, latest_state: str) -> str:
    """One line for the client's cell, or "" when the answer came from where it should.

    latest: the program of the notebook's latest %%background cell (None: there was none);
    latest_state: what that program is doing, in words (job.state() without its name).
    """
    if answerer.kind == "labsock":
        return ""  # a reference server or a relay the student started on purpose
    if answerer.kind == "notebook":
        return (
            f"(The reply came from {answerer.address}, which {answerer.notebook}'s "
            f"{answerer.name} holds: a program of that notebook answered {client}, not one of "
            f"this notebook's. Stop {answerer.name} there (its Stop button), then run this "
            "notebook's server cell again, then this cell.)"
        )
    if answerer.kind == "nobody":
        elsewhere = (
            "another notebook or a terminal of this laptop"
            if answerer.name.startswith(LOOPBACK)
            else "another laptop, another notebook or a terminal"
        )
        return (
            f"(The reply came from {answerer.name}, which none of this notebook's programs "
            f"holds: a program of {elsewhere} answered {client}.)"
        )
    if latest is None or answerer.name == latest:
        return ""
    again = (
        f"write {latest} and run its cell"
        if latest_state.startswith(NOT_WRITTEN)
        else f"run {latest}'s cell again"
    )
    return (
        f"(This reply came from {answerer.name}, not from {latest}, the program of your latest "
        f"%%background cell. {answerer.name}, from an earlier cell: {answerer.state}. "
        f"{latest}: {latest_state}. Stop {answerer.name}, or {again}, then this cell.)"
    )
