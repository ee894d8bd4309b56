"""Linux: a subreaper above the student's program, so that nothing it starts outlives it.

The bootstrap calls supervise() first thing. The process becomes a child subreaper
(prctl PR_SET_CHILD_SUBREAPER) and forks: the child returns and runs the program; the parent
stays here. Every process the program starts, also one that calls setsid() or whose parent
exits, stays below the supervisor (an orphan is re-parented to it, not to init). The parent then:

- on SIGTERM (Stop in the notebook): kills every process below it, and ends as if killed;
- when the program exits: kills what it left running, and exits with the program's status;
- either way it tells the notebook how many other processes it ended (a note on the control
  channel, sent once no other process holds the channel).

A fork, not a second interpreter: it costs about a millisecond of the program's start.
"""

from __future__ import annotations

import ctypes
import os
import signal

from labsock.logic import wire

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def supervise(control_fd: int) -> None:
    """Returns in the program's process; the supervisor never returns (it exits)."""
    supervisor = os.getpid()
    if not _prctl(PR_SET_CHILD_SUBREAPER, 1):
        return  # no subreaper: the notebook ends the process group instead
    program = os.fork()
    if program == 0:
        # A group of its own: a program that kills its whole group (os.killpg(0, ...)) leaves
        # its supervisor standing, to end what it had started.
        os.setpgid(0, 0)
        # Should the supervisor be killed (kill -9 on the job's pid), the program goes too:
        # a program the notebook cannot see must not keep running.
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != supervisor:
            os._exit(1)  # the supervisor died before the line above
        return
    _Supervisor(program, control_fd).run()


class _Supervisor:
    def __init__(self, program: int, control_fd: int):
        self.program = program
        self.control_fd = control_fd
        self.ended: set[int] = set()  # every process killed but the program

    def run(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the program's own group: not ours
        signal.signal(signal.SIGTERM, self._on_stop)
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                os._exit(0)
            if pid == self.program:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ending already
                self._end_tree()
                self._tell("program ended")
                _exit_as(status)

    def _on_stop(self, signum, frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self._end_tree()
        self._tell("stopped")
        os.kill(os.getpid(), signal.SIGKILL)  # ended as the notebook's kill would have

    def _end_tree(self) -> None:
        """Kill every process below this one, until none is left (a fork racing the kill is
        caught on the next round: a killed process forks no more)."""
        while True:
            below = _below(os.getpid())
            if not below:
                return
            for pid in below:
                finished = _finished(pid)  # it ended by itself, only not reaped yet
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                if pid != self.program and not finished:
                    self.ended.add(pid)
            try:
                os.waitpid(-1, 0)  # at least one is reaped each round
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                return

    def _tell(self, why: str) -> None:
        frame = wire.note("others ended", count=len(self.ended), why=why)
        try:
            os.write(self.control_fd, frame)
        except OSError:
            pass


def _exit_as(status: int) -> None:
    """End with the program's own status: its exit code, or the signal that killed it."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # SIGKILL and SIGSTOP keep their default anyway
        os.kill(os.getpid(), number)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _finished(pid: int) -> bool:
    """True for a zombie: a process that has exited and waits to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _below(root: int) -> list[int]:
    """Every process below root, alive or not yet reaped, by /proc's children lists."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as file:
                    children = [int(child) for child in file.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(children)
            todo.extend(children)
    return found
