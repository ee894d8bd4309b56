"""Running a student's program from Python: in the background until it waits, or (a client) to
its end, with a paragraph on why when it had to be stopped."""

from __future__ import annotations

from labsock.logic.validation import validate_timeout
from labsock.net.programs.gave_up import gave_up
from labsock.net.programs.job import Job


def background(code: str, name: str, **options) -> Job:
    """Start a program and return once it waits (for a datagram, connection or input) or ends."""
    started = Job(code, name, **options).start()
    started.wait_until_ready()
    return started


def run_client(code: str, name: str, *, typed=(), timeout: float = 5.0, **options) -> Job:
    """Run a (client) program to its end, giving it the lines in `typed` for its input() calls.

    After `timeout` seconds it is stopped: a client waiting for a reply from nobody must end.
    Then it says why, in one paragraph (printed, and kept in the job's notes).
    """
    timeout = validate_timeout(timeout)
    started = Job(code, name, typed=typed, **options).start()
    if not started.wait(timeout):
        started.stop()
        said = gave_up(started, timeout, in_cell=False)
        started.notes.append(said)
        print(said)
    return started
