"""What a server answers: the built-in replies, and a student's own function.

A reply function takes the message text and returns the reply text, or None for no reply.
"""

from __future__ import annotations

from labsock.logic.errors import LabsockError


def upper(text: str) -> str:
    """The classic: the sentence in capital letters."""
    return text.upper()


def alnum(text: str) -> str:
    """How many letters and digits the message has, and those characters in order.

    'Hello, World 42!' -> '12 alphanumeric: HelloWorld42'. Spaces, punctuation and symbols are
    not alphanumeric; letters of any alphabet (é, ж) and digits are.
    """
    kept = "".join(c for c in text if c.isalnum())
    return f"{len(kept)} alphanumeric: {kept}"


def echo(text: str) -> str:
    """The message unchanged: for measuring round trips."""
    return text


def none(text: str) -> None:
    """No reply: the server only shows the message."""
    return None


BUILT_IN = {"upper": upper, "alnum": alnum, "echo": echo, "none": none}


def reply_function(reply):
    """The function a server calls for each message: a built-in by name, or the student's own."""
    if reply is None:
        return none
    if isinstance(reply, str):
        try:
            return BUILT_IN[reply.strip().lower()]
        except KeyError:
            raise LabsockError(
                f"{reply!r} is not a reply labsock knows. Choose one of "
                f"{', '.join(repr(n) for n in BUILT_IN)}, or pass your own function that takes "
                "the message text and returns the reply text (or None for no reply)."
            ) from None
    if callable(reply):
        return reply
    raise LabsockError(
        f"reply={reply!r} is neither a name nor a function. Use reply='upper', or a function "
        "such as `def shout(text): return text + '!'` passed as reply=shout (no brackets)."
    )


def as_reply_bytes(value) -> bytes | None:
    """Whatever the reply function returned, as bytes to send (None: send nothing)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _text_of(exc: BaseException) -> str:
    """The exception's message, whatever its __str__ does, as text that can be sent and shown."""
    try:
        text = str(exc)
    except BaseException:  # a __str__ of the student's own may raise too
        text = "(its message could not be shown)"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _name_of(function) -> str:
    name = getattr(function, "__name__", None)
    return name if isinstance(name, str) else "the reply function"


def describe_bad_reply(function, value, exc: BaseException) -> str:
    """One line when what the reply function returned cannot be turned into bytes to send."""
    return (
        f"{_name_of(function)} returned a {type(value).__name__} that cannot be sent as text "
        f"({exc.__class__.__name__}: {_text_of(exc)}); return plain text, or bytes; "
        "the server goes on"
    )


def describe_failure(function, exc: BaseException) -> str:
    """One line a student can act on when their reply function raised (anything at all, even
    SystemExit or KeyboardInterrupt)."""
    name = _name_of(function)
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code is getattr(function, "__code__", None):
            line = tb.tb_lineno
        tb = tb.tb_next
    at = f" (line {line} of {name})" if line else ""
    return f"{name} raised {exc.__class__.__name__}: {_text_of(exc)}{at}; the server goes on"
