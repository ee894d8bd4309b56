"""Which program holds a port: named in the explanation when a student's bind finds it taken.

Linux reads /proc (no psutil: students' laptops do not need it); macOS asks lsof and ps, Windows
netstat and tasklist, each for at most two seconds. Where none can tell (another user's process,
a tool missing), the answer is None and the explanation says "another program".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from labsock.logic.errors import LabsockError, closing_words
from labsock.logic.netstat_rows import first_pid, netstat_pid, tasklist_name
from labsock.logic.proc_net import (
    Holder,
    command_words,
    inodes_on_port,
    only_closing,
    socket_inode,
    states_on_port,
)

PROC = Path("/proc")


def holder_of(proto: str, port: int, proc: Path = PROC) -> Holder | None:
    """The process that holds `port` (proto "udp" or "tcp"), or None when it cannot be told."""
    try:
        if sys.platform == "win32":
            return _from_netstat(proto, port)
        if sys.platform == "darwin":
            return _from_lsof(proto, port)
        return _from_proc(proto, port, proc)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None  # best effort: the explanation still says the port is taken


def closing_on(proto: str, port: int, proc: Path = PROC) -> bool | None:
    """True when a TCP connection that closed moments ago (TIME_WAIT) still keeps `port`;
    None where this system does not say (macOS: only Linux's /proc lists them without a tool);
    False on Windows, where none ever keeps a port from a bind."""
    if proto != "tcp":
        return False  # UDP has no connections to linger
    if sys.platform == "win32":
        # A TIME_WAIT does not block a bind on Windows (CPython's socket.create_server says so,
        # and leaves SO_REUSEADDR off there for it): a taken port is a program's.
        return False
    if sys.platform == "darwin":
        return None
    states: list[str] = []
    read = False
    for table in ("tcp", "tcp6"):
        try:
            states += states_on_port((proc / "net" / table).read_text(), port)
        except OSError:
            continue
        read = True
    # A socket in any other state (a listener, a live connection) is a program's: not this case.
    return only_closing(states) if read else None


def closing_said(proto: str, port: int, error: LabsockError, another: str) -> LabsockError:
    """A bind of labsock's own found (proto, port) taken: the error again, saying a connection
    that closed moments ago keeps the port when no program does (or, where the system cannot
    tell, that it may). another: the way to another port, in the caller's words."""
    if proto != "tcp" or holder_of(proto, port) is not None:
        return error
    lingering = closing_on(proto, port)
    if lingering is False:
        return error
    said = LabsockError(
        f"Port {port} (TCP) is already in use. " + closing_words(lingering, another=another)
    )
    said.failure = error.failure
    return said


def _run(*command: str) -> str:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=2.0,
        check=False,
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),  # Windows: no console flash
    )
    return done.stdout


def _from_netstat(proto: str, port: int) -> Holder | None:
    pid = netstat_pid(_run("netstat", "-ano", "-p", proto.upper()), proto, port)
    if pid is None:
        return None
    return Holder(pid, tasklist_name(_run("tasklist", "/FI", f"PID eq {pid}", "/FO", "CSV", "/NH")))


def _from_lsof(proto: str, port: int) -> Holder | None:
    lsof = shutil.which("lsof") or "/usr/sbin/lsof"
    wanted = [f"-i{proto.upper()}:{port}"] + (["-sTCP:LISTEN"] if proto == "tcp" else [])
    pid = first_pid(_run(lsof, "-nP", "-t", *wanted))
    if pid is None:
        return None
    return Holder(pid, command_words(_run("ps", "-o", "command=", "-p", str(pid)).encode()))


def _from_proc(proto: str, port: int, proc: Path) -> Holder | None:
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
