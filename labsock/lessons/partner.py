"""Working with a partner's laptop: the plain functions behind the Task 2 widgets.

- serve_for_partner(): a server on 127.0.0.1 (this laptop only) or, when asked, on 0.0.0.0
  (every network of this laptop), and sharing() to say what the partner types and what the
  firewall will ask;
- assess_destination(): the verdict on what is typed in the client's address box;
- send_to_partner(): assess, then send, with a pointer to preflight() when nothing answers.

The widgets in labsock.lessons.lan_widgets call these, so a notebook runs the same steps
without a browser.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from labsock.logic import lan_advice
from labsock.logic.errors import LabsockError
from labsock.logic.reachability import network_note
from labsock.logic.validation import (
    ANY_ADDRESS,
    LOOPBACK,
    PORT_AS_ARGUMENT,
    is_ipv4,
    validate_host,
    validate_port,
)

OK = "ok"
WARNING = "warning"
ERROR = "error"


# -- server side ------------------------------------------------------------------------------


def serve_for_partner(
    proto: str = "udp",
    port: int = 12000,
    *,
    let_others_connect: bool = False,
    reply="upper",
    host: str | None = None,
):
    """Start a server for a partner: on 127.0.0.1 unless let_others_connect (then 0.0.0.0).

    host: one chosen address of this laptop instead (e.g. the Wi-Fi's only). Re-running replaces
    labsock's earlier server on the same port, also when it listened on the other address.
    """
    from labsock.net.servers import UDPServer
    from labsock.net.tcp_server import TCPServer

    if proto not in ("udp", "tcp"):
        raise LabsockError(f"proto={proto!r}: choose 'udp' or 'tcp'.")
    if host is None:
        host = ANY_ADDRESS if let_others_connect else LOOPBACK
    kind = UDPServer if proto == "udp" else TCPServer
    return kind(host, port, reply).start()


@dataclass
class Sharing:
    """What to tell a partner about a running server; shows itself in Jupyter and a terminal."""

    proto: str
    host: str
    port: int
    addresses: object  # an AddressList
    system: str
    program: str

    @property
    def open_to_others(self) -> bool:
        return not self.host.startswith("127.")

    def partner_types(self) -> str | None:
        """The address the partner should type, or None when nobody else can connect."""
        if not self.open_to_others:
            return None
        if self.host != ANY_ADDRESS:
            return self.host
        best = self.addresses.suggested
        return best.ip if best else None

    def paragraphs(self) -> list[str]:
        p = self.proto.upper()
        if not self.open_to_others:
            return [
                f"The {p} server listens on {self.host}, port {self.port}: only this laptop can "
                "reach it. For a partner, turn on 'let other laptops connect' (host='0.0.0.0')."
            ]
        where = (
            "every network of this laptop (0.0.0.0)"
            if self.host == ANY_ADDRESS
            else f"{self.host} only"
        )
        ip = self.partner_types()
        texts = [f"The {p} server listens on {where}, port {self.port}."]
        if ip:
            texts.append(f"Your partner types: {ip}, port {self.port}, {p}.")
        else:
            texts.append(
                "This laptop has no Wi-Fi or Ethernet address yet: connect it to the Wi-Fi your "
                "partner uses (the address table shows what it has)."
            )
        texts.append(lan_advice.firewall_question(self.system))
        texts.append(
            "If your partner's preflight says 'timeout': "
            + lan_advice.firewall_steps(self.system, self.proto, self.port, self.program)
        )
        return texts

    def __str__(self) -> str:
        text = "\n\n".join(self.paragraphs())
        if self.open_to_others and self.host == ANY_ADDRESS:
            text += "\n\nThis laptop's addresses:\n" + str(self.addresses)
        return text

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from labsock.logic.sentences import sentence_html

        html = "".join(f"<p>{sentence_html(t)}</p>" for t in self.paragraphs())
        if self.open_to_others and self.host == ANY_ADDRESS:
            html += self.addresses._repr_html_()
        return html


def sharing(server=None, *, proto=None, host=None, port=None, addresses=None) -> Sharing:
    """What a partner needs to know about server (or about proto/host/port)."""
    if server is not None:
        proto, host, port = server.protocol, server.host, server.port
    if addresses is None:
        from labsock.net.addresses import find_my_ipv4

        addresses = find_my_ipv4()
    return Sharing(
        proto,
        host,
        port,
        addresses,
        lan_advice.this_system(),
        lan_advice.firewall_program(),
    )


# -- client side ------------------------------------------------------------------------------


@dataclass
class DestinationVerdict:
    """The verdict on what is typed in the address and port boxes."""

    level: str  # OK, WARNING (can send, but probably wrong) or ERROR (cannot send)
    text: str
    host: str | None = None
    port: int | None = None

    @property
    def ok(self) -> bool:
        return self.level != ERROR


def assess_destination(
    host, port, addresses=None, *, port_goes: str = PORT_AS_ARGUMENT
) -> DestinationVerdict:
    """The verdict on an address and port as typed. Never sends anything and never looks a name up.

    addresses: this laptop's addresses (default: read them; only for an IPv4 outside 127/8).
    port_goes: where the port belongs when it was typed with the address (a widget: its box).
    """
    try:
        host = validate_host(host, purpose="destination", port_goes=port_goes)
        port = validate_port(port)
    except LabsockError as exc:
        return DestinationVerdict(ERROR, str(exc))
    if not is_ipv4(host):
        if host.lower() == "localhost":
            return DestinationVerdict(OK, "localhost: this laptop.", host, port)
        return DestinationVerdict(
            WARNING,
            f"{host} is a name; it is looked up when you send. A partner's laptop usually has "
            "no name the Wi-Fi knows: its IPv4 address is safer.",
            host,
            port,
        )
    ip = ipaddress.IPv4Address(host)
    if ip.is_loopback:
        return DestinationVerdict(
            OK, f"{host}: this laptop (loopback); the server must run here too.", host, port
        )
    if ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
        return DestinationVerdict(
            ERROR,
            f"{host} is a group (multicast/broadcast) address, not one laptop. Type the "
            "server laptop's own address.",
        )
    if addresses is None:
        from labsock.net.addresses import find_my_ipv4

        addresses = find_my_ipv4()
    if any(a.ip == host for a in addresses):
        return DestinationVerdict(
            OK, f"{host} is this laptop's own address; the server must run here.", host, port
        )
    mine = addresses.network_of(host)
    if mine is not None and mine.network.broadcast_address == ip and mine.prefix < 31:
        return DestinationVerdict(
            ERROR,
            f"{host} is the broadcast address of your {mine.name} network (every laptop on it), "
            "not one laptop. Type the server laptop's own address.",
        )
    if ip.is_link_local:
        return DestinationVerdict(
            WARNING,
            f"{host} is a link-local address (169.254.x.x): the server laptop's adapter got no "
            "address from the network. Ask your partner for the one marked 'give this one to "
            "your partner'.",
            host,
            port,
        )
    if mine is None:
        return DestinationVerdict(WARNING, network_note(host, addresses), host, port)
    return DestinationVerdict(
        OK, f"{host} is on your {mine.name} network ({mine.network}).", host, port
    )


def send_to_partner(
    message,
    host: str = LOOPBACK,
    port: int = 12000,
    proto: str = "udp",
    *,
    timeout: float = 2.0,
    addresses=None,
):
    """Assess the address, send one message, return the reply (a str with .rtt_ms).

    The plain twin of the client panel's Send button. A warning in the verdict is printed and
    the message sent anyway: the student may know better (a routed lab network, say).
    """
    from labsock.net.clients import send

    verdict = assess_destination(host, port, addresses)
    if not verdict.ok:
        raise LabsockError(verdict.text)
    if verdict.level == WARNING:
        print(f"Note: {verdict.text}")
    try:
        return send(proto, message, verdict.host, verdict.port, timeout=timeout)
    except LabsockError as exc:
        if verdict.host.startswith("127.") or verdict.host == "localhost":
            raise
        raise LabsockError(
            f"{exc} To find out which, run preflight({verdict.host!r}, {verdict.port}) "
            f"(or `python -m labsock preflight {verdict.host} --port {verdict.port}`)."
        ) from None
