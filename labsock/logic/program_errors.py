"""A student's program failed: say where, and what to check, in plain words.

The bootstrap that runs a student's program calls explain_failure() with the exception, instead
of letting Python print a traceback that mostly shows labsock's own frames. The student sees the
line of *their* program that failed, and one paragraph: the socket errors through labsock's
translations (labsock.logic.errors), the mistakes every socket course meets (a str where bytes
are needed, a port as a string) with the fix.
"""

from __future__ import annotations

import difflib
import errno
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from labsock.logic.errors import (
    REUSE_SET_HERE,
    LabsockError,
    closing_words,
    error_number,
    explain,
    failure_name,
)
from labsock.logic.errors import where as endpoint  # (`where` names the line's words here)
from labsock.logic.proc_net import Holder, shortened
from labsock.logic.student_code import (
    SENDING_CALLS,
    Call,
    Line,
    ServerCall,
    accepted_into,
    assignment_of,
    calls_in,
    calls_on,
    first_server_call,
    is_simple,
    line_of,
    method_call_at,
    port_line,
    server_call_at,
    socket_call_at,
)

ANYWHERE = ("", "0.0.0.0")

# (exception name, words in its message) -> what to do. The first match wins.
HINTS = [
    (
        "TypeError",
        "bytes-like object is required, not 'str'",
        "Sockets send bytes, not text: encode the text first, e.g. `message.encode()`.",
    ),
    (
        "UnicodeDecodeError",
        "can't decode byte",
        "These bytes are not whole UTF-8 text. A TCP connection is a stream of bytes, and one "
        "recv can end in the middle of a character: 'é' is two bytes (\\xc3\\xa9), and a piece "
        "that ends after the first cannot be decoded. Keep the bytes as they come "
        "(buffer += data), cut whole lines at b'\\n', and decode each whole line.",
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


WhoHolds = Callable[[str, int], "Holder | None"]
# (proto, port) -> True when a closed connection (TIME_WAIT) keeps the port, None: not known.
Closing = Callable[[str, int], "bool | None"]
# (proto, host, port) -> the notebook's words for its stopped program that held the port.
Stopped = Callable[[str, str, int], "str | None"]


def explain_failure(
    exc: BaseException,
    path: str,
    source: str,
    *,
    who_holds: WhoHolds | None = None,
    kernel_pid: int | None = None,
    other_notebook: Callable | None = None,
    closing: Closing | None = None,
    stopped: Stopped | None = None,
) -> tuple[str, int | None]:
    """(the explanation, the line of the student's program it points at, if any).

    who_holds(proto, port) names the process that holds a port a bind found taken (None: not
    known); kernel_pid is the notebook's kernel, so a port it holds is named as this notebook's.
    other_notebook(proto, port): the other notebook's program or server that holds it, from the
    records the notebooks keep (a labsock.logic.holders.Holder, or None), named before any guess.
    closing(proto, port): whether a connection that closed moments ago keeps the port, asked
    when no process holds it (True, False, or None where the system cannot tell).
    stopped(proto, host, port): the notebook's words for its program that held the port a
    connect was refused on and that the student stopped ("" or None: none did), named instead
    of the guesses (is the server running? the address? the port?).
    A TIME_WAIT that blocks the program is another program's to fix: the bootstrap set
    SO_REUSEADDR on this one's TCP sockets (POSIX; on Windows none blocks a bind).
    """
    lines = source.splitlines()
    if isinstance(exc, SyntaxError) and exc.filename == path:
        return _syntax(exc, lines), exc.lineno
    if isinstance(exc, LabsockError):  # already one plain paragraph (e.g. an unwritten exercise)
        return str(exc), _student_line(exc, path)
    line = _student_line(exc, path)
    where = _where(line, lines)
    call = socket_call_at(source, line) if line is not None else None
    holders = (who_holds, kernel_pid, other_notebook, closing)
    what = (
        _mistake(exc, call, source, holders)
        or _library_port_taken(exc, call, source, line, holders)
        or _misspelt_method(exc, source, line)
        or _socket_words(exc, stopped)
        or _hint(exc)
    )
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


def _socket_words(exc: BaseException, stopped: Stopped | None = None) -> str | None:
    call = getattr(exc, "labsock_call", None)
    if call is None or not isinstance(exc, OSError):
        return None
    action, proto, address = call
    host, port = (address[0], address[1]) if isinstance(address, tuple) else (None, None)
    refused = action == "connect" and failure_name(exc) == "ECONNREFUSED"
    if refused and stopped is not None and isinstance(host, str) and isinstance(port, int):
        said = stopped(proto, host, port)
        if said:
            return f"Nothing is listening on {endpoint(proto, host, port)}: {said}"
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


# -- the mistakes of socket courses, said with the student's own names ---------------------------

NOT_CONNECTED = {errno.ENOTCONN, 10057}  # WSAENOTCONN
NOT_SUPPORTED = {errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP), 10045}
BROKEN_PIPE = {errno.EPIPE}
INVALID = {errno.EINVAL, 10022}  # WSAEINVAL: what accept says on a socket that never listened
# What a socket object has, for a misspelt method (recvFrom): the methods a student calls (pure
# logic does not import socket; tests/test_student_code.py compares this with socket.socket).
SOCKET_METHODS = (
    "accept", "bind", "close", "connect", "connect_ex", "getpeername", "getsockname",
    "getsockopt", "gettimeout", "listen", "makefile", "recv", "recv_into", "recvfrom",
    "recvfrom_into", "send", "sendall", "sendfile", "sendto", "setblocking", "setsockopt",
    "settimeout", "shutdown",
)  # fmt: skip
MISSING_SOCKET_ATTRIBUTE = re.compile(r"'socket' object has no attribute '(\w+)'")


def _mistake(exc, call: Call | None, source: str, holders: tuple) -> str | None:
    """Words for a mistake recognised from the failing call and the program's source, or None."""
    if call is None:
        return None
    said = f"{exc.__class__.__name__}: {exc}"
    if isinstance(exc, TypeError) and "bytes-like object is required, not 'str'" in str(exc):
        return f"{said}\n{_forgot_encode(call)}"
    if not isinstance(exc, OSError):
        return None
    number = error_number(exc)
    sock = call.receiver
    if call.method in ("listen", "accept") and number in NOT_SUPPORTED:
        return f"{said}\n{_udp_has_no_connections(call, source)}"
    if failure_name(exc) == "EADDRINUSE" and call.method == "bind":
        return _port_taken(exc, call, source, *holders)
    listening = calls_on(source, sock, "listen")
    if call.method == "accept" and number in INVALID and not listening:
        return f"{said}\n{_never_listened(call)}"
    ever_connected = calls_on(source, sock, "connect") or accepted_into(source, sock)
    receives = call.method in ("recv", "recvfrom")
    sends = call.method in SENDING_CALLS
    if listening and (receives or sends) and number in NOT_CONNECTED | BROKEN_PIPE:
        return f"{said}\n{_listening_socket(call, listening)}"
    if ever_connected or not _is_tcp(exc, source, sock):
        return None
    if receives and number in NOT_CONNECTED or sends and number in NOT_CONNECTED | BROKEN_PIPE:
        return f"{said}\n{_not_connected(call)}"
    return None


def _never_listened(call: Call) -> str:
    return (
        f"{call.receiver} never listened: a TCP server socket must be told to wait for "
        f"connections before it can accept one. Add `{call.receiver}.listen(1)` after bind, "
        "before accept."
    )


def _misspelt_method(exc: BaseException, source: str, line: int | None) -> str | None:
    """recvFrom, sendTo, reciev...: the socket method meant, in the student's own call."""
    match = MISSING_SOCKET_ATTRIBUTE.fullmatch(str(exc))
    if not isinstance(exc, AttributeError) or match is None:
        return None
    wrong = match.group(1)
    meant = difflib.get_close_matches(wrong.lower(), SOCKET_METHODS, n=1, cutoff=0.6)
    if not meant:
        return None
    said = f"{exc.__class__.__name__}: {exc}"
    call = method_call_at(source, line, (wrong,)) if line is not None else None
    if call is None:
        return f"{said}\nA socket has no {wrong}: did you mean {meant[0]}?"
    fixed = f"{call.receiver}.{meant[0]}({', '.join(call.arguments)})"
    return (
        f"{said}\nA socket has no {wrong}: did you mean {meant[0]}, `{fixed}`? (Python tells "
        "capital and small letters apart.)"
    )


def _is_tcp(exc: BaseException, source: str, sock: str) -> bool:
    call = getattr(exc, "labsock_call", None)
    if call is not None:
        return call[1] == "tcp"
    made = assignment_of(source, sock)
    return made is not None and "SOCK_STREAM" in made.text


def _forgot_encode(call: Call) -> str:
    if call.method not in SENDING_CALLS or not call.arguments:
        return "Sockets send bytes, not text: encode the text first, e.g. `message.encode()`."
    data, *rest = call.arguments
    encoded = f"{data}.encode()" if is_simple(data) else f"({data}).encode()"
    fixed = f"{call.receiver}.{call.method}({', '.join([encoded, *rest])})"
    return (
        f"Sockets send bytes, not text, and {data} is text (a str): encode it as you send it, "
        f"`{fixed}`."
    )


def _udp_has_no_connections(call: Call, source: str) -> str:
    made = assignment_of(source, call.receiver)
    where = f" ({made})" if made else " (SOCK_DGRAM)"
    return (
        f"{call.receiver} is a UDP socket{where}, and only TCP has connections to "
        f"{call.method}. A UDP server needs neither listen nor accept: bind, then recvfrom each "
        "datagram. For a TCP server, make the socket with socket(AF_INET, SOCK_STREAM)."
    )


def _listening_socket(call: Call, listening) -> str:
    use = "recv(2048)" if call.method in ("recv", "recvfrom") else "send(reply.encode())"
    return (
        f"{call.receiver} is a TCP socket that listens for connections ({listening}): it only "
        "accepts them, and data travels on the connection accept gives. Take a connection "
        f"first, `connectionSocket, addr = {call.receiver}.accept()`, then "
        f"`connectionSocket.{use}`. (recvfrom and sendto with an address are UDP's way.)"
    )


def _not_connected(call: Call) -> str:
    if call.method == "sendto" and len(call.arguments) >= 2:
        data, address = call.arguments[0], call.arguments[-1]
        way = f"`{call.receiver}.connect({address})`, then `{call.receiver}.send({data})`"
    else:
        way = f"`{call.receiver}.connect((serverName, serverPort))`, then {call.method}"
    return (
        f"{call.receiver} is a TCP socket with no connection: TCP sends and receives only over a "
        f"connection, so an address in sendto does not help (and the system says 'broken pipe' "
        f"or 'not connected'). Connect first, {way}. (sendto and recvfrom with addresses are "
        "UDP's way.)"
    )


@dataclass(frozen=True)
class _Asker:
    """What asked for a port a bind found taken, in the student's words."""

    name: str  # serverSocket, socketserver.TCPServer: "so serverSocket cannot bind it"
    close: str  # the way to close it in the kernel: "run `serverSocket.close()`"
    at: str  # " Your program asks for it at line 2: `serverPort = 12000`." (or "")
    chosen: Line | None  # the line that chose the port, to change for another one


def _port_taken(exc, call: Call, source: str, *holders) -> str:
    """A bind on a line of the student's own: serverSocket.bind(('', serverPort))."""
    recorded = bind_call(exc)
    chosen = port_line(source, call)
    asker = _Asker(
        name=call.receiver,
        close=f"run `{call.receiver}.close()`",
        at=f" Your program asks for it at {chosen}." if chosen else "",
        chosen=chosen,
    )
    return _taken_words(recorded[1] if recorded else "udp", _port_of(recorded), asker, *holders)


def _library_port_taken(exc, call: Call | None, source: str, line, holders: tuple) -> str | None:
    """A bind inside a library (socketserver, socket.create_server, asyncio) that the student's
    line called: the same words as for their own bind, with the library's way to reuse."""
    if call is not None or line is None or failure_name(exc) != "EADDRINUSE":
        return None
    server = server_call_at(source, line)
    if server is None:
        return None
    recorded = bind_call(exc)
    proto = recorded[1] if recorded else _library_proto(server)
    port = _port_of(recorded) or _port_in_message(exc)
    here = line_of(source, server.line)
    chosen = server.port
    if here is not None and here.number == line:  # quoted already, as where it stopped
        at = f" Its port is set at {chosen}." if chosen and chosen.number != line else ""
    elif chosen is None or here is None or chosen.number == here.number:
        at = f" Your program asks for it at {chosen or here}." if chosen or here else ""
    else:
        at = f" Your program asks for it at {here}, with the port of {chosen}."
    asker = _Asker(
        name=server.callee,
        close=_library_close(server),
        at=at,
        chosen=chosen,
    )
    return _taken_words(proto, port, asker, *holders)


def bind_call(exc) -> tuple | None:
    """The bind that failed, as the bootstrap recorded it on the exception: ("bind", proto,
    address). socket.create_server and asyncio raise an OSError of their own for it, with the
    recorded one as its context (`raise ... from None` hides it, and keeps it)."""
    seen = 0
    while exc is not None and seen < 5:
        call = getattr(exc, "labsock_call", None)
        if call is not None:
            return call if call[0] == "bind" else None
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


# "... (while attempting to bind on address ('127.0.0.1', 12000))" (socket.create_server) and
# "error while attempting to bind on address ('127.0.0.1', 12000): ..." (asyncio).
BIND_ADDRESS = re.compile(r"bind on address \((?:'[^']*'|\"[^\"]*\"), (\d+)")


def _port_in_message(exc) -> int | None:
    found = BIND_ADDRESS.search(str(exc))
    return int(found.group(1)) if found else None


def _library_proto(server: ServerCall) -> str:
    udp = "UDP" in server.callee or server.callee.endswith("create_datagram_endpoint")
    return "udp" if udp else "tcp"


def _library_close(server: ServerCall) -> str:
    if server.target is None:
        return "close that server's socket"
    if server.kind == "socketserver":
        return f"run `{server.target}.server_close()`"
    return f"run `{server.target}.close()`"


_REUSE_BEFORE = (
    "labsock set SO_REUSEADDR on this TCP server's socket, so the cell can be run again at once. "
    "Outside labsock, "
)
_REUSE_AFTER = ", or a restarted server waits about a minute (TIME_WAIT)."
REUSE_NOTE = (
    f"{_REUSE_BEFORE}add serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1) before bind()"
    f"{_REUSE_AFTER}"
)


@functools.lru_cache(maxsize=32)  # a view redraws up to 10 times a second: parse once
def reuse_note(source: str) -> str:
    """What a listening server's view says about the SO_REUSEADDR labsock added, in the
    program's words: its own listening socket's setsockopt, or socketserver's class attribute
    (a socketserver program has no socket of its own to call setsockopt on). No backticks:
    the view's notes are prose, as REUSE_NOTE is."""
    before, after = _REUSE_BEFORE, _REUSE_AFTER
    listening = next((c for c in calls_in(source) if c.method == "listen"), None)
    if listening is not None:
        sock = listening.receiver
        module = "socket." if re.search(r"\bsocket\.socket\(", source) else ""
        if sock != "serverSocket" or module:
            option = f"{module}SOL_SOCKET, {module}SO_REUSEADDR, 1"
            return f"{before}add {sock}.setsockopt({option}) before {sock}.bind(){after}"
        return REUSE_NOTE
    server = first_server_call(source)
    if server is not None and server.kind == "socketserver":
        attribute = f"{server.callee}.allow_reuse_address = True"
        return f"{before}set {attribute} before making the server{after}"
    return REUSE_NOTE


def _taken_words(proto: str, port, asker: _Asker, who_holds, kernel_pid, other_notebook, closing):
    at = asker.at
    taken = f"Port {port} ({proto.upper()}) is already in use, so {asker.name} cannot bind it."
    known = other_notebook(proto, port) if other_notebook and port else None
    if known is not None:  # another of the student's notebooks: its name, and the way out
        return f"{taken}{at} {known.sentence()}"
    holder = who_holds(proto, port) if who_holds and port else None
    if holder is not None and holder.pid == kernel_pid:
        kernel = (
            "This notebook's own kernel"
            if "ipykernel" in holder.command
            else ("The Python that started this program")
        )
        return (
            f"{taken} {kernel} holds it (process {holder.pid}): a cell run "
            "without %%background made a socket on that port, and the kernel keeps it open, "
            f"also after Interrupt.{at} The way out: {asker.close} in a cell "
            "of its own (or restart the kernel: Kernel > Restart Kernel), then this cell again."
        )
    if holder is not None:
        who = f"`{shortened(holder.command)}` (process {holder.pid})" if holder.command else None
        who = who or f"process {holder.pid}"
        if "ipykernel" in holder.command:
            who = f"another notebook's kernel (process {holder.pid})"
        elif "bootstrap.py" in holder.command:
            program = holder.command.split("bootstrap.py", 1)[1].strip()
            name = program.replace("\\", "/").rsplit("/", 1)[-1]
            who = (
                f"the program {name}, run by labsock from another notebook or Python "
                f"(process {holder.pid})"
            )
        stop = (
            "Stop that one (Ctrl+C in its terminal; a notebook's kernel: Shut Down in "
            "JupyterLab's Running panel, the square-in-a-circle icon)"
        )
    elif (lingering := _lingering(closing, proto, port)) is not False:
        another = _another_port(asker.chosen, port)
        words = closing_words(lingering, another=another, fix=REUSE_SET_HERE)
        return f"{taken}{at} {words}"
    else:
        who = "another program (a server started from another notebook or a terminal)"
        stop = (
            "Stop that one (Ctrl+C in its terminal; another notebook's kernel: Shut Down in "
            "JupyterLab's Running panel, the square-in-a-circle icon)"
        )
    other = _another_port(asker.chosen, port)
    return f"{taken} {who[0].upper()}{who[1:]} holds it.{at} {stop}, or {other}."


def _lingering(closing, proto: str, port: int | None) -> bool | None:
    """Whether a closed connection keeps the TCP port (False: no, or nobody could ask)."""
    if closing is None or proto != "tcp" or not port:
        return False
    return closing(proto, port)


def _port_of(call) -> int | None:
    address = call[2] if call else None
    try:
        return int(address[1])
    except (TypeError, ValueError, IndexError):
        return None


def _another_port(chosen, port) -> str:
    if chosen is not None and "=" in chosen.text and port:
        name, value = (part.strip() for part in chosen.text.split("=", 1))
        # Only `serverPort = 12000`: not `server = create_server(...)`, nor ADDR = ('', 12000).
        if name.isidentifier() and value.isdigit():
            client = ", and the client's serverPort with it" if "server" in name.lower() else ""
            return (
                f"choose another port: change line {chosen.number} to `{name} = {port + 1}`{client}"
            )
    return "choose another port (a server's: its client's too)"
