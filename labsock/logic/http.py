"""HTTP/1.x requests and responses from bytes, piece by piece (no sockets here).

    parser = RequestParser()
    parser.feed(b"GET /HelloWorld.html HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n")  # -> []
    parser.feed(b"\\r\\n")                       # -> [Request('GET', '/HelloWorld.html', ...)]

Bytes go in as they came off a socket (any split), whole messages come out. A message's head
(its first line and header lines) is at most MAX_HEAD bytes and a body at most `max_body`, so
what a student's server or a browser sends cannot fill memory. Lines may end in "\\n" alone:
browsers forgive it, so it is noted as advice (`advice()`), not refused. What cannot be read is
an HttpError whose text says, in plain words, what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from labsock.logic.errors import LabsockError

MAX_HEAD = 16 * 1024  # bytes of first line and headers together (browsers send about 1 KB)
MAX_HEADERS = 100
MAX_BODY = 8 * 1024 * 1024
_STATUS = re.compile(r"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?")
_REQUEST = re.compile(r"([A-Za-z]+) (\S+) (HTTP/\d\.\d)")
_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class HttpError(LabsockError):
    """Bytes that are not an HTTP message; the text says what was wrong."""


@dataclass
class Head:
    """The first line and the header lines of a message, as sent."""

    first_line: str
    headers: list[tuple[str, str]]
    raw: bytes  # the head as it came, up to and including its blank line
    line_end: str  # "\r\n", "\n", or "mixed"

    def header(self, name: str) -> str | None:
        """The value of the first header of that name (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def text(self) -> str:
        """The head as text (Latin-1, as HTTP defines it: every byte is one character)."""
        return self.raw.decode("latin-1")


@dataclass
class Request:
    method: str
    target: str
    version: str
    head: Head
    body: bytes = b""


@dataclass
class Response:
    version: str
    status: int
    reason: str
    head: Head
    body: bytes = b""
    # False when the connection ended before the Content-Length promised was all there.
    complete: bool = True
    problems: list[str] = field(default_factory=list)


def _head_end(buffer: bytearray, start: int) -> tuple[int, int]:
    """(end of the head, where to look next time): end is -1 until a blank line has come.

    A blank line is "\\r\\n" or "\\n" right after a line's end; start is where the last look
    stopped, so feeding a head one byte at a time costs no more than feeding it whole."""
    at = max(start, 0)
    while True:
        newline = buffer.find(b"\n", at)
        if newline < 0:
            return -1, max(len(buffer) - 2, 0)
        line_start = buffer.rfind(b"\n", 0, newline) + 1 if newline else 0
        if newline > 0 and line_start > 0 and buffer[line_start:newline] in (b"", b"\r"):
            return newline + 1, newline + 1
        at = newline + 1


def _parse_head(raw: bytes, what: str) -> Head:
    lines = raw.split(b"\n")[:-1]  # the last element is what follows the blank line: nothing
    crlf = [line.endswith(b"\r") for line in lines]
    line_end = "\r\n" if all(crlf) else "\n" if not any(crlf) else "mixed"
    texts = [line.rstrip(b"\r").decode("latin-1") for line in lines]
    first, header_lines = texts[0], texts[1:-1]  # the last one is the blank line
    if len(header_lines) > MAX_HEADERS:
        raise HttpError(f"The {what} has {len(header_lines)} header lines; at most {MAX_HEADERS}.")
    headers = []
    for number, line in enumerate(header_lines, start=2):
        name, colon, value = line.partition(":")
        if not colon or not _NAME.fullmatch(name):
            raise HttpError(
                f"Line {number} of the {what}, {line[:60]!r}, is not a header line "
                "('Name: value'). Is the blank line missing after the first line? "
                "It ends the head: everything after it is the body."
            )
        headers.append((name, value.strip(" \t")))
    return Head(first, headers, bytes(raw), line_end)


class _Parser:
    what = "message"

    def __init__(self, max_body: int = MAX_BODY):
        self.max_body = max_body
        self._buffer = bytearray()
        self._look_from = 0
        self._head: Head | None = None
        self._need: int | None = None  # body bytes still expected, or None: until the close
        self.closed = False

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def _take_head(self) -> Head | None:
        end, self._look_from = _head_end(self._buffer, self._look_from)
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                raise HttpError(
                    f"The {self.what} goes on for more than {MAX_HEAD:,} bytes without the blank "
                    "line that ends its first line and headers."
                )
            return None
        if end > MAX_HEAD:
            raise HttpError(f"The {self.what}'s head is {end:,} bytes; at most {MAX_HEAD:,}.")
        raw = bytes(self._buffer[:end])
        del self._buffer[:end]
        self._look_from = 0
        return _parse_head(raw, self.what)

    def _length(self, head: Head) -> int | None:
        value = head.header("Content-Length")
        if value is None:
            return None
        if not value.isdigit():
            raise HttpError(f"Content-Length: {value[:40]!r} is not a number of bytes.")
        if int(value) > self.max_body:
            raise HttpError(
                f"The body is {int(value):,} bytes (Content-Length); at most {self.max_body:,}."
            )
        return int(value)


class RequestParser(_Parser):
    """Requests out of a client's byte stream, as many as it sends on one connection."""

    what = "request"

    def feed(self, data: bytes) -> list[Request]:
        self._buffer += data
        requests = []
        while True:
            if self._head is None:
                while self._buffer[:2] == b"\r\n" or self._buffer[:1] == b"\n":
                    del self._buffer[: 1 if self._buffer[:1] == b"\n" else 2]  # RFC 9112 2.2
                head = self._take_head()
                if head is None:
                    return requests
                match = _REQUEST.fullmatch(head.first_line)
                if not match:
                    raise HttpError(
                        f"The first line {head.first_line[:80]!r} is not a request line: it "
                        "should be like 'GET /HelloWorld.html HTTP/1.1'."
                    )
                self._head, self._need = head, self._length(head) or 0
                if head.header("Transfer-Encoding"):
                    raise HttpError("A request body sent in chunks is not supported here.")
            if len(self._buffer) < self._need:
                return requests
            body = bytes(self._buffer[: self._need])
            del self._buffer[: self._need]
            method, target, version = _REQUEST.fullmatch(self._head.first_line).groups()
            requests.append(Request(method, target, version, self._head, body))
            self._head = None

    @property
    def partial(self) -> bool:
        """True while part of a request waits for the rest."""
        return self._head is not None or bool(self._buffer.strip(b"\r\n"))


class ResponseParser(_Parser):
    """Responses out of a server's byte stream. `finish()` at the connection's end gives the
    last response whose body ran until the close (one without Content-Length)."""

    what = "response"

    def __init__(self, max_body: int = MAX_BODY, *, head_requests: int = 0):
        super().__init__(max_body)
        self.head_requests = head_requests  # answers to HEAD: no body follows their head
        self._response: Response | None = None

    def feed(self, data: bytes) -> list[Response]:
        self._buffer += data
        responses = []
        while True:
            if self._response is None:
                head = self._take_head()
                if head is None:
                    return responses
                self._response = self._start(head)
            if self._need is None:  # until the close
                if len(self._buffer) > self.max_body:
                    raise HttpError(f"The body goes on beyond {self.max_body:,} bytes.")
                return responses
            if len(self._buffer) < self._need:
                return responses
            responses.append(self._end(self._need))

    def _start(self, head: Head) -> Response:
        match = _STATUS.fullmatch(head.first_line)
        if not match:
            raise HttpError(
                f"The first line {head.first_line[:80]!r} is not a status line: it should be "
                "like 'HTTP/1.1 200 OK' (the version, the status code, its reason)."
            )
        major, minor, status, reason = match.groups()
        response = Response(f"HTTP/{major}.{minor}", int(status), reason or "", head)
        self._need = self._length(head)
        if self.head_requests or response.status in (204, 304) or response.status < 200:
            self.head_requests = max(self.head_requests - 1, 0)
            self._need = 0
        return response

    def _end(self, size: int) -> Response:
        response = self._response
        response.body = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._response, self._need = None, None
        return response

    def finish(self) -> list[Response]:
        """The connection has ended: the response still open, if any, as it stands."""
        self.closed = True
        if self._response is None:
            if self._buffer.strip():
                head = bytes(self._buffer[:80]).decode("latin-1")
                raise HttpError(
                    f"The response ended before the blank line that ends its status line and "
                    f"headers. It began {head!r}: after the status line send '\\r\\n' "
                    "once more, an empty line, before the file."
                )
            return []
        need = self._need
        response = self._end(len(self._buffer))
        if need is not None and len(response.body) < need:
            response.complete = False
            response.problems.append(
                f"Content-Length said {need:,} bytes, but the connection ended after "
                f"{len(response.body):,}."
            )
        return [response]


def parse_response(data: bytes, *, head_request: bool = False) -> Response:
    """The one response in everything a server sent on a connection that then ended."""
    parser = ResponseParser(head_requests=int(head_request))
    responses = parser.feed(data)
    responses += parser.finish()
    if not responses:
        raise HttpError("The server closed the connection without sending anything.")
    return responses[0]


def advice(head: Head, *, has_body: bool = True) -> list[str]:
    """What browsers forgive but HTTP asks for, in the response's head: plain sentences."""
    notes = []
    if head.line_end != "\r\n":
        notes.append(
            "Some lines of the status line and headers end in '\\n' alone; HTTP asks for "
            "'\\r\\n' at the end of each (browsers forgive it)."
        )
    if has_body and head.header("Content-Type") is None:
        notes.append(
            "No Content-Type header: the browser guesses what the file is. Say it, e.g. "
            "'Content-Type: text/html' for a page, 'image/png' for a picture."
        )
    return notes


def content_type(name: str) -> str:
    """The Content-Type for a file name, as a server would send it."""
    import mimetypes

    guessed, _ = mimetypes.guess_type(name)
    if guessed is None:
        return "application/octet-stream"
    return guessed + ("; charset=utf-8" if guessed.startswith("text/") else "")


def status_line(status: int) -> str:
    reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
    reasons |= {405: "Method Not Allowed", 500: "Internal Server Error"}
    return f"HTTP/1.1 {status} {reasons.get(status, 'Unknown')}"


def response_bytes(status: int, body: bytes, kind: str = "text/html; charset=utf-8") -> bytes:
    """A whole response: status line, headers, the blank line, the body."""
    head = (
        f"{status_line(status)}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


_PICTURE = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def pictures_in(page: bytes) -> list[str]:
    """The src of each <img> in an HTML page, in order, each once: what a browser asks for next."""
    found = _PICTURE.findall(page.decode("utf-8", "replace"))
    return list(dict.fromkeys(found))
