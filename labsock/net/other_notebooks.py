"""What the student's other notebooks run: each kernel records its programs and servers in a
small folder of the student's own, so a cell whose port is taken can say which notebook holds it.

Task 2's lan_server still runs when Task 3's server cell wants port 12000; the kernel of Task 3
cannot see into Task 2's. So every kernel (any process using labsock) writes one file,
kernel-PID.json, listing what it runs and the ports each holds, whenever something of it starts
(labsock.net.ports_here calls record()). A cell whose bind fails reads the other files
(holder_of) and names the holder; a program of another notebook can be stopped from here.

Trust, since a file can outlive what it lists:
- the folder is the user's own (0700, files 0600; a folder not ours or open to others is not
  used), so only the student's own processes write there;
- each process is named by pid and its start time as the system tells it: a pid the system has
  given to another process since is no longer the one recorded;
- on Linux the holder must really hold a socket on that port (its file descriptors against
  /proc/net), so a server stopped since the file was written is not blamed;
- stop() ends only a process that passes all of that, and on Linux runs labsock's bootstrap.
Files of processes that have ended are removed by whoever reads them.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from labsock.logic.errors import LabsockError
from labsock.logic.holders import Holder, holders_in, notebook_name
from labsock.net.lifecycle import SERVES_A_PORT, running

RECORD_LIMIT = 1_000_000  # bytes: a record bigger than this is not ours
_write_lock = threading.Lock()
_last_written: dict[Path, str] = {}  # what this process last wrote, by file


# -- where ------------------------------------------------------------------------------------


def state_folder() -> Path | None:
    """The user's own labsock state folder (created 0700), or None when it cannot be trusted.
    LABSOCK_STATE_DIR chooses another (the tests' own, so they never meet a student's)."""
    chosen = os.environ.get("LABSOCK_STATE_DIR")
    if chosen:
        base = Path(chosen)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    folder = base if chosen else base / "labsock"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if sys.platform != "win32":
            info = folder.stat()
            if info.st_uid != os.getuid():
                return None  # someone else's: what it says could be anyone's
            if info.st_mode & 0o077:
                folder.chmod(0o700)
    except OSError:
        return None
    return folder


# -- this kernel's record ---------------------------------------------------------------------


def this_notebook() -> str:
    """The notebook this kernel runs, as Jupyter tells its kernels (jupyter_server sets
    JPY_SESSION_NAME; ipykernel copies it into the namespace as __session__)."""
    main = sys.modules.get("__main__")
    session = os.environ.get("JPY_SESSION_NAME") or getattr(main, "__session__", None)
    first = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    # `python -m labsock serve ...` runs labsock/__main__.py: name the module, as it was typed
    command = f"python -m {first.parent.name}" if first.name == "__main__.py" else first.name
    return notebook_name(session if isinstance(session, str) else None, os.getpid(), command)


def _snapshot() -> list[dict]:
    things = []
    for thing in running():
        if thing.kind == "program" and thing.pid:  # its own process: every socket it has open
            started = process_started(thing.pid)
            if started is None:
                continue
            ports = [list(port) for port in thing.ports]
            things.append(
                {
                    "kind": "program",
                    "name": thing.name,
                    "pid": thing.pid,
                    "started": started,
                    "ports": ports,
                }  # fmt: skip
            )
        else:  # a server, relay or client of labsock's, a thread of this process
            ports = [list(claim) for claim in thing.claims() if len(claim) == 3]
            bound = getattr(thing, "port", None)  # port=0: the one the system gave, once bound
            if bound and not ports and thing.kind in SERVES_A_PORT:
                ports = [[thing.protocol, thing.host, bound]]
            things.append({"kind": "server", "name": thing.what, "ports": ports})
    return [thing for thing in things if thing["ports"]]


def record() -> None:
    """Write what this process runs now, for the other notebooks to read (never fails)."""
    try:
        folder = state_folder()
        started = process_started(os.getpid())
        if folder is None or started is None:
            return
        data = {
            "pid": os.getpid(),
            "started": started,
            "notebook": this_notebook(),
            "things": _snapshot(),
        }
        text = json.dumps(data)
        path = folder / f"kernel-{os.getpid()}.json"
        if _last_written.get(path) == text and path.exists():
            return  # a re-run cell starting the same things: the record already says so
        _write(path, text)
        _last_written[path] = text
    except Exception:  # noqa: BLE001 - a record is a courtesy: a cell must never fail for it
        pass


def _write(path: Path, text: str) -> None:
    with _write_lock:
        temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        handle = os.open(temporary, flags, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)  # readers see the old record or the new one, never half


@atexit.register
def _forget_this_kernel() -> None:
    folder = state_folder()
    if folder is not None:
        try:
            (folder / f"kernel-{os.getpid()}.json").unlink()
        except OSError:
            pass


# -- the other notebooks ----------------------------------------------------------------------


def records(this_kernel: int | None = None) -> list[dict]:
    """The other processes' records whose process still runs (the others' files are removed).
    this_kernel: the process whose record is this notebook's (this one's, by default; a
    student's program asks for its kernel's)."""
    folder = state_folder()
    if folder is None:
        return []
    found = []
    for path in folder.glob("kernel-*.json"):
        try:
            if path.stat().st_size > RECORD_LIMIT:
                continue
            data = json.loads(path.read_text("utf-8"))
            pid, started = int(data["pid"]), str(data["started"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid == (os.getpid() if this_kernel is None else this_kernel):
            continue
        if process_started(pid) != started:  # that process has ended
            try:
                path.unlink()
            except OSError:
                pass
            continue
        found.append(data)
    return found


def holder_of(proto: str, port: int, this_kernel: int | None = None) -> Holder | None:
    """Which other notebook's program or server holds (proto, port), when one of the
    student's notebooks (or terminals running labsock) does (this_kernel: see records())."""
    for data in records(this_kernel):
        try:
            holders = holders_in(data, proto, port)
        except (KeyError, TypeError, ValueError):
            continue
        for holder in holders:
            if _still_holds(holder):
                return holder
    return None


