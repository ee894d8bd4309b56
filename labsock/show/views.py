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


def _widgets():
    try:
        import ipywidgets
    except ImportError:
        raise LabsockError(
            "Widgets need the ipywidgets package: run `pip install -r requirements.txt` (or "
            "`pip install ipywidgets`), then restart the kernel."
        ) from None
    return ipywidgets


class LiveView:
    """An HTML widget kept in step with a log: redrawn when the log changes, max_rate a second."""

    def __init__(self, log, render, *, max_rate: float = 10.0, label: str = "live view"):
        self.widget = _widgets().HTML(render())
        self.label = label
        self.redraws = 0
        self._log = log
        self._render = render
        self._interval = 1.0 / max_rate
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="labsock-view", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        cursor = self._log.total
        while not self._stopped.is_set():
            # The timeout only lets stop() be noticed while the log is quiet.
            self._log.wait(cursor, 1.0)
            if self._log.total == cursor and not self._log.closed:
                continue
            cursor = self._log.total
            self.widget.value = self._render()
            self.redraws += 1
            if self._log.closed:
                return  # the server stopped: this was the last picture
            self._stopped.wait(self._interval)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        # The default text is the widget's repr with its changing HTML; this one repeats, so a
        # notebook test can compare it.
        data["text/plain"] = f"<{self.label}: run this cell in JupyterLab to see it live>"
        return bundle


def log_view(server, rows: int = 20) -> LiveView:
    def render() -> str:
        return f"<div><i>{escape(server.describe())}</i></div>" + server.log.tail_html(rows)

    return LiveView(server.log, render, label=f"live view of the {server.protocol.upper()} log")


class MessageBox:
    """Type a message, press Send: the widget form of send_udp / send_tcp.

    box.send("hello") does what the button does, so the notebook also runs without a browser.
    """

    def __init__(self, proto="udp", host="127.0.0.1", port=12000, *, expect_reply=True, **options):
        from labsock.net.clients import send

        widgets = _widgets()
        self._send = send
        self.proto, self.host, self.port = proto, host, port
        self.expect_reply = expect_reply
        self.options = options
        self.history: list[tuple[str, str]] = []
        self.text = widgets.Text(placeholder="Type a message", description="Message:")
        self.button = widgets.Button(description="Send", button_style="primary")
        self.status = widgets.HTML("")
        self.button.on_click(lambda _button: self.send(self.text.value))
        self.widget = widgets.VBox([widgets.HBox([self.text, self.button]), self.status])

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
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["text/plain"] = f"<message box: sends to {self.host}:{self.port} over {self.proto}>"
        return bundle


def message_box(proto="udp", host="127.0.0.1", port=12000, **options) -> MessageBox:
    return MessageBox(proto, host, port, **options)
