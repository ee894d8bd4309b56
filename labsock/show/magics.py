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

from labsock.logic.arguments import seconds
from labsock.logic.errors import LabsockError
from labsock.logic.program_edits import parse_setting, set_variables
from labsock.logic.student_code import blocking_server
from labsock.logic.who_answered import LOOPBACK, Answerer, answered_note
from labsock.net.lifecycle import running
from labsock.net.programs.gave_up import gave_up, receivers
from labsock.net.programs.job import READY_TIMEOUT, Job, jobs
from labsock.show.error_buttons import offer_way_out
from labsock.show.program_view import ProgramView

CLIENT_TIMEOUT = 5.0
# The program of the latest %%background cell: the one the student is working on.
_latest_background: list[str] = []


def register(ipython) -> None:
    """Make %%background and %%client cell magics of this IPython shell, and have a plain cell
    that would run a server in the kernel itself say so before it freezes the notebook."""
    ipython.register_magic_function(background, "cell", "background")
    ipython.register_magic_function(client, "cell", "client")
    if warn_plain_server not in ipython.events.callbacks["pre_run_cell"]:
        ipython.events.register("pre_run_cell", warn_plain_server)


def warn_plain_server(info) -> None:
    """Before a cell without a magic runs a server in the kernel, say it will freeze the
    notebook (it waits in recvfrom or accept with the kernel) and how to run it instead."""
    cell = getattr(info, "raw_cell", None) or ""
    if cell.lstrip().startswith("%%"):
        return
    found = blocking_server(cell)
    if found is None:
        return
    name = f"{found.proto}_server"
    text = (
        f"labsock: this cell runs a server in the notebook's own kernel. At line "
        f"{found.waits.number}, `{found.waits.text}` waits for a client, and the whole notebook "
        "freezes with it: no other cell runs until you press Interrupt, and the port stays held "
        f"after. Put `%%background {name}` on the first line of this cell instead: the server "
        "then runs as its own program, and the cell returns at once."
    )
    _show_warning(text)


def _show_warning(text: str) -> None:
    """A paragraph that wraps at words (a stream's text breaks mid-word in JupyterLab), shown
    at once, before the cell's code runs; plain text where HTML is not shown."""
    from html import escape

    from IPython.display import display

    html = (
        '<p style="white-space: normal; word-break: normal; overflow-wrap: break-word; '
        'color: #a00; margin: 0.3em 0">'
        f"{escape(text)}</p>"
    )
    display({"text/plain": text, "text/html": html}, raw=True)


# JupyterLab breaks a plain output's lines anywhere (word-break: break-all on every output <pre>),
# so a %%client cell's text would read "retran / smission". This rule, in the cell's own output,
# wraps that cell's text at spaces; only a word longer than the line is cut. The output holding
# it takes no room. (A program's view has its own rule: program_view.css.)
WORDS_STYLE = (
    "<style class='labsock-words'>"
    ".jp-Cell:has(style.labsock-words) .jp-OutputArea-output pre "
    "{word-break: normal; overflow-wrap: break-word}"
    ".jp-OutputArea-child:has(style.labsock-words) {display: none}"
    "</style>"
)


def _wrap_at_words() -> None:
    """Have this cell's plain output wrap at words, in a notebook (a terminal wraps its own)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is there whenever a magic runs
        return
    if getattr(get_ipython(), "kernel", None) is not None:
        display({"text/html": WORDS_STYLE}, raw=True)


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
    _latest_background[:] = [job.name]
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
    return offer_way_out(view, job)  # another notebook's program held its port: a Stop button


def client(line: str, cell: str, *, ask=None):
    """%%client NAME: run the cell as its own program, to its end; its output is the cell's."""
    args = _arguments("client", line)
    timeout = CLIENT_TIMEOUT if args.timeout is None else args.timeout
    job = _job(args, cell)
    _wrap_at_words()
    for note in job.notes:
        print(f"({note})")
    # The output is printed a whole line at a time while the program runs: the partial line
    # after the last line end is held back, for a prompt printed without a newline is input()'s
    # own prompt when the program asks (see _print_prompt). Every ending prints what is held.
    printed, held = 0, ""
    deadline = time.monotonic() + timeout
    try:
        while True:
            job.wait_for_change(job.version, 0.05)
            printed, held = _print_new(job, printed, held, hold=True)
            if job.wait(0):
                _print_new(job, printed, held)
                _say_who_answered(job)
                break
            if job.needs_input:
                printed, held = _print_prompt(job, printed, held)
                if _ask_in_cell(job, ask, held) is None:
                    prompt = job.prompt
                    job.stop()
                    print(held + "\n" + _needs_typing(job.name, prompt))
                    break
                held = ""  # the box showed it
                deadline = time.monotonic() + timeout  # the clock stops while the student types
            elif time.monotonic() > deadline:
                job.stop()
                printed, held = _print_new(job, printed, held)
                print(gave_up(job, timeout, in_cell=True))
                break
    except KeyboardInterrupt:
        job.stop()
        _print_new(job, printed, held)
        print(f"(interrupted: {job.name} was stopped)")
    return None


