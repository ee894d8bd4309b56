"""What a student's background program shows in its cell: its output, live, and its controls.

    [Stop]  udp_server: running, waiting in recvfrom; holds UDP 127.0.0.1:12000
    The server is ready to receive
    ...                                              (the newest line at the bottom)
    [type a line for the program]  [Send line]       (only while it waits in input())

The page side is labsock's own (program_view.js, through anywidget) and behaves like a terminal:
the output arrives as pieces appended to the box, so the newest line stays in view, and a student
who scrolled up stays where they are. A thread of ours follows the job (the one reliable way for
a thread to show something in the cell it belongs to) and sends what is new at most ten times a
second, each piece bounded; a view drawn later gets a bounded tail first. The page sends a typed
line in the Enter key's own message, so the program gets exactly what was in the box. While the
program runs, a heartbeat goes out every second: if it stops, the page says the kernel may be
gone; if the kernel restarts, the page says so at once.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from pathlib import Path

from labsock.logic.program_errors import REUSE_NOTE, reuse_note  # noqa: F401 (tests read it here)
from labsock.logic.text import escape_controls
from labsock.show.optional import anywidget
from labsock.show.views import shown_as_text

SHOWN_LINES = 1000  # the page's box keeps the newest lines, up to this many
SHOWN_CHARACTERS = 100_000  # and up to this many characters (one piece at most this long)
TEXT_LINES = 200  # the plain-text twin shows fewer
MAX_RATE = 10.0  # pieces a second, at most
HEARTBEAT = 1.0  # seconds between heartbeats while the program runs


def visible(text: str) -> str:
    """Control characters shown as escapes: a program's output must not drive the page."""
    return escape_controls(text, keep_lines=True)


@functools.cache
def _widget_class():
    """The anywidget class, made on first use: `import labsock` stays light."""
    from traitlets import Bool, Int, List, Unicode

    here = Path(__file__).parent

    class ProgramWidget(anywidget().AnyWidget):
        _esm = here / "program_view.js"
        _css = here / "program_view.css"
        key = Unicode().tag(sync=True)  # one per view: the page's output store for this model
        name = Unicode().tag(sync=True)
        state_line = Unicode().tag(sync=True)
        running = Bool().tag(sync=True)
        waiting = Bool().tag(sync=True)  # in input(): the text box shows
        prompt = Unicode().tag(sync=True)
        notes = List(Unicode()).tag(sync=True)
        beat = Int().tag(sync=True)
        # The output when the view was made; what follows comes as pieces (custom messages).
        tail = Unicode().tag(sync=True)
        tail_end = Int().tag(sync=True)
        tail_lines = Int().tag(sync=True)
        max_lines = Int(SHOWN_LINES).tag(sync=True)
        max_chars = Int(SHOWN_CHARACTERS).tag(sync=True)
        kept = Unicode().tag(sync=True)  # how much of its output the job keeps, in words

    return ProgramWidget


