"""Which program holds a port: named in the explanation when a student's bind finds it taken.

Linux only, from /proc (no psutil: students' laptops do not need it); elsewhere, and where /proc
hides other users' processes, the answer is None and the explanation says "another program".
"""

from __future__ import annotations

import os
from pathlib import Path

from labsock.logic.proc_net import Holder, command_words, inodes_on_port, socket_inode

PROC = Path("/proc")


def holder_of(proto: str, port: int, proc: Path = PROC) -> Holder | None:
    """The process that holds `port` (proto "udp" or "tcp"), or None when it cannot be told."""
    tcp = proto == "tcp"
    inodes: set[int] = set()
    for table in (f"{proto}", f"{proto}6"):
        try:
            text = (proc / "net" / table).read_text()
        except OSError:
            continue
        inodes.update(inodes_on_port(text, port, tcp=tcp))
    if not inodes:
        return None
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit() or int(pid_dir.name) == os.getpid():
            continue
        if any(socket_inode(link) in inodes for link in _links(pid_dir)):
            try:
                command = command_words((pid_dir / "cmdline").read_bytes())
            except OSError:
                command = ""
            return Holder(int(pid_dir.name), command)
    return None


def _links(pid_dir: Path) -> list[str]:
    """Where a process's open files lead; none for a process gone meanwhile or another user's."""
    try:
        fds = list((pid_dir / "fd").iterdir())
    except OSError:
        return []
    links = []
    for fd in fds:
        try:
            links.append(os.readlink(fd))
        except OSError:  # closed meanwhile
            continue
    return links
