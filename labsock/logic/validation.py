"""What a student types, validated: hosts, ports, times and counts, with messages that name the fix.

Each validate_*() returns the value cleaned up (a port typed as text becomes an int) or raises a
LabsockError in one paragraph. Pure: no sockets, no name look-ups.
"""

from __future__ import annotations

import re

from labsock.logic.errors import LabsockError

# Where a server listens: every network of this laptop, or this laptop only (the lab's default).
ANY_ADDRESS = "0.0.0.0"
LOOPBACK = "127.0.0.1"
# A host name as RFC 1123 allows it: labels of letters, digits and hyphens, dots between.
# Patterns as strings, compiled (and cached by re) on first use: compiling at import time would
# add about half a millisecond to every `import labsock`.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = rf"^(?=.{{1,253}}$)({_LABEL})(\.{_LABEL})*\.?$"
_DOTTED = r"^[0-9.]+$"


def validate_port(port, *, allow_zero: bool = False, what: str = "port") -> int:
    """Return port as an int, or raise a LabsockError that says what a port must look like.

    allow_zero: a server may ask for port 0 ("any free port"); a destination may not.
    """
    if isinstance(port, bool):
        port = None  # True is an int to Python, but never a port a student meant
    # ASCII digits only: "²" is a digit to isdigit(), and int() refuses it.
    if isinstance(port, str) and port.strip().isascii() and port.strip().isdigit():
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


# Where the port goes instead, said where the student wrote "address:port": in a call, the
# port is its own argument; a widget with a port box (labsock.client_panel) says so instead.
PORT_AS_ARGUMENT = "give the port on its own, as port={port}"
PORT_IN_ITS_BOX = "the port goes in its own box"


def validate_host(host, *, purpose: str = "destination", port_goes: str = PORT_AS_ARGUMENT) -> str:
    """Return host stripped of spaces, or raise a LabsockError naming the fix.

    purpose "server": the address a server listens on (0.0.0.0 allowed: every network).
    purpose "destination": the address a client sends to (0.0.0.0 refused: it is nobody).
    port_goes: where the port belongs, for "address:port" typed as one ({port}: the number).
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
        port = text.rsplit(":", 1)[1]
        hint = f"Write the address without :{port}; {port_goes.format(port=port)}."
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


# Longer than any lab needs; infinity (or 1e300, which overflows the system's clock) would be
# no timeout at all.
MAX_TIMEOUT = 3600.0


def _is_number(value, low: float, high: float) -> bool:
    # True is an int to Python, but never a number a student meant; nan fails both comparisons
    return not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high


def number(
    value, low: float, high: float, *, whole: bool = False, above_low: bool = False, typed=False
):
    """value as a number from low to high (above low only, if above_low), or None.

    The one check behind every number a student gives, in a call or typed on a command line
    (typed=True: value is the text typed). Text is read only if it is plain ASCII ('١' and '²'
    are digits to Python's int(), never what a student typed on purpose); nan, inf and anything
    outside the range are refused, so no number reaches a clock or a buffer that overflows."""
    if typed and isinstance(value, str):
        text = value.strip()
        if not text.isascii():
            return None
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            return None
    if whole and not isinstance(value, int):
        return None
    if not _is_number(value, low, high) or (above_low and value == low):
        return None
    return value


def validate_timeout(timeout, name: str = "timeout") -> float:
    """Seconds a wait may last: positive, at most MAX_TIMEOUT."""
    checked = number(timeout, 0, MAX_TIMEOUT, above_low=True)
    if checked is None:
        raise LabsockError(
            f"{name}={timeout!r} is not a number of seconds. Use a positive number such as 2, "
            f"at most {MAX_TIMEOUT:.0f} (every wait ends by then, so a cell never hangs)."
        )
    return float(checked)


def validate_delay(delay) -> float:
    """Seconds between two messages of a counting client: 0 (as fast as possible) to an hour."""
    if not _is_number(delay, 0, 3600):
        raise LabsockError(
            f"delay={delay!r} is not a number of seconds between messages. Use a number such "
            "as 0.2 (five messages a second), or 0 to send as fast as possible."
        )
    return float(delay)


def validate_interval(interval) -> float:
    """Seconds from one ping to the next: 0 (at once) to an hour."""
    if not _is_number(interval, 0, MAX_TIMEOUT):
        raise LabsockError(
            f"interval={interval!r} is not a number of seconds between pings. Use a number "
            f"from 0 to {MAX_TIMEOUT:.0f}, such as 1 (one ping a second)."
        )
    return float(interval)


def validate_count(count, *, most: int | None = None, example: str = "such as 130") -> int:
    """How many messages: a whole number from 1 (up to most, when given)."""
    if not isinstance(count, int) or not _is_number(count, 1, most or float("inf")):
        upto = f" and at most {most:,}" if most else ""
        raise LabsockError(
            f"count={count!r} is not a number of messages. Use a whole number of at least "
            f"1{upto}, {example}."
        )
    return count


def validate_size(data: bytes, limit: int, proto: str) -> bytes:
    """data, if one message may carry that many bytes."""
    if len(data) > limit:
        raise LabsockError(
            f"The message is {len(data):,} bytes, more than the {limit:,} that one "
            f"{proto.upper()} message may carry here. Send a shorter message"
            + (", or use TCP, which splits long data for you." if proto == "udp" else ".")
        )
    return data


def validate_text(text: str, what: str) -> str:
    """text, if it can be saved and sent as UTF-8. A lone surrogate (half of a character that
    takes two in UTF-16, as some copy-and-paste leaves behind) cannot: said with its line."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        column = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        where = f"at line {line}, character {column}" if "\n" in text else f"at character {column}"
        raise LabsockError(
            f"{what} holds {ascii(text[exc.start])} {where}: half of a character (a lone "
            "surrogate), which cannot be saved or sent as UTF-8. It usually comes from copying "
            "text that split an emoji or a rare character in two; delete it there and type the "
            "character again."
        ) from None
    return text
