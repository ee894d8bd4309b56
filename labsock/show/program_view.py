"""What a student's background program shows in its cell: its output, live, and its controls.

    [udp_server: running, waiting in recvfrom; holds UDP 127.0.0.1:12000]   [Stop]
    The server is ready to receive
    ...
    [type a line for the program]  [Send line]     (only while it waits in input())

A thread of ours follows the job and changes widget values (the one reliable way for a thread to
show something in the cell it belongs to; a thread's print lands in whichever cell runs last). It
redraws at most ten times a second and shows only the last lines, so a program printing ten
thousand lines a second costs the browser a bounded message ten times a second. While the program
runs, the status is redrawn every second; if that stops (the kernel restarted or shut down), the
page itself, after three seconds, adds that nothing is known any more, so the widget never goes on
saying "running" about a program that has gone.
"""

from __future__ import annotations

import threading
from html import escape

from labsock.show.optional import widgets
from labsock.show.status_line import kernel_may_be_gone
from labsock.show.views import shown_as_text

SHOWN_LINES = 200
MAX_RATE = 10.0  # redraws a second, at most
HEARTBEAT = 1.0  # seconds between status redraws while the program runs


def visible(text: str) -> str:
    """Control characters shown as escapes: a program's output must not drive the page."""
    return "".join(
        ch if ch in "\n\t" or (ch >= " " and ch != "\x7f") else f"\\x{ord(ch):02x}" for ch in text
    )


class ProgramView:
    """The live view of one job (see the module docstring); view.stop() ends the following."""

    def __init__(self, job, lines: int = SHOWN_LINES):
        ui = widgets()
        self.job = job
        self.lines = lines
        self.redraws = 0
        self.status = ui.HTML()
        self.output = ui.HTML()
        self.stop_button = ui.Button(description="Stop", button_style="danger")
        self.stop_button.on_click(lambda _button: self.press_stop())
        self.typed = ui.Text(placeholder="type a line for the program, then Enter")
        self.send_button = ui.Button(description="Send line")
        self.send_button.on_click(lambda _button: self.send_line())
        self.typed.on_msg(self._on_enter)
        self.input_row = ui.HBox([self.typed, self.send_button])
        self.widget = ui.VBox(
            [ui.HBox([self.stop_button, self.status]), self.input_row, self.output]
        )
        self._beat = 0
        self._stopped = threading.Event()
        self._text_snapshot = self.text()
        self.redraw()
        self._thread = threading.Thread(
            target=self._follow, name=f"labsock-view-{job.name}", daemon=True
        )
        self._thread.start()

    # -- what the buttons do --------------------------------------------------------------------

    def press_stop(self) -> str:
        self.job.stop()
        self.redraw()
        return self.job.state()

    def send_line(self, line: str | None = None) -> None:
        text = self.typed.value if line is None else line
        if self.job.running:
            self.job.type(text)
            self.typed.value = ""
        self.redraw()

    def _on_enter(self, _widget, content, _buffers) -> None:
        if content.get("event") == "submit":
            self.send_line()

    # -- drawing --------------------------------------------------------------------------------

    def redraw(self) -> None:
        job = self.job
        self.redraws += 1
        self._beat += 1
        self.status.value = self._status_html()
        tail, hidden = job.output_record.tail(self.lines)
        head = ""
        if hidden:
            head = (
                f"<i>(the last {self.lines} lines; {hidden:,} earlier lines are not shown here: "
                f"labsock.job({job.name!r}).output has them)</i>\n"
            )
        self.output.value = (
            "<pre style='max-height: 24em; overflow-y: auto; margin: 2px 0'>"
            f"{head}{escape(visible(tail))}</pre>"
            if tail or head
            else ""
        )
        self.stop_button.disabled = not job.running
        waiting = job.needs_input
        self.input_row.layout.display = None if waiting else "none"
        if waiting:
            self.typed.placeholder = f"{job.prompt or 'the program waits for a line'} (Enter)"

    def _status_html(self) -> str:
        job = self.job
        parts = [f"<b>{escape(visible(job.state()))}</b>"]
        if job.error:
            parts.append(f"<div style='color:#b00'>{escape(visible(job.error))}</div>")
        for note in job.notes:
            parts.append(f"<div><i>{escape(note)}</i></div>")
        if job.reuse_added:
            parts.append(f"<div><i>{escape(REUSE_NOTE)}</i></div>")
        if job.running:
            # Shown by the page itself once the redraws stop: the kernel may be gone.
            parts.append(kernel_may_be_gone(self._beat, "this program"))
        return "".join(parts)

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
        """The job as plain text: state, what it printed so far, and the error if any."""
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


REUSE_NOTE = (
    "labsock set SO_REUSEADDR on this TCP server's socket, so the cell can be run again at once. "
    "Outside labsock, add serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1) before bind(), "
    "or a restarted server waits about a minute (TIME_WAIT)."
)
