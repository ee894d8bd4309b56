"""Errors that speak to the student: what happened, the likely cause, what to try.

Every failure a student can cause (a wrong address, a server that isn't running, a port that is
taken) becomes a LabsockError whose message is one plain paragraph. Notebooks show it without a
traceback; the command line prints it on stderr.

The meaning of each error number lives in one table, FAILURES: its name, its number on Linux,
macOS and Windows, what it says about reaching the other side (the preflight's outcome), and
what it means in words. explain() (an exception in the middle of an action), outcome_of() (a
probe's verdict) and what_error_means() (a number a student read somewhere) all read that table.
"""

from __future__ import annotations

import socket
from collections import namedtuple

# What a failure says about reaching the other side (the preflight's outcomes).
OK = "ok"  # no failure: the answer came
REFUSED = "refused"  # the other laptop answered: nothing listens on that port
TIMEOUT = "timeout"  # nothing came back at all
UNREACHABLE = "unreachable"  # no network leads there from this laptop
BLOCKED = "blocked"  # this laptop's own firewall did not let it out
FAILED = "failed"  # anything else

Failure = namedtuple("Failure", "name linux macos windows outcome meaning words windows_words")
Failure.__doc__ = """One kind of failure. name: the POSIX name (Windows adds WSA in front);
linux, macos, windows: its number on each system (None: that system has no such number);
outcome: what it says about reaching the other side; meaning: the short name in words;
words: what it means for the lab; windows_words: the same where Windows says more (or None)."""

# The same failure has a different number on each system; Windows numbers its own 100xx.
# name          Linux  macOS  Windows  outcome      meaning
_NUMBERS = (
    "EADDRINUSE       98     48    10048  failed       address already in use",
    "EADDRNOTAVAIL    99     49    10049  failed       address not available",
    "ECONNRESET      104     54    10054  refused      connection reset",
    "ETIMEDOUT       110     60    10060  timeout      timed out",
    "ECONNREFUSED    111     61    10061  refused      connection refused",
    "EACCES           13     13    10013  blocked      permission denied",
    "EPERM             1      1        -  blocked      operation not permitted",
    "ENETUNREACH     101     51    10051  unreachable  network unreachable",
    "EHOSTUNREACH    113     65    10065  unreachable  host unreachable",
    "EMSGSIZE         90     40    10040  failed       message too long",
    "ENOBUFS         105     55    10055  failed       no buffer space available",
)

# What each failure means for the lab.
_WORDS = {
    "EADDRINUSE": (
        "another program, or a server started earlier from another notebook or terminal, "
        "already listens on this port. Stop that one (restart the other kernel, Ctrl+C in the "
        "terminal) or choose another port."
    ),
    "EADDRNOTAVAIL": (
        "a server can listen only on an address of this laptop. Use 127.0.0.1 (this laptop "
        "only) or 0.0.0.0 (let other laptops connect)."
    ),
    "ECONNRESET": (
        "with TCP the other side closed the connection abruptly. With UDP Windows reports it on "
        "the next receive when the previous datagram reached a computer where nothing listens "
        "on that port (an ICMP 'port unreachable'): check that the server runs, and the port."
    ),
    "ETIMEDOUT": (
        "nothing answered, not even a refusal. Wrong address, a firewall that drops the "
        "messages, or a Wi-Fi that keeps laptops apart (client isolation)."
    ),
    "ECONNREFUSED": (
        "the other computer answered that nothing listens on that port. The server is not "
        "running, the port is wrong, the server speaks the other protocol, or it listens on "
        "127.0.0.1 only (for its own laptop)."
    ),
    "EACCES": (
        "ports below 1024 need administrator rights; use a port from 1024 to 65535, such as "
        "12000. When sending: a broadcast address, or a firewall rule."
    ),
    "EPERM": (
        "a firewall rule on this laptop blocks the message (for example an "
        "nftables/iptables/pf rule on outgoing traffic)."
    ),
    "ENETUNREACH": (
        "this laptop has no network leading to that address. Check the Wi-Fi is connected and "
        "the address is the partner's."
    ),
    "EHOSTUNREACH": (
        "no computer answered on that network. Check the address, and that both laptops are "
        "on the same Wi-Fi."
    ),
    "EMSGSIZE": "one UDP datagram carries at most 65,507 bytes. Send less, or use TCP.",
    "ENOBUFS": (
        "the system's send buffers are full for a moment (macOS says so where Linux would "
        "wait): pause, then send again."
    ),
}
_WINDOWS_WORDS = {
    "EACCES": (
        "binding: the port sits in a range Windows reserves (for Hyper-V, WSL or Docker) or "
        "another program holds it exclusively; `netsh interface ipv4 show excludedportrange "
        "protocol=tcp` (and protocol=udp) lists the reserved ranges, so choose a port outside "
        "them, such as 12000 or 50123. Sending: a firewall or antivirus blocked it, or the "
        "address is a broadcast address."
    ),
}


