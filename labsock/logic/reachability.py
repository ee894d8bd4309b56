"""Can this laptop reach a partner's server? The words for each answer: pure, no sockets.

labsock.net.preflight sends a UDP probe and makes a TCP connect; each ends in an outcome
(labsock.logic.errors.outcome_of reads it from the failure, if any):
- ok: a reply came back (UDP) or the connection was accepted (TCP);
- refused: the other laptop answered that nothing listens on that port, so the network and its
  firewall are fine and the server (its port, its protocol, or its 127.0.0.1) is what to check;
- timeout: nothing came back at all: wrong address, a firewall dropping messages, or a Wi-Fi that
  keeps laptops apart (client isolation);
- unreachable: this laptop has no network leading to that address;
- blocked: this laptop's own firewall refused to send.

advice() turns an outcome into a paragraph, and Preflight is the whole report (text and HTML).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labsock.logic import lan_advice
from labsock.logic.errors import BLOCKED, FAILED, OK, REFUSED, TIMEOUT, UNREACHABLE


@dataclass
class Probe:
    """One probe's result."""

    proto: str
    host: str
    port: int
    outcome: str
    rtt_ms: float | None = None
    detail: str = ""  # the system's own words, for the curious (and for a teacher)

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    def line(self) -> str:
        if self.ok:
            what = "reply" if self.proto == "udp" else "connected"
            return f"{self.proto.upper()}  ok        {what} in {self.rtt_ms:.1f} ms"
        return f"{self.proto.upper()}  {self.outcome:<9} {SHORT[self.outcome]}"


SHORT = {
    REFUSED: "the laptop answered: nothing listens on this port",
    TIMEOUT: "no answer at all",
    UNREACHABLE: "no network leads there from this laptop",
    BLOCKED: "this laptop's own firewall did not let the probe out",
    FAILED: "the probe failed",
}


# -- advice -----------------------------------------------------------------------------------


def advice(outcome: str, proto: str, host: str, port: int, *, system: str, program: str) -> str:
    """What to check after a probe's outcome, in one paragraph. proto: "udp", "tcp" or "both"
    (both probes had this outcome)."""
    p = "UDP and TCP" if proto == "both" else proto.upper()
    if outcome == OK:
        return f"{host} answers on port {port} ({p}): send away."
    if host.startswith("127."):
        return _loopback_advice(outcome, p, port)
    if outcome == REFUSED:
        which = (
            ""
            if proto == "both"
            else f", and is it a {p} server (a UDP server does not answer TCP)"
        )
        return (
            f"{host} answered, but nothing listens on port {port} ({p}). So the address is right "
            "and no firewall is in the way. Check on the server laptop: is the server running, "
            f"on port {port}{which}? If it listens on 127.0.0.1 it is for its own laptop only: "
            "restart it with 'let other laptops connect' on (host 0.0.0.0)."
        )
    if outcome == TIMEOUT:
        return (
            f"Nothing came back from {host} on port {port} ({p}), not even a refusal: the "
            "messages are lost on the way. In order of likelihood: (1) a firewall on the server "
            "laptop drops them (a Windows laptop drops them even when no server runs). "
            + lan_advice.firewall_one_liners(proto, port)
            + " (2) The address is wrong: it must be the one the server laptop marks 'give this "
            "one to your partner', not a virtual adapter's. (3) The Wi-Fi keeps laptops apart "
            "(client isolation, common on campus and guest networks): try both laptops on a "
            "phone's hotspot; if it works there, ask IT or use the hotspot for the lab."
        )
    if outcome == UNREACHABLE:
        return (
            f"This laptop has no network leading to {host}. Is the Wi-Fi connected? Is {host} "
            "your partner's address on the same Wi-Fi (usually the same first three numbers as "
            "yours)? `python -m labsock addresses` lists your networks."
        )
    if outcome == BLOCKED:
        return (
            f"This laptop refused to send to {host}:{port} ({p}): a firewall rule here blocks "
            "outgoing messages (or the address is a broadcast address). "
            + (
                "Check the firewall or antivirus settings for this Python: " + program + "."
                if system != lan_advice.LINUX
                else "Check `sudo nft list ruleset` or `sudo iptables -L OUTPUT`."
            )
        )
    return f"The {p} probe to {host}:{port} failed in an unusual way; the details are below."


