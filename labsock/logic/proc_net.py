"""Which sockets hold a port, read from Linux's /proc/net tables (pure parsing, no I/O).

/proc/net/udp (and tcp, udp6, tcp6) lists every socket of the system, one a line:

    sl  local_address rem_address   st ... uid  timeout inode
    0: 0100007F:2EE0 00000000:0000 07 ...   1000        0 48213 ...

The local port is the hex after the colon (2EE0 = 12000); the inode names the socket, and a
process holds it when one of its /proc/PID/fd links reads socket:[48213].
"""

from __future__ import annotations

from dataclasses import dataclass

TCP_LISTEN = "0A"
TCP_TIME_WAIT = "06"


def inodes_on_port(table: str, port: int, *, tcp: bool) -> list[int]:
    """The inodes of the sockets bound to `port` in one /proc/net table's text (for TCP, only
    listening sockets: a connection's port is not what a server's bind asks for)."""
    found = []
    for row in table.splitlines()[1:]:
        fields = row.split()
        if len(fields) < 10 or ":" not in fields[1]:
            continue
        try:
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            inode = int(fields[9])
        except ValueError:
            continue
        if local_port == port and inode and (not tcp or fields[3] == TCP_LISTEN):
            found.append(inode)
    return found


def states_on_port(table: str, port: int) -> list[str]:
    """The TCP states ("0A" listening, "01" connected, "06" TIME_WAIT...) of the rows of one
    /proc/net/tcp{,6} table's text whose local port is `port`."""
    found = []
    for row in table.splitlines()[1:]:
        fields = row.split()
        if len(fields) < 4 or ":" not in fields[1]:
            continue
        try:
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
        except ValueError:
            continue
        if local_port == port:
            found.append(fields[3].upper())
    return found


def only_closing(states: list[str]) -> bool:
    """True when all that keeps a port is connections that closed moments ago (TIME_WAIT): no
    process holds them, yet a bind without SO_REUSEADDR (on Linux: on either side) fails."""
    return bool(states) and all(state == TCP_TIME_WAIT for state in states)


def socket_inode(link: str) -> int | None:
    """The inode in a /proc/PID/fd link's target, 'socket:[48213]' -> 48213."""
    if link.startswith("socket:[") and link.endswith("]"):
        try:
            return int(link[8:-1])
        except ValueError:
            return None
    return None


def command_words(cmdline: bytes) -> str:
    """A process's command line (/proc/PID/cmdline, NUL-separated) as one line."""
    words = [w.decode("utf-8", "replace") for w in cmdline.split(b"\0") if w]
    return " ".join(" ".join(words).split())  # one line, whatever `python -c` held


def shortened(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Holder:
    """A process that holds a port: its id and its command line, shortened."""

    pid: int
    command: str
