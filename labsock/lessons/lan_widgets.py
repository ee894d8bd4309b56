"""Task 2 widgets: the server's "let other laptops connect" switch and the client's address form.

Each widget object has methods that do what its buttons do (panel.let_others_connect(True),
panel.send("hi"), panel.preflight()), so a notebook also runs headless. Every change here happens in
the kernel's main thread (widget callbacks), so no locking is needed; only the server log view,
which the core provides, is redrawn from a thread.
"""

from __future__ import annotations

from html import escape

from labsock.lessons import partner
from labsock.logic.errors import LabsockError
from labsock.logic.sentences import sentence_html
from labsock.logic.validation import PORT_IN_ITS_BOX
from labsock.show.optional import widgets
from labsock.show.views import shown_as_text, watch

_COLOURS = {partner.OK: "green", partner.WARNING: "#a60", partner.ERROR: "#b00"}


class ServerPanel:
    """A server with a 'Let other laptops connect' switch, what to tell the partner, and its log."""

    def __init__(self, server=None, proto="udp", port=12000, reply="upper", addresses=None):
        ui = widgets()
        self.server = server or partner.serve_for_partner(proto, port, reply=reply)
        self._addresses = addresses
        self.switch = ui.Checkbox(
            value=not self.server.host.startswith("127."),
            description="Let other laptops connect",
            indent=False,
        )
        # What the code last asked for (let_others_connect): at first, where the server started.
        self._asked = self.switch.value
        self.note = ui.HTML()
        self.info = ui.HTML()
        self._view = watch(self.server)
        self._log_box = ui.VBox([self._view.widget])
        self.switch.observe(lambda change: self._move(change["new"]), "value")
        self.widget = ui.VBox([self.switch, self.note, self.info, self._log_box])
        self._show_sharing()

    def _show_sharing(self) -> None:
        self.sharing = partner.sharing(self.server, addresses=self._addresses)
        self.info.value = self.sharing._repr_html_()

    def let_others_connect(self, on: bool = True):
        """The switch's twin: the server on 0.0.0.0 (on) or 127.0.0.1 (off), box ticked to match.

        A call that asks for what the previous call asked for (a re-run cell, or Run All) leaves
        a choice made in the box since then alone, and says so: the box and the server agree,
        and the student's click is not undone behind their back.
        """
        on = bool(on)
        if on == self._asked and self.switch.value != on:
            state = "ticked: other laptops can connect" if self.switch.value else "unticked"
            self.note.value = sentence_html(
                f"`panel.let_others_connect({on})` asked for the same as before, so it left the "
                f"box as you set it ({state}). To change it, click the box."
            )
            return self.server
        self._asked = on
        self.note.value = ""
        if self.switch.value != on:
            self.switch.value = on  # moves the server, through the observer
        else:
            self._move(on)
        return self.server

    def _move(self, on: bool):
        """What ticking or unticking does: restart the server on 0.0.0.0 or 127.0.0.1."""
        old = self.server
        if old.running and (old.host == "0.0.0.0") == on:
            self._show_sharing()  # already listening where asked: keep the server and its log
            return old
        try:
            self.server = partner.serve_for_partner(
                old.protocol, old.port, let_others_connect=on, reply=old.reply
            )
        except LabsockError as exc:
            self.info.value = f"<p style='color:#b00'>{sentence_html(str(exc))}</p>"
            return old
        self._view.stop()
        self._view = watch(self.server)
        self._log_box.children = [self._view.widget]
        self._show_sharing()
        return self.server

    def stop(self) -> None:
        self._view.stop()
        self.server.stop()
        self._view.status.show()  # it says stopped, and offers to start again

    def _repr_mimebundle_(self, **kwargs):
        return shown_as_text(
            self.widget,
            f"<server panel: {self.server.protocol.upper()} port {self.server.port}; run this "
            "cell in JupyterLab to use the switch>",
        )


