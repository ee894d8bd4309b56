"""Notebook views: widgets redrawn from a log at a bounded rate, and the message box.

ipywidgets is imported only here, and only when a view is made, so `import labsock` stays light
and the command line never needs it. A view changes widget values from its own thread (the one
reliable way for a thread to show something in Jupyter) at most max_rate times a second, however
fast messages come: each redraw is a message to the browser, and too many freeze the notebook.
"""

from __future__ import annotations

import threading
from html import escape

from labsock.logic.errors import LabsockError
from labsock.show.as_html import log_html
from labsock.show.optional import widgets


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
    """An HTML widget kept in step with a log: redrawn when the log changes, max_rate a second.

    render() returns the HTML to show. when_quiet: also redraw once a second while nothing
    arrives (a view with rates, which must fall when the senders stop). The view ends by itself
    when the log closes (its server stopped), after drawing the last picture.
    """

    def __init__(
        self,
        log,
        render,
        *,
        max_rate: float = 10.0,
        label: str = "live view",
        when_quiet: bool = False,
        thread_name: str = "labsock-view",
    ):
        self.picture = widgets().HTML(render())
        self.widget = self.picture
        self.label = label
        self.redraws = 0
        self._log = log
        self._render = render
        self._interval = 1.0 / max_rate
        self._when_quiet = when_quiet
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._follow, name=thread_name, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        log = self._log
        cursor = log.total
        while not self._stopped.is_set():
            # The timeout lets stop() be noticed, and a quiet view redraw, while the log is quiet.
            log.wait(cursor, 1.0)
            if log.total == cursor and not log.closed and not self._when_quiet:
                continue
            cursor = log.total
            self.picture.value = self._render()
            self.redraws += 1
            if log.closed:
                return  # the server stopped: this was the last picture
            self._stopped.wait(self._interval)

    @property
    def following(self) -> bool:
        """True while the view still follows its log."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the view has stopped following its log; True once it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        """Stop following the log (the widget keeps its last picture)."""
        self._stopped.set()
        self._thread.join()

    def _repr_mimebundle_(self, **kwargs):
        return shown_as_text(
            self.widget, f"<{self.label}: run this cell in JupyterLab to see it live>"
        )


def watch(server, rows: int = 20) -> LiveView:
    """A live view of a server's log: the latest rows messages, redrawn at most ten times a
    second, until the server stops."""

    def render() -> str:
        return f"<div><i>{escape(server.describe())}</i></div>" + log_html(server.log, rows)

    return LiveView(server.log, render, label=f"live view of the {server.protocol.upper()} log")


class MessageBox:
    """Type a message, press Send: the widget form of send_udp / send_tcp.

    box.send("hello") does what the button does, so the notebook also runs without a browser.
    """

    def __init__(self, proto="udp", host="127.0.0.1", port=12000, *, expect_reply=True, **options):
        from labsock.net.clients import send

        ui = widgets()
        self._send = send
        self.proto, self.host, self.port = proto, host, port
        self.expect_reply = expect_reply
        self.options = options
        self.history: list[tuple[str, str]] = []
        self.text = ui.Text(placeholder="Type a message", description="Message:")
        self.button = ui.Button(description="Send", button_style="primary")
        self.status = ui.HTML("")
        self.button.on_click(lambda _button: self.send(self.text.value))
        self.widget = ui.VBox([ui.HBox([self.text, self.button]), self.status])

    def send(self, message: str) -> str:
        """Send message as the button would; returns (and shows) what happened."""
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
            self.status.value = f"<span style='color:#b00'>{escape(str(exc))}</span>"
        else:
            if reply is None:
                outcome = f"sent {message!r} to {to}; no reply expected: look at the server's log"
            else:
                outcome = f"sent {message!r}, reply {str(reply)!r} ({reply.rtt_ms:.1f} ms)"
            self.status.value = escape(outcome)
        self.history.append((message, outcome))
        return outcome

    def _repr_mimebundle_(self, **kwargs):
        text = f"<message box: sends to {self.host}:{self.port} over {self.proto}>"
        return shown_as_text(self.widget, text)


def message_box(proto="udp", host="127.0.0.1", port=12000, **options) -> MessageBox:
    """A Text box and a Send button that send to a server (widget twin of send_udp/send_tcp)."""
    return MessageBox(proto, host, port, **options)