# The longest partial line held back as a possible prompt: memory stays bounded, and a program
# that prints on one line without an end (dots of progress) is still seen while it runs.
HELD_AT_MOST = 1000


def _print_new(job: Job, printed: int, held: str, *, hold: bool = False) -> tuple[int, str]:
    """Print what the program added after cursor `printed`, after the `held` text; with `hold`,
    only up to its last line end. Returns the new cursor and what is held back now."""
    text, printed = job.output_record.since(printed)
    text = held + text
    shown, held = text, ""
    if hold:
        before, newline, held = text.rpartition("\n")
        shown = before + newline
        if len(held) > HELD_AT_MOST:  # no prompt is this long: a line printed without its end
            shown, held = text, ""
    if shown:
        print(shown, end="", flush=True)
    return printed, held


def _print_prompt(job: Job, printed: int, held: str) -> tuple[int, str]:
    """Print the output up to its last line end and return the partial line after it: the
    prompt the program printed, to be input()'s own prompt. JupyterLab shows a stdin reply as
    prompt + " " + value in a stream of its own, so a prompt printed as output would leave the
    typed line alone on the next line. The prompt comes through the program's output, which may
    lag its "input" report."""
    deadline = time.monotonic() + 1.0
    while not job.output_caught_up() and time.monotonic() < deadline:
        job.wait_for_change(job.version, 0.05)
    return _print_new(job, printed, held, hold=True)


def _ask_in_cell(job: Job, ask, prompt: str) -> str | None:
    """A line typed in the cell's own input box (Jupyter's stdin), asked with the prompt the
    program printed; None where there is none. `ask` stands in for input() where given."""
    # JupyterLab puts one space between the prompt and the typed line.
    shown = prompt.rstrip(" ")
    if ask is None:
        try:
            from IPython.core.error import StdinNotImplementedError
        except ImportError:  # pragma: no cover - IPython is there whenever a magic runs
            return None
        try:
            typed = input(shown)
        except (StdinNotImplementedError, EOFError):
            return None
    else:
        typed = ask(shown)
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


def _answerer(job: Job) -> Answerer | None:
    """Who the client's first reply came from, or None when it got no reply."""
    replies = job.log.messages()
    if not replies:
        return None
    ip, port = replies[0].ip, replies[0].port
    for other in receivers(job):
        if any(held == port for _, _, held in other.ports_used):
            return Answerer("program", other.name, _doing(other))
    for other in reversed(jobs()):
        if other is not job and any(held == port for _, _, held in other.ports_used):
            return Answerer("program", other.name, _doing(other))
    for thing in running():
        if not isinstance(thing, Job) and any(c[-1] == port for c in thing.claims()):
            return Answerer("labsock", thing.what)
    known = _other_notebooks_program(job, ip, port)
    return known or Answerer("nobody", f"{ip}:{port}")


def _other_notebooks_program(job: Job, ip: str, port: int) -> Answerer | None:
    """The program of another of the student's notebooks that holds the port on this laptop
    (only for a reply from this laptop: another laptop's server may share the number)."""
    if job.last_sent_to is None or not ip.startswith(LOOPBACK):
        return None
    from labsock.net import other_notebooks  # reads the state folder: only on this rare path

    try:
        holder = other_notebooks.holder_of(job.last_sent_to[0], port)
    except OSError:
        return None
    if holder is None or not holder.in_notebook or not holder.stoppable:
        return None
    return Answerer("notebook", holder.name, notebook=holder.notebook, address=f"{ip}:{port}")


def _doing(job: Job) -> str:
    """What a program is doing, in words (its state line without its name)."""
    return job.state().split(": ", 1)[-1]


def _say_who_answered(job: Job) -> None:
    answerer = _answerer(job)
    if answerer is None:
        return
    latest = next(iter(_latest_background), None)
    latest_state = ""
    if latest is not None:
        latest_job = next((j for j in jobs() if j.name == latest), None)
        latest_state = _doing(latest_job) if latest_job is not None else "not started"
    note = answered_note(job.name, answerer, latest, latest_state)
    if note:
        print(note)