def _loopback_advice(outcome: str, p: str, port: int) -> str:
    if outcome == REFUSED:
        return (
            f"Nothing listens on port {port} ({p}) on this laptop: run the server's cell (or "
            "`python -m labsock serve`) first, and check the port and the protocol."
        )
    if outcome == TIMEOUT:
        return (
            f"The server on this laptop, port {port} ({p}), did not answer in time. Firewalls "
            "leave 127.0.0.1 alone, so look at the server: does it reply at all (reply='none' "
            "never does)? Is it still running?"
        )
    return f"Even this laptop's own port {port} ({p}) could not be reached: see the details below."


def combined_advice(probes: list[Probe]) -> str | None:
    """One sentence when the two probes disagree (None when there is nothing to add)."""
    good = [p for p in probes if p.ok]
    bad = [p for p in probes if not p.ok]
    if good and bad:
        ok_names = " and ".join(p.proto.upper() for p in good)
        bad_names = " and ".join(p.proto.upper() for p in bad)
        return (
            f"The server answers {ok_names}, so the address and the firewall are right. The "
            f"{bad_names} probe did not get through: that is expected if the server only "
            f"speaks {ok_names}."
        )
    return None


# -- the whole check --------------------------------------------------------------------------


@dataclass
class Preflight:
    """The result of preflight(): shows itself as a short report (Jupyter and terminal)."""

    host: str
    port: int
    probes: list[Probe]
    system: str
    program: str
    network_note: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when at least one probe got through: the partner's server is reachable."""
        return any(p.ok for p in self.probes)

    @property
    def outcomes(self) -> dict[str, str]:
        return {p.proto: p.outcome for p in self.probes}

    def paragraphs(self) -> list[str]:
        texts = []
        if not self.ok:
            by_outcome: dict[str, list[str]] = {}
            for p in self.probes:
                by_outcome.setdefault(p.outcome, []).append(p.proto)
            for outcome, protos in by_outcome.items():
                proto = protos[0] if len(protos) == 1 else "both"
                texts.append(
                    advice(outcome, proto, self.host, self.port, system=self.system,
                           program=self.program)
                )  # fmt: skip
        elif both := combined_advice(self.probes):
            texts.append(both)
        if self.network_note and not self.ok:
            texts.append(self.network_note)
        texts.extend(self.notes)
        texts.append(
            f"This laptop's Python, the program a firewall must allow when this laptop is the "
            f"server: {self.program}"
        )
        return texts

    def __str__(self) -> str:
        head = f"Can this laptop reach {self.host}, port {self.port}?"
        lines = [head, *("  " + p.line() for p in self.probes), ""]
        lines.extend(self.paragraphs())
        details = [f"{p.proto.upper()}: {p.detail}" for p in self.probes if p.detail]
        if details:
            lines.append("Details: " + "; ".join(details))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from html import escape

        from labsock.logic.sentences import sentence_html

        rows = "".join(
            f"<tr><td>{p.proto.upper()}</td>"
            f"<td style='color:{'green' if p.ok else '#b00'}'><b>{p.outcome}</b></td>"
            f"<td style='text-align:left'>{sentence_html(p.line().split(None, 2)[2])}</td></tr>"
            for p in self.probes
        )
        paragraphs = "".join(f"<p>{sentence_html(t)}</p>" for t in self.paragraphs())
        return (
            f"<p><b>Can this laptop reach {escape(self.host)}, port {self.port}?</b></p>"
            f"<table>{rows}</table>{paragraphs}"
        )


def network_note(host: str, addresses) -> str | None:
    """A warning when host is on none of this laptop's networks (None when it is on one)."""
    if addresses is None or addresses.network_of(host) is not None:
        return None
    mine = (
        ", ".join(f"{a.ip}/{a.prefix} ({a.name})" for a in addresses if a.partner_can_use)
        or "none: connect to the Wi-Fi"
    )
    return (
        f"{host} is on none of this laptop's networks (yours: {mine}). Two laptops on one Wi-Fi "
        "usually share the first three numbers of their addresses; a different start means "
        "another network, or the address of a virtual adapter (WSL, VirtualBox, Docker, VPN)."
    )
