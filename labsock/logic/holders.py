"""Who holds a port, in words: another notebook's program or server, found in the records every
kernel keeps of what it runs (labsock.net.other_notebooks reads and writes them).

A record is plain data, as written to the student's own state folder:

    {"pid": 4242, "started": "...", "notebook": "task2_two_laptops.ipynb",
     "things": [{"kind": "program", "name": "lan_server", "pid": 4250, "started": "...",
                 "ports": [["udp", "0.0.0.0", 12000]]},
                {"kind": "server", "name": "the UDP server",
                 "ports": [["udp", "127.0.0.1", 12001]]}]}

pid and started name the kernel's process (started: the system's start time of that process, so a
pid used again by another process is never mistaken for it); a program has its own.
"""

from __future__ import annotations

from dataclasses import dataclass

ANY_ADDRESS = "0.0.0.0"


@dataclass(frozen=True)
class Holder:
    """One running thing of another notebook (or terminal) that holds a port."""

    notebook: str  # "task2_two_laptops.ipynb", or "a terminal (python -m labsock, pid 77)"
    kind: str  # "program" (its own process, which can be stopped) or "server" (in its kernel)
    name: str  # the program's name, or the server's words ("the UDP server")
    pid: int  # the program's process, or the kernel's for a server
    started: str  # that process's start time, as the system tells it
    proto: str
    port: int

    @property
    def stoppable(self) -> bool:
        """A program is its own process: ending it ends nothing else of that notebook."""
        return self.kind == "program"

    @property
    def in_notebook(self) -> bool:
        return self.notebook.endswith(".ipynb")

    def sentence(self) -> str:
        """ "task2_two_laptops.ipynb's lan_server holds port 12000 (UDP)", and the way out."""
        port = f"port {self.port} ({self.proto.upper()})"
        if self.stoppable:
            started = (
                f"a program started there with %%background {self.name}"
                if self.in_notebook
                else f"a program that {self.notebook} started"
            )
            whose = f"{self.notebook}'s {self.name}" if self.in_notebook else self.name
            return (
                f"{whose} holds {port}, {started} that still runs. The button below stops it, "
                "then runs this cell again"
                + (" (or press its Stop in that notebook)." if self.in_notebook else ".")
            )
        server = _without_the(self.name)
        if not self.in_notebook:
            return (
                f"labsock's {server} in {self.notebook} holds {port}. Stop it there (Ctrl+C in "
                "its terminal), then run this cell again."
            )
        return (
            f"{self.notebook}'s labsock {server} holds {port}. Stop it there (its cell's "
            ".stop(), or labsock.stop_all()), or shut down that notebook's kernel in "
            "JupyterLab's Running panel (the square-in-a-circle icon in the left bar); then run "
            "this cell again."
        )

    def button(self) -> str:
        where = self.notebook if self.in_notebook else f"pid {self.pid}"
        return f"Stop {self.name} ({where}), then run this cell again"


def _without_the(words: str) -> str:
    return words.removeprefix("the ")


def covers(held: list, proto: str, port: int) -> bool:
    """Does a recorded (proto, host, port) take this port? Every address of it clashes."""
    return any(len(p) == 3 and p[0] == proto and p[2] == port for p in held)


def holders_in(record: dict, proto: str, port: int) -> list[Holder]:
    """The things of one kernel's record that hold (proto, port), programs first."""
    found = []
    for thing in record.get("things", ()):
        if not isinstance(thing, dict) or not covers(thing.get("ports", ()), proto, port):
            continue
        program = thing.get("kind") == "program"
        found.append(
            Holder(
                notebook=str(record.get("notebook") or f"another notebook (pid {record['pid']})"),
                kind="program" if program else "server",
                name=str(thing.get("name", "?")),
                pid=int(thing["pid"] if program else record["pid"]),
                started=str(thing["started"] if program else record["started"]),
                proto=proto,
                port=port,
            )
        )
    return sorted(found, key=lambda holder: not holder.stoppable)


def notebook_name(session: str | None, pid: int, program: str) -> str:
    """How other notebooks name this process: the notebook's file name when Jupyter told it
    (JPY_SESSION_NAME may be a path), else the command that runs labsock."""
    if session:
        return session.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return f"a Python program ({program}, pid {pid})"


# What a program may pass for "this laptop" (connect(('', port)) and 'localhost' go to 127.0.0.1).
_THIS_LAPTOP = {"": "127.0.0.1", "localhost": "127.0.0.1"}
_EVERY_ADDRESS = ("", ANY_ADDRESS, "::")


def reaches(bound: str, host: str | None, mine=tuple) -> bool:
    """Would what a client sends to `host` reach a socket bound to `bound` on this laptop?
    mine(): this laptop's own addresses, called only for a socket bound to every address that
    a client reached at no loopback address. None for host: not known, so yes (the port alone
    decides)."""
    if host is None:
        return True
    host = _THIS_LAPTOP.get(host.lower(), host)
    if host == bound:
        return True
    if bound not in _EVERY_ADDRESS:
        return False
    return host.startswith("127.") or host == "::1" or host in mine()
