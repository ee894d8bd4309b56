"""The program's process, the channel it reports on, and ending everything it started.

The channel. The kernel and the program talk over a socket pair made before the program starts
and handed to it as an inherited file descriptor (`pass_fds`; on Windows an inherited socket
handle named in the start-up info's handle list). No port anyone could connect to first, and no
secret in the environment for another process to read from /proc/PID/environ: the only other
end is the program's own descriptor. The program is told its number in its arguments.

Ending. A program may start processes of its own, some in a new session (`setsid`,
`start_new_session=True`), some that outlive it. Stop must end them all, and when the program
ends by itself what it left running ends with it:

- Linux: the bootstrap forks a small supervisor first (labsock.net.programs.supervisor): it is a
  child subreaper, so every orphan of the program's becomes its child instead of escaping to
  init. It ends the whole tree on SIGTERM or when the program exits, and says how many others it
  ended. The process started here is that supervisor.
- Windows: a Job Object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE holds the program and whatever it
  starts; Stop (and the program's end) terminate the job.
- macOS and others: the program's own process group, plus the descendants found (by `ps`) just
  before it is ended. An orphan that left both is beyond reach there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

SUPERVISED = sys.platform.startswith("linux")  # a subreaper needs prctl (Linux 3.4+)
STOP_GRACE = 2.0  # seconds the supervisor has to end the tree before it is killed itself


def control_channel() -> tuple[socket.socket, socket.socket]:
    """(the kernel's end, the program's end) of a fresh, connected, unnamed socket pair."""
    if sys.platform == "win32":
        # CPython's socketpair on Windows connects over loopback and checks that the accepted
        # peer is its own connecting socket (3.12.4+, 3.11.10+), so a racer is refused.
        ours, theirs = socket.socketpair()
    else:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return ours, theirs


def start(command: list[str], program: str, theirs: socket.socket, **popen) -> subprocess.Popen:
    """Start `command --control N program`, `theirs` inherited as N and nothing else extra."""
    if sys.platform == "win32":
        handle = theirs.fileno()
        theirs.set_inheritable(True)
        info = subprocess.STARTUPINFO()
        info.lpAttributeList = {"handle_list": [handle]}  # inherited: this handle, no other
        process = subprocess.Popen(
            [*command, "--control", str(handle), program],
            startupinfo=info,
            close_fds=True,
            creationflags=subprocess.CREATE_NEW_PROCESS_GROUP,
            **popen,
        )
        process.labsock_tree = WindowsJob.around(process)
        return process
    fd = theirs.fileno()
    process = subprocess.Popen(
        [*command, "--control", str(fd), program],
        pass_fds=(fd,),
        # Its own session: the kernel's Interrupt (SIGINT to the kernel's group) stays away.
        start_new_session=True,
        **popen,
    )
    process.labsock_tree = None
    return process


def end(process: subprocess.Popen) -> None:
    """End the program and everything it started, at once; returns once the program is gone.

    At once: a program in `except: pass` or time.sleep would ignore anything gentler."""
    if process.poll() is not None:
        end_leftovers(process)
        return
    if sys.platform == "win32":
        tree = process.labsock_tree
        if tree is not None:
            tree.terminate()
        _quietly(process.kill)  # TerminateProcess, had the job not held it
        process.wait()
        return
    if SUPERVISED:
        _quietly(process.terminate)  # the supervisor ends the tree, then itself
        try:
            process.wait(STOP_GRACE)
            return
        except subprocess.TimeoutExpired:
            pass
    _end_group_and_descendants(process.pid)
    process.wait()


def end_leftovers(process: subprocess.Popen) -> None:
    """After the program ended by itself: end what it left running where the system did not."""
    if sys.platform == "win32" and process.labsock_tree is not None:
        process.labsock_tree.terminate()
    elif not SUPERVISED:
        _end_group_and_descendants(process.pid)


def release(process: subprocess.Popen) -> None:
    """Give back what holds the ended program's tree (the Windows job's handle)."""
    tree = getattr(process, "labsock_tree", None)
    if tree is not None:
        tree.close()


def _quietly(action) -> None:
    try:
        action()
    except (ProcessLookupError, PermissionError, OSError):
        pass


# -- macOS and other POSIX systems without a subreaper -----------------------------------------


def _descendants(pid: int) -> list[int]:
    """Processes below pid now (by `ps`; empty where ps is missing)."""
    try:
        table = subprocess.run(
            ["ps", "-A", "-o", "pid=,ppid="], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    children: dict[int, list[int]] = {}
    for row in table.split("\n"):
        fields = row.split()
        if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(fields[0]))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _end_group_and_descendants(pid: int) -> None:
    below = _descendants(pid)
    _quietly(lambda: os.killpg(pid, signal.SIGKILL))
    for other in below:  # also those that started a session of their own
        _quietly(lambda other=other: os.killpg(os.getpgid(other), signal.SIGKILL))
        _quietly(lambda other=other: os.kill(other, signal.SIGKILL))


# -- Windows: a Job Object ---------------------------------------------------------------------


class WindowsJob:
    """A Job Object holding the program: whatever it starts is in the job too, and terminating
    the job (or closing its last handle, as when the kernel dies) ends them all."""

    _KILL_ON_JOB_CLOSE = 0x2000
    _EXTENDED_LIMIT_INFORMATION = 9
    _ALL_ACCESS = 0x1F001F

    def __init__(self, handle):
        self.handle = handle

    @classmethod
    def around(cls, process: subprocess.Popen) -> WindowsJob | None:
        """A job holding process, or None if the system refused one (then only the process is
        ended). The process may start a child before it is assigned: a short window, which
        starting it suspended would close (Popen cannot)."""
        try:
            import ctypes
            from ctypes import wintypes
        except ImportError:
            return None
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle, dword = wintypes.HANDLE, wintypes.DWORD
        kernel32.CreateJobObjectW.restype = handle
        kernel32.CreateJobObjectW.argtypes = (ctypes.c_void_p, wintypes.LPCWSTR)
        kernel32.SetInformationJobObject.argtypes = (handle, ctypes.c_int, ctypes.c_void_p, dword)
        kernel32.AssignProcessToJobObject.argtypes = (handle, handle)
        kernel32.TerminateJobObject.argtypes = (handle, wintypes.UINT)
        kernel32.CloseHandle.argtypes = (handle,)

        class BasicLimits(ctypes.Structure):
            _fields_ = [
                ("PerProcessUserTimeLimit", ctypes.c_int64),
                ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", wintypes.DWORD),
                ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t),
                ("ActiveProcessLimit", wintypes.DWORD),
                ("Affinity", ctypes.c_size_t),
                ("PriorityClass", wintypes.DWORD),
                ("SchedulingClass", wintypes.DWORD),
            ]

        class IoCounters(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in (
                "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
                "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]  # fmt: skip

        class ExtendedLimits(ctypes.Structure):
            _fields_ = [
                ("BasicLimitInformation", BasicLimits),
                ("IoInfo", IoCounters),
                ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t),
            ]

        job = kernel32.CreateJobObjectW(None, None)
        if not job:
            return None
        limits = ExtendedLimits()
        limits.BasicLimitInformation.LimitFlags = cls._KILL_ON_JOB_CLOSE
        set_ok = kernel32.SetInformationJobObject(
            job, cls._EXTENDED_LIMIT_INFORMATION, ctypes.byref(limits), ctypes.sizeof(limits)
        )
        # Popen keeps the process handle in _handle; AssignProcessToJobObject needs a handle.
        process_handle = int(getattr(process, "_handle", 0))
        if (
            not set_ok
            or not process_handle
            or not kernel32.AssignProcessToJobObject(job, process_handle)
        ):
            kernel32.CloseHandle(job)
            return None
        tree = cls(job)
        tree._kernel32 = kernel32
        return tree

    def terminate(self) -> None:
        if self.handle:
            self._kernel32.TerminateJobObject(self.handle, 1)

    def close(self) -> None:
        if self.handle:
            self._kernel32.CloseHandle(self.handle)
            self.handle = None


def wait_until_free(ports, timeout: float = 2.0) -> None:
    """Return once each port binds again (the system frees them as the process ends)."""
    deadline = time.monotonic() + timeout
    for proto, host, port in ports:
        while not _bindable(proto, host, port) and time.monotonic() < deadline:
            time.sleep(0.005)  # no event tells when the system has released a port


def _bindable(proto: str, host: str, port: int) -> bool:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # an IPv6 server's "::1"
    with socket.socket(family, kind) as probe:
        if proto == "tcp" and sys.platform != "win32":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
