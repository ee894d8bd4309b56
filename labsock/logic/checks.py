"""Checks on what a student types: hosts and ports, with messages that name the fix."""

from __future__ import annotations

import re

from labsock.logic.errors import LabsockError

ANY_ADDRESS = "0.0.0.0"
# A host name as RFC 1123 allows it: labels of letters, digits and hyphens, dots between.
# Patterns as strings, compiled (and cached by re) on first use: compiling at import time would
# add about half a millisecond to every `import labsock`.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = rf"^(?=.{{1,253}}$)({_LABEL})(\.{_LABEL})*\.?$"
_DOTTED = r"^[0-9.]+$"


def check_port(port, *, allow_zero: bool = False, what: str = "port") -> int:
    """Return port as an int, or raise a LabsockError that says what a port must look like.

    allow_zero: a server may ask for port 0 ("any free port"); a destination may not.
    """
    if isinstance(port, bool):
        port = None  # True is an int to Python, but never a port a student meant
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port.strip())
    lowest = 0 if allow_zero else 1
    if not isinstance(port, int) or not lowest <= port <= 65535:
        zero = " (0 lets the system pick a free port)" if allow_zero else ""
        raise LabsockError(
            f"{port!r} is not a valid {what}. A port is a whole number from {lowest} to "
            f"65535{zero}; this lab uses 12000 for the server. Type just the number, "
            "for example 12000."
        )
    return port


def is_ipv4(text: str) -> bool:
    parts = text.split(".")
    return (
        len(parts) == 4
        and all(p.isdigit() and p.isascii() and len(p) <= 3 for p in parts)
        and all(int(p) <= 255 for p in parts)
    )


def check_host(host, *, purpose: str = "destination") -> str:
    """Return host stripped of spaces, or raise a LabsockError naming the fix.

    purpose "server": the address a server listens on (0.0.0.0 allowed: every network).
    purpose "destination": the address a client sends to (0.0.0.0 refused: it is nobody).
    """
    if not isinstance(host, str) or not host.strip():
        example = "'127.0.0.1' (this laptop only) or '0.0.0.0' (let other laptops connect)"
        raise LabsockError(
            f"{host!r} is not an address. Type an IPv4 address such as "
            + (example if purpose == "server" else "127.0.0.1, or the one the server printed")
            + "."
        )
    text = host.strip()
    hint = None
    if "://" in text or "/" in text:
        hint = "Type only the address, without http:// or slashes, for example 192.0.2.10."
    elif text.count(":") == 1 and text.rsplit(":", 1)[1].isdigit():
        hint = "Type the address and the port separately: the port goes in its own box."
    elif ":" in text:
        hint = "That looks like an IPv6 address; this lab uses IPv4 (four numbers with dots)."
    elif re.match(_DOTTED, text) and not is_ipv4(text):
        hint = (
            "An IPv4 address is four numbers from 0 to 255 separated by dots, for example "
            "127.0.0.1; `ipconfig` (Windows) or `ip addr` (Linux, macOS: `ifconfig`) shows "
            "the server laptop's."
        )
    elif not re.match(_DOTTED, text) and not re.match(_NAME, text):
        hint = "A host name has only letters, digits, hyphens and dots, with no spaces."
    if hint:
        raise LabsockError(f"{text!r} is not a valid address. {hint}")
    if purpose == "destination" and text == ANY_ADDRESS:
        raise LabsockError(
            "0.0.0.0 is what a server listens on to mean 'every network of this laptop'; a "
            "client cannot send to it. Type the server's real address: 127.0.0.1 when the "
            "server runs on this laptop, or the address `python -m labsock addresses` shows on "
            "the server laptop."
        )
    return text
