"""A laptop's IPv4 addresses, labelled: which one to give a partner, and why not the others.

A laptop has several addresses: loopback, the Wi-Fi, and often virtual adapters (WSL, VirtualBox,
Docker, a VPN) whose addresses a partner on the Wi-Fi can never reach. Students pick the wrong one
more often than not, so each address gets a label and one is suggested.

Pure: the labelling takes Interface records (labsock.net.addresses reads them from the system),
so it is tested with adapter lists as Windows, macOS and Linux name them. On Windows an adapter
has a name ("Wi-Fi", "vEthernet (WSL)") and a device description ("Hyper-V Virtual Ethernet
Adapter"); labelling looks at both, since a student may have renamed the adapter.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from labsock.logic.tables import text_table

# What an address is, from the partner's point of view.
LOOPBACK = "loopback"
LINK_LOCAL = "link-local"
VIRTUAL = "virtual"
WIFI = "wifi"
ETHERNET = "ethernet"
LAN = "lan"  # Wi-Fi or Ethernet, the name doesn't say which (macOS en0, en1)
OTHER = "other"

# Kinds a partner on the same Wi-Fi or cable can reach, best first.
REACHABLE_KINDS = (WIFI, ETHERNET, LAN)

# Virtual adapters, checked before Wi-Fi and Ethernet because their names often contain those
# words ("vEthernet", "Microsoft Wi-Fi Direct Virtual Adapter"). Each: pattern, what it is.
# Patterns are matched against the name and the description, lower-cased.
_VIRTUAL = [
    (r"vethernet|hyper-v|default switch", "WSL / Hyper-V virtual adapter"),
    (r"virtualbox|^vboxnet", "VirtualBox virtual adapter"),
    (r"vmware|^vmnet", "VMware virtual adapter"),
    (r"docker|^br-[0-9a-f]{6,}$|^veth", "Docker virtual network"),
    (r"^virbr", "libvirt (virtual machines) network"),
    (r"^bridge\d+$", "macOS Internet Sharing / virtual machine bridge"),
    (r"^awdl\d*$|^llw\d*$", "AirDrop (Apple Wireless Direct Link)"),
    (r"wi-fi direct|^local area connection\*", "Windows Wi-Fi Direct / mobile hotspot adapter"),
    (r"bluetooth|^bnep\d", "Bluetooth network (not the Wi-Fi)"),
    (r"tailscale", "Tailscale VPN"),
    (r"zerotier|^zt[0-9a-z]{6,}$", "ZeroTier VPN"),
    (r"wireguard|^wg\d", "WireGuard VPN"),
    (
        r"openvpn|tap-windows|^tun\d|^tap\d|^utun\d|^ppp\d|vpn|anyconnect|globalprotect|pangp"
        r"|fortinet|forticlient|juniper|pulse secure",
        "VPN tunnel",
    ),
]
_WIFI = r"wi-?fi|wlan|wireless|802\.11|^wl|airport"
_ETHERNET = r"ethernet|^eth\d|^en[opsx]|^enx|gbe|gigabit|realtek pcie|^em\d"
_MAC_EN = r"^en\d+$"  # macOS: en0 is Wi-Fi on a MacBook but Ethernet on an iMac or Mac mini


@dataclass(frozen=True)
class Interface:
    """One IPv4 address of one adapter, as the system reports it (before labelling)."""

    name: str  # "Wi-Fi", "en0", "wlp2s0"
    ip: str
    prefix: int = 24
    description: str = ""  # Windows: the device ("Intel(R) Wi-Fi 6 AX201"); elsewhere empty


@dataclass(frozen=True)
class Address:
    """An Interface with a label saying whether a partner can use it."""

    name: str
    ip: str
    prefix: int
    kind: str
    what: str  # what the address is, in words
    description: str = ""
    suggested: bool = False

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.ip}/{self.prefix}", strict=False)

    @property
    def partner_can_use(self) -> bool:
        return self.kind in REACHABLE_KINDS

    def contains(self, ip: str) -> bool:
        """True when ip is on this address's network (same subnet, so no router in between)."""
        try:
            return ipaddress.IPv4Address(ip) in self.network
        except ValueError:
            return False


def _matches(pattern: str, iface: Interface) -> bool:
    return any(re.search(pattern, text.lower()) for text in (iface.name, iface.description) if text)


