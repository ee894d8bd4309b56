"""argparse types for every number or port a user gives (the command line, the magics): a bad value
becomes a usage message and status 2.

One factory for every number an option takes, so each says in the same way what it expected.
"""

from __future__ import annotations

import argparse
import math

from labsock.logic.errors import LabsockError
from labsock.logic.validation import MAX_TIMEOUT, number, validate_port


def port(text: str) -> int:
    """A port number, 0 included (a server's "any free port")."""
    try:
        return validate_port(text, allow_zero=True)
    except LabsockError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def number_type(what: str, low: float, high: float = math.inf, *, low_allowed=True, whole=False):
    """A type that takes a number from low to high (low itself only if low_allowed).

    what: the expected value in words with an example, as the error shows it.
    """

    def parse(text: str):
        value = number(text, low, high, whole=whole, above_low=not low_allowed, typed=True)
        if value is None:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    parse.__name__ = what.split(",")[0]  # argparse names the type in some messages
    return parse


# At most an hour: inf (or 1e300) would overflow the system's clock, never a real wait.
seconds = number_type(
    "a positive number of seconds up to 3600, e.g. 2", 0, MAX_TIMEOUT, low_allowed=False
)
pause = number_type("a number of seconds from 0 to 3600, e.g. 0.2", 0, 3600)
whole_number = number_type("a whole number of at least 1, e.g. 5", 1, whole=True)
probability = number_type("a probability from 0 to 1, e.g. 0.1", 0, 1)
milliseconds = number_type("a time from 0 to 60000 ms, e.g. 50", 0, 60_000)
