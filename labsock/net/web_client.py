"""An HTTP client that shows what happened: labsock's reference client and the self-check's.

    labsock.http_get("/HelloWorld.html", port=6789)   # -> Response (status, headers, body)

`converse` sends a request in the pieces given (a pause between them, so each is its own TCP
segment) and reads until the server closes, the response is complete, or the time is up; it
returns everything, with the moment each thing happened, for checks and timelines.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from labsock.logic.errors import LabsockError, explain
from labsock.logic.http import MAX_BODY, HttpError, Response, ResponseParser
from labsock.net.sockets import destination, tcp_tune


def request_bytes(path: str, host: str = "127.0.0.1", port: int = 6789, *, extra: str = ""):
    """A GET request as a browser would send it, shortened to what HTTP/1.1 needs; extra: more
    header lines, each ending in \\r\\n."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: labsock\r\n"
        f"Accept: */*\r\n{extra}Connection: close\r\n\r\n"
    ).encode("latin-1")


@dataclass
class Conversation:
    """One connection: what was sent and received, and when (seconds after `started`)."""

    started: float  # time.monotonic() at connect
    received: bytes = b""
    response: Response | None = None
    error: str | None = None  # why no whole response came (plain words)
    refused: bool = False  # nothing listened
    sent_at: list[float] = field(default_factory=list)  # each piece, as its sending began
    first_byte_at: float | None = None
    ended_at: float | None = None  # the server closed (or reset)
    gave_up_at: float | None = None  # the time ran out
    reset: bool = False  # the server reset the connection (closed it with bytes unread)

    @property
    def status(self) -> int | None:
        return self.response.status if self.response else None


