"""A student's program failed: say where, and what to check, in plain words.

The bootstrap that runs a student's program calls explain_failure() with the exception, instead
of letting Python print a traceback that mostly shows labsock's own frames. The student sees the
line of *their* program that failed, and one paragraph: the socket errors through labsock's
translations (labsock.logic.errors), the mistakes every socket course meets (a str where bytes
are needed, a port as a string) with the fix.
"""

from __future__ import annotations

from labsock.logic.errors import LabsockError, explain

ANYWHERE = ("", "0.0.0.0")

# (exception name, words in its message) -> what to do. The first match wins.
HINTS = [
    (
        "TypeError",
        "bytes-like object is required, not 'str'",
        "Sockets send bytes, not text: encode the text first, e.g. "
        "`clientSocket.sendto(message.encode(), (serverName, serverPort))`.",
    ),
    (
        "TypeError",
        "str, bytes or bytearray expected, not int",
        "An address is a (host, port) pair with the host as text: ('127.0.0.1', 12000).",
    ),
    (
        "TypeError",
        "'str' object cannot be interpreted as an integer",
        "The port must be a number, not text: serverPort = 12000, without quotes.",
    ),
    (
        "TypeError",
        "an integer is required",
        "The port must be a number, not text: serverPort = 12000, without quotes.",
    ),
    (
        "AttributeError",
        "'str' object has no attribute 'decode'",
        "This is text already: only bytes (what recv and recvfrom return) need .decode().",
    ),
    (
        "AttributeError",
        "'bytes' object has no attribute",
        "recv and recvfrom give bytes: turn them into text first, e.g. `message.decode().upper()`.",
    ),
    (
        "OverflowError",
        "port must be 0-65535",
        "A port is a whole number from 0 to 65535; this lab uses 12000 for the server.",
    ),
    (
        "NameError",
        "",
        "Check the spelling (Python tells capital and small letters apart), and that the line "
        "that makes this name comes before this one.",
    ),
    (
        "EOFError",
        "",
        "The program asked for more typed input than it was given: type a line in the box, or "
        "give more lines to type.",
    ),
]


def explain_failure(exc: BaseException, path: str, source: str) -> tuple[str, int | None]:
    """(the explanation, the line of the student's program it points at, if any)."""
    lines = source.splitlines()
    if isinstance(exc, SyntaxError) and exc.filename == path:
        return _syntax(exc, lines), exc.lineno
    if isinstance(exc, LabsockError):  # already one plain paragraph (e.g. an unwritten exercise)
        return str(exc), _student_line(exc, path)
    line = _student_line(exc, path)
    where = _where(line, lines)
    what = _socket_words(exc) or _hint(exc)
    return f"{where}\n{what}", line


def _syntax(exc: SyntaxError, lines: list[str]) -> str:
    number = exc.lineno or 0
    text = lines[number - 1] if 0 < number <= len(lines) else (exc.text or "").rstrip("\n")
    kind = "indented wrongly" if isinstance(exc, IndentationError) else "not valid Python"
    return (
        f"Python could not read your program: line {number} is {kind} ({exc.msg}).\n"
        f"    {text.strip()}\n"
        "Check that line and the one before it: a missing ':' at the end of `while`, `if` or "
        "`def`, a bracket or quote opened and not closed, or spaces that do not line up. "
        "Nothing of the program ran."
    )


def _student_line(exc: BaseException, path: str) -> int | None:
    """The last line of the student's file in the traceback (the call that failed)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _where(line: int | None, lines: list[str]) -> str:
    if line is None or not 0 < line <= len(lines):
        return "Your program stopped:"
    return f"Your program stopped at line {line}:\n    {lines[line - 1].strip()}"


def _socket_words(exc: BaseException) -> str | None:
    call = getattr(exc, "labsock_call", None)
    if call is None or not isinstance(exc, OSError):
        return None
    action, proto, address = call
    host, port = (address[0], address[1]) if isinstance(address, tuple) else (None, None)
    if action == "bind":
        action = "bind-server"
        host = "0.0.0.0" if host in ANYWHERE else host
    return str(explain(exc, action=action, proto=proto, host=host, port=port))


def _hint(exc: BaseException) -> str:
    name = exc.__class__.__name__
    message = str(exc)
    said = f"{name}: {message}" if message else name
    for kind, words, advice in HINTS:
        if kind == name and words in message:
            return f"{said}\n{advice}"
    return said