def label(iface: Interface) -> Address:
    """Say what one address is. Pure: depends only on the name, description and address."""
    ip = ipaddress.IPv4Address(iface.ip)

    def make(kind: str, what: str) -> Address:
        return Address(iface.name, iface.ip, iface.prefix, kind, what, iface.description)

    if ip.is_loopback:
        return make(LOOPBACK, "loopback: this laptop only (127.0.0.1 is the lab's default)")
    if ip.is_link_local:
        return make(
            LINK_LOCAL,
            "link-local (169.254.x.x): this adapter got no address from a network (not "
            "connected, or no DHCP answer); nobody else can use it",
        )
    if ip.is_unspecified:
        return make(OTHER, "no address yet (0.0.0.0)")
    for pattern, what in _VIRTUAL:
        if _matches(pattern, iface):
            return make(VIRTUAL, f"{what}: a partner on the Wi-Fi cannot reach it")
    if _matches(_WIFI, iface):
        return make(WIFI, "Wi-Fi")
    if _matches(_MAC_EN, iface):
        return make(LAN, "Wi-Fi or Ethernet")
    if _matches(_ETHERNET, iface):
        return make(ETHERNET, "Ethernet (cable)")
    return make(OTHER, "unknown adapter: probably not the one your partner can reach")


# RFC 1918: what home routers and most campus Wi-Fis hand out (ipaddress's is_private also counts
# documentation and other special ranges, which is not what we mean here).
_HOME_AND_CAMPUS_RANGES = [
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
]


def _preference(address: Address) -> tuple:
    # Wi-Fi first (the lab's partners share the Wi-Fi), then cable; on ties private ranges
    # (10/8, 172.16/12, 192.168/16) before others, then the system's order (stable sort).
    kind_rank = REACHABLE_KINDS.index(address.kind)
    ip = ipaddress.IPv4Address(address.ip)
    return (kind_rank, not any(ip in net for net in _HOME_AND_CAMPUS_RANGES))


def label_all(interfaces, *, in_wsl: bool = False) -> AddressList:
    """Label every address and mark the one to give a partner (if any). in_wsl: the addresses
    are WSL's own (then the list says that a partner cannot reach them)."""
    labelled = [label(iface) for iface in interfaces]
    candidates = sorted((a for a in labelled if a.partner_can_use), key=_preference)
    best = candidates[0] if candidates else None
    marked = [
        Address(a.name, a.ip, a.prefix, a.kind, a.what, a.description, suggested=a is best)
        for a in labelled
    ]
    return AddressList(marked, in_wsl=in_wsl)


WSL_NOTE = (
    "This Python runs inside WSL: its addresses belong to a virtual network behind Windows, and a "
    "partner cannot reach them. Run the server with Python on Windows itself, or look up the "
    "Windows Wi-Fi address with `ipconfig` in a Windows terminal (WSL's 'mirrored' networking "
    "mode also works)."
)


class AddressList(list):
    """A list of Address that shows itself as a table (in Jupyter and in a terminal)."""

    def __init__(self, addresses=(), *, in_wsl: bool = False):
        super().__init__(addresses)
        self.in_wsl = in_wsl

    @property
    def suggested(self) -> Address | None:
        return next((a for a in self if a.suggested), None)

    def network_of(self, ip: str) -> Address | None:
        """The address of this laptop whose network contains ip, or None (then a router, or
        nothing, lies between this laptop and ip)."""
        return next((a for a in self if a.contains(ip)), None)

    def advice(self) -> str:
        best = self.suggested
        if best is None:
            return (
                "No Wi-Fi or Ethernet address found: connect this laptop to the same Wi-Fi as "
                "your partner, then look again. Until then only 127.0.0.1 (this laptop) works."
            )
        others = [a for a in self if a.partner_can_use and a is not best]
        text = f"Give your partner {best.ip} (the {best.name} address)."
        if others:
            alt = ", ".join(f"{a.ip} ({a.name})" for a in others)
            text += f" If that one fails, try {alt}: the one on the Wi-Fi you share."
        return text

    def rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for a in self:
            what = a.what + ("  <-- give this one to your partner" if a.suggested else "")
            rows.append((a.name, f"{a.ip}/{a.prefix}", what))
        return rows

    def __str__(self) -> str:
        lines = text_table([("Interface", "IPv4 address", "What it is"), *self.rows()])
        lines.append("")
        lines.append(self.advice())
        if self.in_wsl:
            lines.append(WSL_NOTE)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from html import escape

        from labsock.logic.sentences import sentence_html

        cells = []
        for a, (name, ip, what) in zip(self, self.rows(), strict=True):
            style = ' style="font-weight:bold"' if a.suggested else ""
            cells.append(
                f"<tr{style}><td>{escape(name)}</td><td><code>{escape(ip)}</code></td>"
                f"<td style='text-align:left'>{escape(what)}</td></tr>"
            )
        notes = sentence_html(self.advice())
        if self.in_wsl:
            notes += "<br>" + sentence_html(WSL_NOTE)
        return (
            "<table><tr><th>Interface</th><th>IPv4 address</th><th>What it is</th></tr>"
            + "".join(cells)
            + f"</table><p>{notes}</p>"
        )
