"""Notebook views: widgets redrawn from a log at a bounded rate, and the message box.

ipywidgets is imported only here, and only when a view is made, so `import labsock` stays light
and the command line never needs it. A view changes widget values from its own thread (the one
reliable way for a thread to show something in Jupyter) at most max_rate times a second, however
fast messages come: each redraw is a message to the browser, and too many freeze the notebook.
"""

from __future__ import annotations

import threading
import time
from html import escape

from labsock.logic.errors import LabsockError
from labsock.logic.sentences import sentence_html
from labsock.net.interrupts import interruptible
from labsock.net.lifecycle import SERVES_A_PORT, LifeCycle
from labsock.net.ports_here import server_cell_failed, serving
from labsock.show.as_html import log_html
from labsock.show.optional import widgets
from labsock.show.status_line import HEARTBEAT, StatusLine, started_again


def shown_as_text(widget, text: str):
    """A widget's display bundle with text in place of its text/plain.

    The default text is the widget's repr, with random model ids and its changing contents;
    this text repeats from run to run, so a notebook test (nbval) can compare it.
    """
    bundle = widget._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    data["text/plain"] = text
    return bundle


def live_text(label: str) -> str:
    """What a live view says in place of itself where it cannot be drawn live."""
    return f"<{label}: run this cell in JupyterLab to see it live>"