def _failure(row: str) -> Failure:
    name, linux, macos, windows, outcome, meaning = row.split(None, 5)
    numbers = [None if n == "-" else int(n) for n in (linux, macos, windows)]
    return Failure(name, *numbers, outcome, meaning, _WORDS[name], _WINDOWS_WORDS.get(name))


FAILURES = tuple(_failure(row) for row in _NUMBERS)

_BY_NUMBER = {
    number: failure
    for failure in FAILURES
    for number in (failure.linux, failure.macos, failure.windows)
    if number is not None
}


class LabsockError(Exception):
    """A failure explained in one paragraph, shown to the student without a traceback.

    failure: the POSIX name of the system's failure behind it ("EADDRINUSE"), when there was one.
    way_out: what a notebook may offer as buttons under the message, each a pair (label, action):
    the action (None: nothing) runs on the click, then the cell runs again.
    """

    failure: str | None = None
    way_out: tuple = ()

    def _render_traceback_(self):
        # IPython calls this instead of printing the traceback: a student sees only the advice.
        return [f"\x1b[31mLabsockError\x1b[0m: {self}"]


class Interrupted(KeyboardInterrupt):
    """The kernel's Interrupt (or Ctrl+C) during a labsock wait, said in one line.

    Still a KeyboardInterrupt, so a script stops as Ctrl+C always stopped it; in a notebook the
    line replaces a traceback through threading.py that says nothing of what still runs.
    """

    def _render_traceback_(self):
        return [f"\x1b[33mInterrupted\x1b[0m: {self}"]


class NotWrittenYet(LabsockError):
    """An exercise still holds the stub: the student has not written that code yet."""

    def __init__(self, function_name: str | None = None, *, program: str | None = None):
        self.function_name = function_name
        if program:
            text = (
                f"The program {program} is not written yet: in its cell, replace "
                "'# YOUR CODE HERE' and the line under it with your code, run that cell, "
                "then run this one again."
            )
        elif function_name:
            text = (
                f"{function_name}() is not written yet: in its cell, replace "
                "'# YOUR CODE HERE' and the line under it with your code, run that cell, "
                "then run this one again."
            )
        else:
            text = (
                "This exercise is not written yet: replace '# YOUR CODE HERE' and the line "
                "under it with your code, then run the cell again."
            )
        super().__init__(text)


def error_number(exc: BaseException) -> int | None:
    """The system's number for a failure: Windows' own (10054) where there is one, else errno."""
    return getattr(exc, "winerror", None) or getattr(exc, "errno", None)


def failure_of(exc: BaseException) -> Failure | None:
    """The row of FAILURES an exception belongs to (any system's number), or None."""
    if isinstance(exc, TimeoutError):
        return _BY_NUMBER[110]
    return _BY_NUMBER.get(error_number(exc))


def failure_name(exc: BaseException) -> str | None:
    """The POSIX name of a failure ("ECONNREFUSED"), whatever the system's number, or None."""
    failure = failure_of(exc)
    return None if failure is None else failure.name


def outcome_of(exc: BaseException | None) -> str:
    """What a failure says about reaching the other side (None: there was no failure)."""
    if exc is None:
        return OK
    failure = failure_of(exc)
    return FAILED if failure is None else failure.outcome


def is_refusal(exc: BaseException) -> bool:
    """True when the other laptop answered that nothing listens there (a refusal, or the reset
    by which Windows reports the same for UDP)."""
    return outcome_of(exc) == REFUSED


def what_error_means(number: int, system: str | None = None) -> str:
    """An error number (as in '[WinError 10054]' or '[Errno 111]') in words, for that system
    ("windows", "macos" or "linux"; default: this one)."""
    if system is None:
        from labsock.logic.lan_advice import this_system

        system = this_system()
    failure = _BY_NUMBER.get(number)
    if failure is None or getattr(failure, system, None) != number:
        return (
            f"Error {number} is not one labsock knows. Search for 'errno {number}' (macOS, "
            f"Linux) or 'WinError {number}' (Windows) together with the action you tried."
        )
    words = failure.words
    name = failure.name
    if system == "windows":
        name = "WSA" + name
        words = failure.windows_words or words
    return f"Error {number}: {name}, {failure.meaning}: {words}"