def _still_holds(holder: Holder) -> bool:
    if process_started(holder.pid) != holder.started or not _mine(holder.pid):
        return False
    return holds_port(holder.pid, holder.proto, holder.port) is not False


def stop(holder: Holder) -> None:
    """End another notebook's program (checked again: the same process, the user's own, one
    of labsock's programs); returns once it has ended, so its port is free."""
    if not holder.stoppable:
        raise LabsockError(f"{holder.name} runs inside {holder.notebook}'s kernel: stop it there.")
    if process_started(holder.pid) != holder.started:
        return  # it has ended already: its port is free
    if not _mine(holder.pid) or _is_labsock_program(holder.pid) is False:
        raise LabsockError(
            f"labsock did not stop process {holder.pid}: it is not {holder.name} of "
            f"{holder.notebook} any more. Stop it in that notebook."
        )
    _end(holder.pid)
    # No event tells this process when another's child has ended and let go of its sockets
    # (its first thread may be gone while the others still close them): try the port.
    deadline = time.monotonic() + 5.0
    while not _bindable(holder.proto, holder.port) and time.monotonic() < deadline:
        time.sleep(0.01)


def _bindable(proto: str, port: int) -> bool:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as probe:
        if proto == "tcp" and sys.platform != "win32":  # a connection closing is no holder
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))  # every address: free only when no address holds it
        except OSError:
            return False
    return True


def _end(pid: int) -> None:
    try:
        if sys.platform == "win32":
            os.kill(pid, signal.SIGTERM)  # TerminateProcess
        elif sys.platform.startswith("linux"):
            # The supervisor above the program: on SIGTERM it ends everything below it.
            os.kill(pid, signal.SIGTERM)
        elif os.getpgid(pid) == pid:  # the program leads its own group: anything it started too
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


# -- what the system says about a process ---------------------------------------------------


def process_started(pid: int) -> str | None:
    """When the process started, as the system tells it (None: no such process, or ended)."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[-1].split()
        return None if fields[0] in ("Z", "X") else fields[19]  # zombies have ended
    if sys.platform == "win32":
        return _windows_started(pid)
    return _ps(pid)[1]


def _mine(pid: int) -> bool:
    if sys.platform.startswith("linux"):
        try:
            return os.stat(f"/proc/{pid}").st_uid == os.getuid()
        except OSError:
            return False
    if sys.platform == "win32":
        return True  # the folder is the user's own; Windows lets a user end only what it may
    return _ps(pid)[0] == os.getuid()


def _is_labsock_program(pid: int) -> bool | None:
    """Does the process run labsock's bootstrap? (None: the system does not say.)"""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return b"bootstrap.py" in command


def _ps(pid: int) -> tuple[int | None, str | None]:
    """(uid, start time) from ps, on macOS and the BSDs."""
    try:
        shown = subprocess.run(
            ["ps", "-o", "uid=,stat=,lstart=", "-p", str(pid)],
            capture_output=True, text=True, timeout=5, check=False,
        ).stdout.split(None, 2)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None, None
    if len(shown) < 3 or shown[1].startswith("Z"):
        return None, None
    return int(shown[0]), shown[2].strip()


def _windows_started(pid: int) -> str | None:
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return None
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value != 259:
            return None  # 259: STILL_ACTIVE
        times = [wintypes.FILETIME() for _ in range(4)]
        if not kernel32.GetProcessTimes(handle, *(ctypes.byref(t) for t in times)):
            return None
        return f"{times[0].dwHighDateTime}:{times[0].dwLowDateTime}"
    finally:
        kernel32.CloseHandle(handle)


def holds_port(pid: int, proto: str, port: int) -> bool | None:
    """Does the process have a socket on that local port open? (Linux: its file descriptors
    against /proc/net, in this network namespace; None elsewhere: the system does not say.)"""
    if not sys.platform.startswith("linux"):
        return None
    inodes = set()
    for table in (proto, proto + "6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    inodes.discard("socket:[0]")  # TIME_WAIT: held by no process
    # On Linux a program's recorded process is its supervisor, and the sockets are the
    # program's, one process below: look at both.
    looked = False
    for who in (pid, *_children(pid)):
        try:
            descriptors = os.listdir(f"/proc/{who}/fd")
        except OSError:
            continue
        looked = True
        for fd in descriptors:
            try:
                if os.readlink(f"/proc/{who}/fd/{fd}") in inodes:
                    return True
            except OSError:
                continue
    return False if looked else None


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except (OSError, ValueError):
        return []