class ProgramView:
    """The live view of one job (see the module docstring); view.stop() ends the following."""

    def __init__(self, job, lines: int = TEXT_LINES):
        self.job = job
        self.lines = lines
        self.redraws = 0
        _catch_up_with_output(job)
        self._text_snapshot = self.text()  # what it printed before it waited
        self._send_lock = threading.Lock()  # pieces go out in order, each once
        self._cursor: int | None = None
        text, self._cursor, printed, _ = job.output_record.follow(None, SHOWN_CHARACTERS)
        self.widget = _widget_class()(
            key=secrets.token_hex(8),
            name=job.name,
            tail=visible(_last_lines(text, self._cursor)),
            tail_end=self._cursor,
            tail_lines=printed,
            kept=f"{job.output_record.limit:,} characters",
        )
        self.widget.on_msg(self._on_message)
        self._stopped = threading.Event()
        self.redraw()
        self._thread = threading.Thread(
            target=self._follow, name=f"labsock-view-{job.name}", daemon=True
        )
        self._thread.start()

    # -- what the page asks for -----------------------------------------------------------------

    def press_stop(self) -> str:
        self.job.stop()
        self.redraw()
        return self.job.state()

    def send_line(self, line: str) -> str | None:
        """Give the program the line typed in the page; None, or why it could not."""
        if not self.job.running:
            return f"not sent: {self.job.name} has ended."
        self.job.type(line)
        self.redraw()
        return None

    def _on_message(self, _widget, content, _buffers) -> None:
        kind = content.get("kind")
        if kind == "line":
            refused = self.send_line(str(content.get("text", "")))
            self.widget.send({"kind": "delivered", "id": content.get("id"), "refused": refused})
        elif kind == "stop":
            self.press_stop()
        elif kind == "tail":  # a view missed pieces: it starts again from a bounded tail
            with self._send_lock:
                self._cursor = None
            self._send_output()

    # -- drawing --------------------------------------------------------------------------------

    def redraw(self) -> None:
        job, widget = self.job, self.widget
        self.redraws += 1
        notes = list(job.notes)
        if job.reuse_added:
            notes.append(reuse_note(job.code))
        with widget.hold_sync():
            widget.state_line = visible(job.state())
            widget.running = job.running
            widget.waiting = job.needs_input
            widget.prompt = visible(job.prompt or "")
            widget.notes = notes
            if job.running:
                widget.beat += 1
        self._send_output()

    def _send_output(self) -> None:
        """What is new since the last piece, as a piece (or a fresh tail after a gap)."""
        with self._send_lock:
            start = self._cursor
            text, end, printed, follows = self.job.output_record.follow(start, SHOWN_CHARACTERS)
            if follows and not text:
                return
            self._cursor = end
            if follows:
                piece = {"kind": "output", "start": start, "end": end}
            else:  # the view starts over
                text = _last_lines(text, end)
                piece = {"kind": "tail"}
            piece.update(end=end, lines=printed, text=visible(text))
            self.widget.send(piece)

    def _follow(self) -> None:
        job, version = self.job, -1
        while not self._stopped.is_set():
            version = job.wait_for_change(version, HEARTBEAT)
            self.redraw()
            if not job.running and job.version == version:
                self.redraw()  # the last picture, after the final output
                return
            self._stopped.wait(1.0 / MAX_RATE)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    # -- outside JupyterLab ---------------------------------------------------------------------

    def text(self) -> str:
        """The job as plain text: state, what it printed so far (which ends with the
        explanation, if it failed), and what labsock did for it."""
        job = self.job
        lines = [job.state()]
        tail, hidden = job.output_record.tail(self.lines)
        if hidden:
            lines.append(f"(the last {self.lines} lines of output)")
        if tail:
            lines.append(visible(tail))
        lines.extend(job.notes)
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        # Taken when the view is shown: the cell returns once the program waits, so this is
        # what it printed before waiting, the same at every run (a notebook test compares it).
        return shown_as_text(self.widget, self._text_snapshot)

    def __repr__(self) -> str:
        return self.text()


def _catch_up_with_output(job, timeout: float = 1.0) -> None:
    """Until the output holds all the program printed before it waited (its prompt, say): it
    comes through a pipe, which may lag the program's report that it waits."""
    deadline = time.monotonic() + timeout
    while job.running and not job.output_caught_up() and time.monotonic() < deadline:
        job.wait_for_change(job.version, 0.05)


def _last_lines(text: str, end: int) -> str:
    """The newest SHOWN_LINES lines of text, the output's last `len(text)` characters of `end`,
    starting at a line's start (a line cut at its front would read as a different line)."""
    if len(text) < end:
        text = text[text.find("\n") + 1 :]
    ended = text.endswith("\n")
    lines = (text[:-1] if ended else text).split("\n")[-SHOWN_LINES:]
    return "\n".join(lines) + ("\n" if ended and lines != [""] else "")