def where(proto: str | None, host: str | None, port: int | None) -> str:
    """Name an endpoint the way the notebooks print it: '127.0.0.1:12000 (UDP)'."""
    text = f"{host}:{port}" if host is not None and port is not None else str(host or port or "")
    if not text:
        return ""  # no endpoint: "on  (TCP)" would read as a missing word
    return f"{text} ({proto.upper()})" if proto else text


# -- explain(): a failure in the middle of an action ---------------------------------------------

SERVER_HINT = (
    "Is the server running (run its cell, or `python -m labsock serve` on the other laptop)? "
    "Are the IP address and port the ones the server printed?"
)
LAN_HINT = (
    "If the server is on another laptop: does it listen on the network (host='0.0.0.0', not "
    "127.0.0.1), does its firewall allow Python, and are both laptops on the same Wi-Fi?"
)
# What an action is, in the words ADVICE is keyed by (most particular first).
SITUATIONS = {
    "listen": ("listen", "server"),  # a server taking its port
    "bind-server": ("server",),
    "bind": ("bind",),  # a client taking a chosen local port
    "connect": ("connect", "talk"),  # a client talking to a server
    "send": ("talk",),
    "receive": ("talk",),
}

# "failure situation" or "failure" (any situation) -> what to say. Placeholders: at (the
# endpoint), host, port, PROTO, action, exc (the system's words), and the two hints above.
ADVICE = {
    "lookup": (
        "Could not find a computer called {host!r}. Check the spelling, or type the server's "
        "IPv4 address instead (four numbers like 127.0.0.1; on the server laptop `python -m "
        "labsock addresses` shows it)."
    ),
    "ETIMEDOUT connect": (
        "No answer from {at}: the connection attempt timed out. Nothing refused it, so the "
        "address is probably wrong, or a firewall or the Wi-Fi (client isolation) silently drops "
        "it. {lan_hint}"
    ),
    "ETIMEDOUT": (
        "No reply from {at} in time. {server_hint} With UDP a lost datagram looks the same, so "
        "try once more. {lan_hint}"
    ),
    "EADDRINUSE server": (
        "Port {port} ({PROTO}) on {host} is already in use by another program, perhaps a server "
        "started from another notebook (each open notebook has its own kernel, and keeps its "
        "servers) or from a terminal. In JupyterLab, the Running panel (the square-in-a-circle "
        "icon in the left bar) lists the notebooks whose kernels run: Shut Down the other "
        "notebook's kernel, then run this cell again. In a terminal, press Ctrl+C there. Or "
        "choose another port, for example port=12001, or port=0 to let the system pick a free "
        "one."
    ),
    "EADDRINUSE": (
        "Local port {port} is already in use, so the client cannot bind to it. Another client "
        "(perhaps from an earlier run of this cell, or another notebook) still holds it: stop "
        "that one, or choose another bind port."
    ),
    "ECONNREFUSED": (
        "Nothing is listening on {at}: the computer at that address answered that no program "
        "has that port open. {server_hint} A TCP client needs a TCP server and a UDP client a "
        "UDP server."
    ),
    "ECONNRESET": (
        "{at} closed the connection abruptly (connection reset). On UDP this means the last "
        "datagram reached a computer where nothing listens on that port. {server_hint}"
    ),
    "EADDRNOTAVAIL talk": (
        "This laptop could not open a connection to {at} from the chosen local port: the "
        "previous connection from that port to the same server may still be closing (TCP keeps "
        "it for up to a minute). Wait a minute, or choose another bind port."
    ),
    "EADDRNOTAVAIL": (
        "{host} is not an address of this laptop, so a server cannot listen on it. Use "
        "127.0.0.1 (this laptop only) or 0.0.0.0 (let other laptops connect); `python -m "
        "labsock addresses` lists this laptop's addresses."
    ),
    "EACCES server": (
        "The system did not allow {at}. Ports below 1024 need administrator rights: use a port "
        "from 1024 to 65535, such as 12000. On Windows a port can also sit in a range reserved "
        "by Hyper-V or WSL: `netsh interface ipv4 show excludedportrange protocol=tcp` lists "
        "them; choose a port outside."
    ),
    "EACCES": (
        "The system did not allow sending to {at}: a firewall rule on this laptop blocks it, or "
        "the address is a broadcast address. Check the address, and the firewall settings for "
        "Python."
    ),
    "ENETUNREACH": (
        "{at} cannot be reached from this laptop: no network leads there. Are you connected to "
        "the Wi-Fi, and is the address on the same network as yours (same first three numbers, "
        "usually)? `python -m labsock addresses` shows your networks."
    ),
    "EMSGSIZE": (
        "The message is too long for one UDP datagram to {at}. Send a shorter message, or use "
        "TCP, which splits long data for you."
    ),
    "anything": "Could not {action} on {at}: {exc}. {server_hint}",
    "anything nowhere": "Could not {action}: {exc}.",  # no endpoint to name
}
# Failures explained in the same words as another one; binding a chosen client port is refused
# for the same reasons as a server's.
_SAME_ADVICE = {"EPERM": "EACCES", "EHOSTUNREACH": "ENETUNREACH", "EACCES bind": "EACCES server"}


