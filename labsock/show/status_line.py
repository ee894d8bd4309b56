"""The line above a live view that says whether what it shows still runs, and never lies about it.

    [Start again]  stopped (server.stop() or labsock.stop_all() ran): nothing answers on port 12000

- running: said, and redrawn every second by the view's thread. If the redraws stop (the kernel
  restarted or shut down, and our threads with it), the page itself, after a few seconds, adds
  that nothing is known any more: a hidden part of the line whose CSS animation makes it visible
  unless a redraw replaces it first. So a view never goes on saying "running" about a server that
  went with its kernel.
- stopped: said, with a Start again button where starting again makes sense (a labsock server),
  or what to run instead (a student's program: its cell).
- its server cell failed: said, with the reason, and Try again.
"""

from __future__ import annotations

import weakref

from labsock.logic.errors import LabsockError, NotWrittenYet
from labsock.logic.sentences import sentence_html
from labsock.net.lifecycle import LifeCycle
from labsock.net.ports_here import serving, start_failure
from labsock.show.optional import widgets

HEARTBEAT = 1.0  # seconds between redraws of a running view's status line
QUIET_AFTER = 3  # seconds without a redraw before the page says the kernel may be gone

# Hidden and of no size until the animation's end: hidden text would still take a line's room.
# (font-size 1em in the keyframe is the parent's size.)
_QUIET_STYLE = (
    "<style>@keyframes labsock-quiet { to { visibility: visible; font-size: 1em } }</style>"
)


def kernel_may_be_gone(beat: int, what: str = "it") -> str:
    """HTML that stays hidden while it is redrawn every second, and shows after QUIET_AFTER
    seconds without a redraw. beat: a number that changes at every redraw, so each redraw is
    new HTML and restarts the clock."""
    return (
        f"{_QUIET_STYLE}<span style='visibility: hidden; font-size: 0; color: #b00; "
        f"animation: labsock-quiet 0s {QUIET_AFTER}s forwards'> (no news from the kernel for a "
        f"few seconds: was it restarted or shut down? Then {what} has stopped with it; run "
        f"this cell again.)</span><!-- {beat} -->"
    )


def state_of(source) -> tuple[bool, str, str | None]:
    """(running, what to say, the label of a button that starts it again or None).

    source: a labsock server, a student's program (a Job), or a bare log.
    """
    kind = source.kind if isinstance(source, LifeCycle) else "log"
    if kind == "program":
        if source.running:
            return True, source.state(), None
        if source.error_kind == NotWrittenYet.__name__:
            return False, str(NotWrittenYet(program=source.name)), None
        return (
            False,
            f"{source.state()}: {source.name} is not running, so nothing new shows here. Run "
            f"its cell (%%background {source.name}) again, then this one.",
            None,
        )
    if kind in ("server", "web server"):
        proto, port = source.protocol, source.port
        where = f"{proto.upper()} server on {source.host}:{port}"
        if source.running:
            if kind == "web server":
                return True, f"running: {where}, serving the files of {source.folder}", None
            reply = getattr(source.reply, "__name__", "your function")
            return True, f"running: {where}, reply: {reply}", None
        newer = serving(proto, port)
        if newer is not None:
            return (
                False,
                f"stopped: this {where} was replaced by a newer one on port {port} (its cell was "
                "run again): that cell's view shows it.",
                None,
            )
        failure = start_failure(proto, port)
        if failure is not None:
            return False, f"not running: the server cell failed. {failure}", "Try again"
        return (
            False,
            f"stopped: this {where} was stopped (server.stop() or labsock.stop_all() ran); "
            f"nothing of this notebook answers on port {port} now.",
            "Start again",
        )
    if kind == "relay":
        return _relay_state(source)
    log = getattr(source, "log", source)
    if log.closed:
        return False, "stopped: the server of this log has stopped.", None
    return True, "running", None


def _relay_state(relay) -> tuple[bool, str, str | None]:
    target = f"{relay.target[0]}:{relay.target[1]}"
    where = f"{relay.what} from {relay.host}:{relay.port} to {target}"
    if relay.running:
        return True, f"running: {where}; {relay.describe()}", None
    problem = f" It said: {relay.problems[-1]}" if relay.problems else ""
    return (
        False,
        f"stopped: {where} was stopped (relay.stop() or labsock.stop_all() ran); nothing "
        f"relays from port {relay.port} to {target} now.{problem}",
        "Start again",
    )


# Every status line, so that a server started again from one widget (the message box's Start
# again, say) shows as running in every view of it.
_lines: weakref.WeakSet = weakref.WeakSet()


def started_again(source) -> None:
    """Tell every status line of source that it runs again (each view follows it again)."""
    for line in list(_lines):
        if line.source is source:
            line.follow_again()


class StatusLine:
    """A Start again button and the state of source, redrawn by show()."""

    def __init__(self, source, what: str = "the server", on_start=None):
        ui = widgets()
        self.source = source
        self.what = what
        self.html = ui.HTML()
        self.button = ui.Button(description="Start again", button_style="success")
        self.button.layout.display = "none"
        self.button.on_click(lambda _button: self.start_again())
        self.widget = ui.HBox([self.button, self.html])
        self._on_start = on_start
        self._beat = 0
        self._error = ""
        _lines.add(self)
        self.show()

    def show(self, following: bool = True) -> str:
        """Redraw the line; following=False: the view has stopped following (say so)."""
        running, text, button = state_of(self.source)
        self._beat += 1
        html = sentence_html(text)
        if running and following:
            html = f"<b>{html}</b>{kernel_may_be_gone(self._beat, self.what)}"
        elif running:
            html = f"<b>{html}</b> <i>(this view no longer follows it)</i>"
        else:
            html = f"<b style='color:#b00'>{html}</b>"
        if self._error:
            html += f"<div style='color:#b00'>{sentence_html(self._error)}</div>"
        self.html.value = html
        self.button.description = button or "Start again"
        self.button.layout.display = None if button else "none"
        return text

    def start_again(self) -> str:
        """What the button does: start the source again; the views of it follow it again."""
        self._error = ""
        try:
            self.source.start()
        except LabsockError as exc:
            self._error = f"Could not start it: {exc}"
            return self.show()
        started_again(self.source)
        return self.show()

    def follow_again(self) -> None:
        if self._on_start is not None:
            self._on_start()
        self.show()
