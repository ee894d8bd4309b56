"""Errors that speak to the student: what happened, the likely cause, what to try.

Every failure a student can cause (a wrong address, a server that isn't running, a port that is
taken) becomes a LabsockError whose message is one plain paragraph. Notebooks show it without a
traceback; the command line prints it on stderr.
"""

from __future__ import annotations

import errno
import socket

# The same failure has a different number on each system; Windows uses its WSA codes.
ADDRESS_IN_USE = {errno.EADDRINUSE, 98, 48, 10048}
ADDRESS_NOT_AVAILABLE = {errno.EADDRNOTAVAIL, 99, 49, 10049}
PERMISSION_DENIED = {errno.EACCES, errno.EPERM, 13, 1, 10013}
CONNECTION_REFUSED = {errno.ECONNREFUSED, 111, 61, 10061}
CONNECTION_RESET = {errno.ECONNRESET, 104, 54, 10054}
NETWORK_UNREACHABLE = {errno.ENETUNREACH, 101, 51, 10051}
HOST_UNREACHABLE = {errno.EHOSTUNREACH, 113, 65, 10065}
MESSAGE_TOO_LONG = {errno.EMSGSIZE, 90, 40, 10040}
TIMED_OUT = {errno.ETIMEDOUT, 110, 60, 10060}


class LabsockError(Exception):
    """A failure explained in one paragraph, shown to the student without a traceback."""

    def _render_traceback_(self):
        # IPython calls this instead of printing the traceback: a student sees only the advice.
        return [f"\x1b[31mLabsockError\x1b[0m: {self}"]


def where(proto: str | None, host: str | None, port: int | None) -> str:
    """Name an endpoint the way the notebooks print it: '127.0.0.1:12000 (UDP)'."""
    text = f"{host}:{port}" if host is not None and port is not None else str(host or port or "")
    return f"{text} ({proto.upper()})" if proto else text


def _code(exc: BaseException) -> int | None:
    return getattr(exc, "winerror", None) or getattr(exc, "errno", None)


def port_in_use(proto: str, host: str, port: int) -> LabsockError:
    return LabsockError(
        f"Port {port} ({proto.upper()}) on {host} is already in use by another program, "
        "perhaps a server started from another notebook or a terminal. Stop that one (restart "
        "the other notebook's kernel, or press Ctrl+C in its terminal), or choose another port, "
        "for example port=12001, or port=0 to let the system pick a free one."
    )


def explain(
    exc: BaseException,
    *,
    action: str,
    proto: str | None = None,
    host: str | None = None,
    port: int | None = None,
) -> LabsockError:
    """Turn a socket exception into a LabsockError that says what to check.

    action is what was being attempted, in words: "listen", "send", "receive", "connect", "bind".
    """
    if isinstance(exc, LabsockError):
        return exc
    at = where(proto, host, port)
    code = _code(exc)
    server_hint = (
        "Is the server running (run its cell, or `python -m labsock serve` on the other "
        "laptop)? Are the IP address and port the ones the server printed?"
    )
    lan_hint = (
        "If the server is on another laptop: does it listen on the network (host='0.0.0.0', "
        "not 127.0.0.1), does its firewall allow Python, and are both laptops on the same Wi-Fi?"
    )
    if isinstance(exc, socket.gaierror):
        text = (
            f"Could not find a computer called {host!r}. Check the spelling, or type the "
            "server's IPv4 address instead (four numbers like 127.0.0.1; on the server laptop "
            "`python -m labsock addresses` shows it)."
        )
    elif isinstance(exc, (TimeoutError, socket.timeout)) or code in TIMED_OUT:
        if action == "connect":
            text = (
                f"No answer from {at}: the connection attempt timed out. Nothing refused it, "
                "so the address is probably wrong, or a firewall or the Wi-Fi (client "
                f"isolation) silently drops it. {lan_hint}"
            )
        else:
            text = (
                f"No reply from {at} in time. {server_hint} With UDP a lost datagram looks the "
                f"same, so try once more. {lan_hint}"
            )
    elif code in ADDRESS_IN_USE:
        if action in ("listen", "bind-server"):
            return port_in_use(proto or "udp", host or "?", port or 0)
        text = (
            f"Local port {port} is already in use, so the client cannot bind to it. Another "
            "client (perhaps from an earlier run of this cell, or another notebook) still holds "
            "it: stop that one, or choose another bind port."
        )
    elif code in CONNECTION_REFUSED:
        text = (
            f"Nothing is listening on {at}: the computer at that address answered that no "
            f"program has that port open. {server_hint} A TCP client needs a TCP server and a "
            "UDP client a UDP server."
        )
    elif code in CONNECTION_RESET:
        text = (
            f"{at} closed the connection abruptly (connection reset). On UDP this means the "
            f"last datagram reached a computer where nothing listens on that port. {server_hint}"
        )
    elif code in ADDRESS_NOT_AVAILABLE and action in ("connect", "send", "receive"):
        text = (
            f"This laptop could not open a connection to {at} from the chosen local port: the "
            "previous connection from that port to the same server may still be closing (TCP "
            "keeps it for up to a minute). Wait a minute, or choose another bind port."
        )
    elif code in ADDRESS_NOT_AVAILABLE:
        text = (
            f"{host} is not an address of this laptop, so a server cannot listen on it. Use "
            "127.0.0.1 (this laptop only) or 0.0.0.0 (let other laptops connect); "
            "`python -m labsock addresses` lists this laptop's addresses."
        )
    elif code in PERMISSION_DENIED:
        if action in ("listen", "bind-server", "bind"):
            text = (
                f"The system did not allow {at}. Ports below 1024 need administrator rights: "
                "use a port from 1024 to 65535, such as 12000. On Windows a port can also sit in "
                "a range reserved by Hyper-V or WSL: `netsh interface ipv4 show "
                "excludedportrange protocol=tcp` lists them; choose a port outside."
            )
        else:
            text = (
                f"The system did not allow sending to {at}: a firewall rule on this laptop "
                "blocks it, or the address is a broadcast address. Check the address, and the "
                "firewall settings for Python."
            )
    elif code in NETWORK_UNREACHABLE or code in HOST_UNREACHABLE:
        text = (
            f"{at} cannot be reached from this laptop: no network leads there. Are you "
            "connected to the Wi-Fi, and is the address on the same network as yours (same "
            "first three numbers, usually)? `python -m labsock addresses` shows your networks."
        )
    elif code in MESSAGE_TOO_LONG:
        text = (
            f"The message is too long for one UDP datagram to {at}. Send a shorter message, or "
            "use TCP, which splits long data for you."
        )
    else:
        text = (
            f"Could not {action} on {at}: {exc.__class__.__name__}: {exc}. {server_hint}"
            if at
            else f"Could not {action}: {exc.__class__.__name__}: {exc}."
        )
    return LabsockError(text)