# A TCP port can be kept after its connection closed: the side that closed first holds it in
# TIME_WAIT, with no process behind it, so naming "another program" would send a student hunting
# for one that does not exist.
TIME_WAIT_WORDS = (
    "a TCP connection that closed moments ago still keeps it (the side that closes a connection "
    "first holds its port for a while, in TIME_WAIT: up to a minute on Linux, 2 minutes on "
    "other systems)"
)
# labsock's own servers set it already; on Linux the closed connection's program needs it too.
REUSE_FIX_ELSEWHERE = (
    "set SO_REUSEADDR before bind in your own program whose connection that was, "
    "`serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)` (labsock sets it on its own "
    "sockets, and on Linux both sides need it)"
)

# A program run by labsock has SO_REUSEADDR already (the bootstrap sets it before each TCP bind):
# a TIME_WAIT that still blocks its bind is left by a program run without labsock.
REUSE_SET_HERE = (
    "in the program whose connection that was (one run without labsock: a plain cell or a "
    "terminal), set SO_REUSEADDR before its bind, "
    "`serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`: labsock set it on this program, "
    "and on Linux both sides need it"
)


def closing_words(time_wait: bool | None, *, another="", fix=REUSE_FIX_ELSEWHERE) -> str:
    """What holds a TCP port a bind found taken when no process could be named: a connection in
    TIME_WAIT (time_wait True), or, where the system cannot tell (None), that or another program.
    another: the way to another port, in the caller's words ("use another port" if empty);
    fix: whose SO_REUSEADDR would have helped, in the caller's words (labsock's own servers
    have it: the closed connection's program needs it too)."""
    another = another or "use another port"
    if time_wait:
        return (
            f"No program holds it: {TIME_WAIT_WORDS}. Wait that long and run it again, or "
            f"{fix}, or {another}."
        )
    return (
        "Either another program holds it (a server started from another notebook or a "
        "terminal: stop that one, with Ctrl+C in its terminal or Shut Down in JupyterLab's "
        f"Running panel), or {TIME_WAIT_WORDS}: wait that long, or {fix}. Or {another}."
    )


def _same_advice(key: str) -> str:
    name, _, situation = key.partition(" ")
    key = f"{_SAME_ADVICE.get(name, name)} {situation}".strip()
    return _SAME_ADVICE.get(key, key)


def explain(
    exc: BaseException,
    *,
    action: str,
    proto: str | None = None,
    host: str | None = None,
    port: int | None = None,
) -> LabsockError:
    """Turn a socket exception into a LabsockError that says what to check.

    action is what was being attempted, in words: "listen", "send", "receive", "connect", "bind"
    (a client's local port), "bind-server" or "look up".
    """
    if isinstance(exc, LabsockError):
        return exc
    name = "lookup" if isinstance(exc, socket.gaierror) else failure_name(exc)
    at = where(proto, host, port)
    situations = (*SITUATIONS.get(action, ()), "" if at else "nowhere")
    # The most particular words first: this failure in this situation, then in any; then words
    # for any failure.
    keys = [f"{kind} {s}".strip() for kind in (name, "anything") for s in (*situations, "")]
    advice = next(ADVICE[k] for k in map(_same_advice, keys) if k in ADVICE)
    error = LabsockError(
        advice.format(
            at=at,
            host=host,
            port=port,
            PROTO=(proto or "udp").upper(),
            action=action,
            exc=f"{exc.__class__.__name__}: {exc}",
            server_hint=SERVER_HINT,
            lan_hint=LAN_HINT,
        )
    )
    error.failure = name
    return error