def connect(host: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    tcp_tune(sock)  # each piece its own segment: no Nagle holding the second back
    return sock


def converse(
    host: str,
    port: int,
    pieces: list[bytes],
    *,
    pause=0.0,
    timeout: float = 2.0,
    sock: socket.socket | None = None,
    started: float | None = None,
) -> Conversation:
    """Send pieces (pause seconds apart) and read the response; never raises for the server's
    faults, which are put into words in .error instead."""
    talk = Conversation(started if started is not None else time.monotonic())
    try:
        sock = sock or connect(host, port, timeout)
    except ConnectionRefusedError:
        talk.refused, talk.error = True, f"Nothing is listening on {host}:{port} (TCP)."
        return talk
    except OSError as exc:
        talk.error = str(explain(exc, action="connect", proto="tcp", host=host, port=port))
        return talk
    with sock:
        try:
            for number, piece in enumerate(pieces):
                if number and callable(pause):
                    pause()  # e.g. wait until told: a connection held open on purpose
                elif number and pause:
                    time.sleep(pause)
                # Noted before sending: whatever the server does once the piece is there
                # happens after this moment, however late this thread runs again.
                talk.sent_at.append(time.monotonic() - talk.started)
                sock.sendall(piece)
        except OSError:
            pass  # the server may answer and close before the last piece: read what it said
        _read(sock, talk, timeout)
    return talk


def _read(sock: socket.socket, talk: Conversation, timeout: float) -> None:
    parser = ResponseParser()
    deadline = time.monotonic() + timeout
    chunks = []
    size = 0
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            data = sock.recv(65536)
            now = time.monotonic() - talk.started
            if not data:
                talk.ended_at = now
                break
            if talk.first_byte_at is None:
                talk.first_byte_at = now
            chunks.append(data)
            size += len(data)
            if size > MAX_BODY + 65536:
                talk.error = f"The response goes on beyond {MAX_BODY:,} bytes."
                return
            responses = parser.feed(data)
            if responses:  # a Content-Length said where it ends
                talk.response = responses[0]
                break
    except TimeoutError:
        talk.gave_up_at = time.monotonic() - talk.started
    except ConnectionResetError:
        talk.ended_at = time.monotonic() - talk.started
        talk.reset = True
    except HttpError as exc:
        talk.received = b"".join(chunks)
        talk.error = str(exc)
        return
    except OSError as exc:
        talk.error = f"The connection failed: {exc}."
    talk.received = b"".join(chunks)
    if talk.response is None and talk.error is None:
        _finish(parser, talk)


def _finish(parser: ResponseParser, talk: Conversation) -> None:
    try:
        responses = parser.finish()
    except HttpError as exc:
        talk.error = str(exc)
        return
    if not responses:
        talk.error = (
            "The server closed the connection without an answer."
            if talk.ended_at is not None
            else "No answer came in time."
        )
        return
    talk.response = responses[0]
    if talk.ended_at is None:
        # A body without Content-Length ends with the connection: it has to be closed.
        talk.error = (
            "The answer came, but the connection stayed open, so the browser cannot tell that "
            "the file is complete: close the connection after sending (connectionSocket.close())."
        )


def http_get(path: str = "/", port: int = 6789, host: str = "127.0.0.1", *, timeout=2.0):
    """labsock's HTTP client: GET path from the server, the Response (status, head, body)."""
    host, port = destination(host, port, "tcp")
    talk = converse(host, port, [request_bytes(path, host, port)], timeout=timeout)
    if talk.response is None or (talk.error and talk.ended_at is None):
        raise LabsockError(talk.error or "No answer came.")
    return talk.response


class Browsed:
    """What labsock's stand-in for a browser asked for and got: a page, then its pictures."""

    def __init__(self):
        self.rows: list[tuple[str, str]] = []  # (path, what came back)

    def __repr__(self) -> str:
        return "\n".join(f"GET {path} -> {result}" for path, result in self.rows)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(result.startswith("200 ") for _, result in self.rows)


def browse(path: str = "/", port: int = 6789, host: str = "127.0.0.1", *, timeout=2.0):
    """Ask for a page as a browser does, then for each picture it names, each on a connection of
    its own; never raises for the server's faults: each row says what came back."""
    from urllib.parse import urljoin, urlsplit

    from labsock.logic.http import pictures_in

    host, port = destination(host, port, "tcp")
    browsed = Browsed()
    wanted = [path]
    while wanted and len(browsed.rows) < 20:
        asked = wanted.pop(0)
        talk = converse(host, port, [request_bytes(asked, host, port)], timeout=timeout)
        if talk.response is None or (talk.error and talk.ended_at is None):
            why = f"{talk.error or 'nothing came'}{_server_program_ended(port, talk)}"
            browsed.rows.append((asked, f"no answer: {why}"))
            continue
        response = talk.response
        size = f"{len(response.body):,} bytes"
        browsed.rows.append((asked, f"{response.status} {response.reason} ({size})".strip()))
        if asked == path and response.status == 200:
            wanted += [urlsplit(urljoin(path, src)).path for src in pictures_in(response.body)]
    return browsed


def _server_program_ended(port: int, talk: Conversation) -> str:
    """ " (web_server: failed at line 12 ...; its cell says why.)" when the notebook's program
    that held this TCP port ended on the request (a server not written yet ends at its first
    accept); "" otherwise."""
    from labsock.net.programs.job import jobs

    for program in reversed(jobs()):  # the newest first
        if any(proto == "tcp" and held == port for proto, _, held in program.ports_used):
            wait_for_its_end(program, talk)
            return "" if program.running else f" ({program.state()}; its cell says why.)"
    return ""


# A server program that ended on the request (one not written yet ends at its first accept)
# closed the connection as its process ended, and the notebook notes the end a moment later:
# on a loaded machine (a JupyterHub) more than half a second. A server still there when the
# time ran out is alive: it is not waited for long.
ENDED_WAIT, SILENT_WAIT = 3.0, 0.5


def wait_for_its_end(program, talk: Conversation) -> None:
    """Let the end of a program that ended on this conversation be noted before it is judged."""
    ended = talk.ended_at is not None or talk.refused
    program.wait(ENDED_WAIT if ended else SILENT_WAIT)
