"""The cell magics that run a student's program from a cell: %%background and %%client.

    %%background udp_server            the cell's code runs as its own program; the cell returns
    from socket import *               as soon as the program waits (in recvfrom, accept, input
    ...                                or sleep), with its live output and a Stop button below

    %%client udp_client --type "hello" the cell's code runs to its end (at most --timeout
    from socket import *               seconds, 5 by default); its output is the cell's output;
    ...                                input() gets the --type lines, then asks in the cell

`import labsock` registers both in IPython (so does `%load_ext labsock`).
"""

from __future__ import annotations

import argparse
import shlex
import time

from labsock.cli.arguments import seconds
from labsock.logic.errors import LabsockError, explain
from labsock.logic.program_edits import parse_setting, set_variables
from labsock.net.programs.job import READY_TIMEOUT, Job
from labsock.show.program_view import ProgramView

CLIENT_TIMEOUT = 5.0


def register(ipython) -> None:
    """Make %%background and %%client cell magics of this IPython shell."""
    ipython.register_magic_function(background, "cell", "background")
    ipython.register_magic_function(client, "cell", "client")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise LabsockError(f"{message}. Write it as: %{self.usage.strip()}")


def _parser(magic: str) -> argparse.ArgumentParser:
    if magic == "background":
        usage = "%background NAME [--timeout SECONDS] [--type LINE ...] [--set NAME=VALUE ...]"
    else:
        usage = "%client NAME [--timeout SECONDS] [--type LINE ...] [--set NAME=VALUE ...]"
    parser = _Parser(prog=magic, usage=usage, add_help=False)
    parser.add_argument("name")
    parser.add_argument("--timeout", type=seconds)
    parser.add_argument("--type", action="append", default=[], dest="typed")
    parser.add_argument("--set", action="append", default=[], dest="settings")
    return parser


def _arguments(magic: str, line: str):
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise LabsockError(f"The line after %%{magic} could not be read ({exc}).") from None
    if not words:
        raise LabsockError(
            f"%%{magic} needs a name for the program, e.g. `%%{magic} udp_server`: the name "
            "is how you find it again (labsock.job('udp_server')) and its file's name."
        )
    return _parser(magic).parse_args(words)


def _job(args, cell: str) -> Job:
    settings = dict(parse_setting(text) for text in args.settings)
    code, notes = set_variables(cell, settings) if settings else (cell, [])
    job = Job(code, args.name, typed=args.typed)
    job.notes.extend(notes)
    return job.start()


def background(line: str, cell: str):
    """%%background NAME: run the cell as its own program; return once it waits."""
    args = _arguments("background", line)
    job = _job(args, cell)
    try:
        state = job.wait_until_ready(args.timeout or READY_TIMEOUT)
    except KeyboardInterrupt:  # Interrupt pressed while it started: the program goes on
        print(f"(interrupted while {job.name} started; it goes on running: Stop is below)")
        state = "interrupted"
    view = ProgramView(job)
    if state == "still starting":
        print(
            f"{job.name} is still running but has not waited for anything yet after "
            f"{args.timeout or READY_TIMEOUT:g} s (no recvfrom, accept, input or sleep): it may "
            "be busy in a loop. Its output shows below; Stop ends it."
        )
    return view


def client(line: str, cell: str, *, ask=None):
    """%%client NAME: run the cell as its own program, to its end; its output is the cell's."""
    args = _arguments("client", line)
    timeout = CLIENT_TIMEOUT if args.timeout is None else args.timeout
    job = _job(args, cell)
    for note in job.notes:
        print(f"({note})")
    printed = 0
    deadline = time.monotonic() + timeout
    try:
        while True:
            job.wait_for_change(job.version, 0.05)
            printed = _print_new(job, printed)
            if job.wait(0):
                _print_new(job, printed)
                break
            if job.needs_input:
                printed = _print_prompt(job, printed)
                if _ask_in_cell(job, ask) is None:
                    prompt = job.prompt
                    job.stop()
                    print("\n" + _needs_typing(job.name, prompt))
                    break
                deadline = time.monotonic() + timeout  # the clock stops while the student types
            elif time.monotonic() > deadline:
                job.stop()
                printed = _print_new(job, printed)
                print(_gave_up(job, timeout))
                break
    except KeyboardInterrupt:
        job.stop()
        _print_new(job, printed)
        print(f"(interrupted: {job.name} was stopped)")
    return None


def _print_new(job: Job, printed: int) -> int:
    text, printed = job.output_record.since(printed)
    if text:
        print(text, end="", flush=True)
    return printed


def _print_prompt(job: Job, printed: int) -> int:
    """The prompt comes through the program's output, which may lag its "input" report."""
    deadline = time.monotonic() + 1.0
    while not job.output_caught_up() and time.monotonic() < deadline:
        job.wait_for_change(job.version, 0.05)
    return _print_new(job, printed)


def _ask_in_cell(job: Job, ask) -> str | None:
    """A line typed in the cell's own input box (Jupyter's stdin); None where there is none."""
    if ask is None:
        try:
            from IPython.core.error import StdinNotImplementedError
        except ImportError:  # pragma: no cover - IPython is there whenever a magic runs
            return None
        try:
            typed = input("")
        except (StdinNotImplementedError, EOFError):
            return None
    else:
        typed = ask(job.prompt)
        if typed is None:
            return None
    job.type(typed, echo=False)
    return typed


def _needs_typing(name: str, prompt: str | None) -> str:
    asked = f"input({prompt!r})" if prompt else "input()"
    return (
        f"{name} asks for a line to type ({asked}), and this notebook cannot ask you here. "
        f'Give the line on the magic\'s line: %%client {name} --type "your message"'
    )


def _gave_up(job: Job, timeout: float) -> str:
    to = job.last_sent_to
    if to is not None:  # it sent, and is still there: waiting for the answer
        proto, (host, port) = to
        reason = str(explain(TimeoutError(), action="receive", proto=proto, host=host, port=port))
        return f"{job.name} waited {timeout:g} s and was stopped. {reason}"
    doing = f" (it was waiting in {job.waiting_in})" if job.waiting_in else ""
    return (
        f"{job.name} did not end within {timeout:g} s{doing}, so it was stopped. A client "
        "should end once it has its reply: does it wait for something that never comes? "
        f"For a slower program: %%client {job.name} --timeout 30"
    )