class LiveView:
    """An HTML widget kept in step with a log: redrawn when the log changes, max_rate a second,
    under a status line (labsock.show.status_line) that says whether its source still runs.

    render() returns the HTML to show. source: what fills the log (a server, a student's program;
    default: the log itself), for the status line. when_quiet: also redraw the picture once a
    second while nothing arrives (a view with rates, which must fall when the senders stop). The
    view stops following when the log closes (its source stopped), after drawing the last
    picture; Start again on its status line starts the source and the following again.
    """

    def __init__(
        self,
        log,
        render,
        *,
        source=None,
        max_rate: float = 10.0,
        label: str = "live view",
        when_quiet: bool = False,
        thread_name: str = "labsock-view",
    ):
        self.picture = widgets().HTML(render())
        self.label = label
        self.redraws = 0
        self._log = log
        self._render = render
        self._interval = 1.0 / max_rate
        self._when_quiet = when_quiet
        self._thread_name = thread_name
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._ended = threading.Event()
        self.status = StatusLine(log if source is None else source, on_start=self._follow_again)
        self.widget = widgets().VBox([self.status.widget, self.picture])
        self._follow_again()

    def _follow_again(self) -> None:
        if self.following:
            return
        self._stopped.clear()
        self._ended = threading.Event()
        self._thread = threading.Thread(
            target=self._follow, args=(self._ended,), name=self._thread_name, daemon=True
        )
        self._thread.start()

    def _follow(self, ended: threading.Event) -> None:
        try:
            self._follow_log()
        finally:
            ended.set()

    def _follow_log(self) -> None:
        log = self._log
        cursor = log.total
        next_beat = 0.0
        while not self._stopped.is_set():
            # At most a heartbeat: the status line is redrawn every second while the log is open.
            log.wait(cursor, HEARTBEAT)
            if time.monotonic() >= next_beat and not log.closed:
                self.status.show()
                next_beat = time.monotonic() + HEARTBEAT
            if log.total == cursor and not log.closed and not self._when_quiet:
                continue
            cursor = log.total
            self.picture.value = self._render()
            self.redraws += 1
            if log.closed:
                self.status.show()
                return  # the source stopped: this was the last picture
            self._stopped.wait(self._interval)

    @property
    def following(self) -> bool:
        """True while the view still follows its log."""
        return self._thread is not None and not self._ended.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the view has stopped following its log; True once it has."""
        with interruptible(f"the {self.label} to end (it ends when its server stops)"):
            # An Event, not join(timeout): on Python 3.11 an interrupted join marks a thread
            # that goes on as ended.
            if self._ended.wait(timeout):
                self._thread.join()
        return not self._thread.is_alive()

    def stop(self) -> None:
        """Stop following the log (the widget keeps its last picture)."""
        self._stopped.set()
        self._thread.join()
        self.status.show(following=False)

    def _repr_mimebundle_(self, **kwargs):
        return shown_as_text(self.widget, live_text(self.label))


def watch(server, rows: int = 20) -> LiveView:
    """A live view of a server's log: the latest rows messages, redrawn at most ten times a
    second, under a line that says whether the server runs (Start again when it stopped).
    A relay (labsock.relay_udp, the TCP slicer) has no log: its view shows its own counts."""
    if isinstance(server, LifeCycle) and server.kind == "relay":
        return LiveView(
            _RelayFeed(server),
            lambda: _relay_html(server),
            source=server,
            label=f"live view of {server.what}",
        )
    return LiveView(
        server.log,
        lambda: log_html(server.log, rows),
        source=server,
        label=f"live view of the {server.protocol.upper()} log",
    )


class _RelayFeed:
    """A relay seen as the log a LiveView follows: its total is the relay's activity, it is
    closed once the relay stopped."""

    def __init__(self, relay):
        self._relay = relay

    @property
    def total(self) -> int:
        return self._relay.activity()

    @property
    def closed(self) -> bool:
        return not self._relay.running

    def wait(self, cursor: int, timeout: float) -> int:
        return self._relay.wait_for_change(cursor, timeout)


def _relay_html(relay) -> str:
    """What a relay did so far: its counts (per client and direction for the UDP relay)."""
    if hasattr(relay, "table"):
        text = relay.table()
    else:
        text = "  ".join(f"{name}: {value}" for name, value in vars(relay.counts()).items())
    return f"<pre style='margin: 0'>{escape(text)}</pre>"


class MessageBox:
    """Type a message, press Send (or Enter): the widget form of send_udp / send_tcp.

    box.send("hello") does what the button does, so the notebook also runs without a browser.
    When the box sends to a server of this notebook, it says so once that server has stopped
    (and offers to start it again) instead of sending to nobody; when that server's cell failed,
    it says why instead of sending to whatever else holds the port.
    """

    def __init__(self, proto="udp", host="127.0.0.1", port=12000, *, expect_reply=True, **options):
        from labsock.net.clients import send

        if isinstance(proto, LifeCycle) and proto.kind in SERVES_A_PORT:  # send to it
            proto, host, port = proto.protocol, proto.host, proto.port
            host = "127.0.0.1" if host == "0.0.0.0" else host
        ui = widgets()
        self._send = send
        self.proto, self.host, self.port = proto, host, port
        self.expect_reply = expect_reply
        self.options = options
        self.history: list[tuple[str, str]] = []
        self.server = self._server_here()
        self.text = ui.Text(placeholder="Type a message, then Enter", description="Message:")
        self.button = ui.Button(description="Send", button_style="primary")
        self.status = ui.HTML("")
        self.start_button = ui.Button(description="Start it again", button_style="success")
        self.start_button.layout.display = "none"
        self.button.on_click(lambda _button: self.send(self.text.value))
        self.text.on_msg(self._on_enter)
        self.start_button.on_click(lambda _button: self.start_server_again())
        self.widget = ui.VBox(
            [ui.HBox([self.text, self.button]), ui.HBox([self.start_button, self.status])]
        )
        failed = server_cell_failed(self.proto, self.host, self.port)
        if failed:
            self._say(f"This box will not send yet. {failed}", error=True)

    def _on_enter(self, _widget, content, _buffers) -> None:
        if content.get("event") == "submit":  # ipywidgets 8: Enter in a Text box
            self.send(self.text.value)

    def _server_here(self):
        """The running server (or program) of this notebook the box sends to, if any."""
        if not (self.host.startswith("127.") or self.host == "localhost"):
            return None
        return serving(str(self.proto).lower(), self.port)

    def _why_not(self, message: str) -> str | None:
        if not message.strip():
            return "not sent: the message is empty. Type a message first."
        failed = server_cell_failed(str(self.proto).lower(), self.host, self.port)
        if failed:
            return f"not sent. {failed}"
        if self.server is not None and not self.server.running:
            self.server = self._server_here() or self.server  # a newer one from a re-run cell
        if self.server is not None and not self.server.running:
            if self.server.kind == "program":
                name = self.server.name
                return f"not sent: your program {name} has ended. Run its cell again first."
            return (
                f"not sent: the {str(self.proto).upper()} server on {self.host}:{self.port} has "
                "stopped (server.stop() or labsock.stop_all() ran), so nothing would read "
                "the message. Start it again, or run its cell again."
            )
        return None

    def send(self, message: str) -> str:
        """Send message as the button would; returns (and shows) what happened."""
        message = str(message)
        why_not = self._why_not(message)
        if why_not is not None:
            self._say(why_not, error=True, restart=self._can_start_again())
            self.history.append((message, why_not))
            return why_not
        to = f"{self.host}:{self.port} ({str(self.proto).upper()})"  # any proto: said on send
        try:
            reply = self._send(
                self.proto,
                message,
                self.host,
                self.port,
                expect_reply=self.expect_reply,
                **self.options,
            )
        except LabsockError as exc:
            outcome = f"error: {exc}"
            self._say(str(exc), error=True)
        else:
            if reply is None:
                outcome = f"sent {message!r} to {to}; no reply expected: look at the server's log"
            else:
                outcome = f"sent {message!r}, reply {str(reply)!r} ({reply.rtt_ms:.1f} ms)"
            self._say(outcome, typed=True)
        self.history.append((message, outcome))
        return outcome

    def _can_start_again(self) -> bool:
        server = self.server
        return server is not None and not server.running and server.kind != "program"

    def start_server_again(self) -> str:
        """What Start it again does: start the stopped server; its views follow it again."""
        try:
            self.server.start()
        except LabsockError as exc:
            return self._say(f"Could not start it: {exc}", error=True, restart=True)
        started_again(self.server)
        self.port = self.server.port  # the same, unless it was started on any free port (0)
        return self._say(f"started again: {self.server.describe()}. Send again.")

    def _say(
        self, text: str, *, error: bool = False, restart: bool = False, typed: bool = False
    ) -> str:
        # Each outcome replaces the last, so an old reply never stands under a new error.
        # typed: the text holds what was typed and received, shown exactly as it is.
        colour = " style='color:#b00'" if error else ""
        shown = escape(text) if typed else sentence_html(text)
        self.status.value = f"<span{colour}>{shown}</span>"
        self.start_button.layout.display = None if restart else "none"
        return text

    def _repr_mimebundle_(self, **kwargs):
        text = f"<message box: sends to {self.host}:{self.port} over {self.proto}>"
        return shown_as_text(self.widget, text)


def message_box(proto="udp", host="127.0.0.1", port=12000, **options) -> MessageBox:
    """A Text box and a Send button that send to a server (widget twin of send_udp/send_tcp).

    proto may be a server (labsock.message_box(server)): the box then sends to it.
    """
    return MessageBox(proto, host, port, **options)