class ClientPanel:
    """Server IP + port + message + Send, checked as typed; 'Can I reach it?' runs preflight."""

    def __init__(
        self, host="127.0.0.1", port=12000, proto="udp", message="hello partner", addresses=None
    ):
        ui = widgets()
        self._addresses = addresses
        self.host_box = ui.Text(value=str(host), description="Server IP:")
        # Text, not IntText: IntText silently turns '12OOO' back into the old number.
        self.port_box = ui.Text(value=str(port), description="Port:")
        self.proto_box = ui.ToggleButtons(
            options=["udp", "tcp"], value=proto, style={"button_width": "4em"}
        )
        self.message_box = ui.Text(value=message, description="Message:")
        self.send_button = ui.Button(description="Send", button_style="primary")
        self.preflight_button = ui.Button(description="Can I reach it?")
        self.verdict = ui.HTML()
        self.result = ui.HTML()
        self.history: list[str] = []
        for box in (self.host_box, self.port_box):
            box.observe(lambda _change: self._address_changed(), "value")
        self.send_button.on_click(lambda _b: self.send(self.message_box.value))
        self.message_box.on_msg(self._on_enter)
        self.preflight_button.on_click(lambda _b: self.preflight())
        self.widget = ui.VBox(
            [
                ui.HBox([self.host_box, self.port_box, self.proto_box]),
                self.verdict,
                ui.HBox([self.message_box, self.send_button, self.preflight_button]),
                self.result,
            ]
        )
        self.validate()

    def _addresses_now(self):
        if self._addresses is None:
            from labsock.net.addresses import find_my_ipv4

            # Read once per panel: interfaces rarely change while a student types.
            self._addresses = find_my_ipv4()
        return self._addresses

    def _on_enter(self, _widget, content, _buffers) -> None:
        if content.get("event") == "submit" and not self.send_button.disabled:
            self.send(self.message_box.value)

    def _address_changed(self) -> None:
        # A reply from the old address must not stand under the new address's verdict.
        self.result.value = ""
        self.validate()

    def validate(self) -> partner.DestinationVerdict:
        """Check the boxes as typed; Send is off while the address or port cannot work."""
        host = self.host_box.value.strip()
        addresses = None if host.startswith("127.") else self._addresses_now()
        verdict = partner.assess_destination(
            self.host_box.value, self.port_box.value, addresses, port_goes=PORT_IN_ITS_BOX
        )
        self.verdict.value = (
            f"<span style='color:{_COLOURS[verdict.level]}'>{sentence_html(verdict.text)}</span>"
        )
        self.send_button.disabled = self.preflight_button.disabled = not verdict.ok
        return verdict

    def send(self, message: str) -> str:
        """What Send does: returns (and shows) the reply or the reason there is none."""
        verdict = self.validate()
        if not verdict.ok:
            return self._show(f"not sent: {verdict.text}", error=True)
        if not str(message).strip():
            return self._show("not sent: the message is empty. Type a message first.", True)
        try:
            reply = partner.send_to_partner(
                message,
                verdict.host,
                verdict.port,
                self.proto_box.value,
                addresses=self._addresses,
            )
        except LabsockError as exc:
            return self._show(f"error: {exc}", error=True)
        return self._show(
            f"sent {message!r}, reply {str(reply)!r} ({reply.rtt_ms:.1f} ms)", typed=True
        )

    def preflight(self):
        """What 'Can I reach it?' does: a preflight of the typed address, shown in the panel."""
        from labsock.net.preflight import preflight

        verdict = self.validate()
        if not verdict.ok:
            self._show(f"not checked: {verdict.text}", error=True)
            return None
        report = preflight(verdict.host, verdict.port, addresses=self._addresses)
        self.result.value = report._repr_html_()
        self.history.append(str(report))
        return report

    def _show(self, text: str, error: bool = False, typed: bool = False) -> str:
        # typed: the text holds what was typed and received, shown exactly as it is.
        style = " style='color:#b00'" if error else ""
        shown = escape(text) if typed else sentence_html(text)
        self.result.value = f"<span{style}>{shown}</span>"
        self.history.append(text)
        return text

    def _repr_mimebundle_(self, **kwargs):
        return shown_as_text(
            self.widget, "<client panel: run this cell in JupyterLab to type and send>"
        )


def server_panel(server=None, proto="udp", port=12000, reply="upper") -> ServerPanel:
    """The server laptop's panel (starts a server on 127.0.0.1 unless given one)."""
    return ServerPanel(server, proto, port, reply)


def client_panel(host="127.0.0.1", port=12000, proto="udp", message="hello partner") -> ClientPanel:
    """The client laptop's panel: type the partner's address, check it, send."""
    return ClientPanel(host, port, proto, message)
