"""Which request went with which response, on which connection: from pieces as a server saw them.

A web server's log (labsock.job(NAME).log and .sent_log) holds the TCP pieces the server received
and sent, each with the client's (ip, port): one port is one connection. Put back together per
connection, the received bytes are requests and the sent bytes responses; the n-th request of a
connection goes with its n-th response. Pure: pieces in, exchanges out (no sockets here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labsock.logic.http import HttpError, Request, RequestParser, Response, ResponseParser
from labsock.logic.wire import KEPT_BYTES

RECEIVED, SENT = "received", "sent"
# labsock's bootstrap keeps the first KEPT bytes of each piece: one of exactly that size may have
# been longer.
KEPT = KEPT_BYTES


@dataclass
class Piece:
    connection: tuple  # the client's (ip, port)
    time: float
    direction: str  # RECEIVED or SENT
    data: bytes


@dataclass
class Exchange:
    """One request and the response to it (either may be missing), on one connection."""

    connection: int  # 1, 2, ... in the order the connections began
    client: tuple
    request: Request | None = None
    response: Response | None = None
    requested_at: float | None = None  # when the request's last piece came
    answered_at: float | None = None  # when the response's first piece went
    request_error: str | None = None
    response_error: str | None = None
    cut: bool = False  # part of the request was not recorded (a long piece)
    body_bytes: int = 0  # bytes of the response's body the server sent (that labsock kept)
    body_cut: bool = False  # a piece sent was longer than labsock keeps: body_bytes is less

    @property
    def what(self) -> str:
        """'GET /picture.png', or what stood in the request's place."""
        if self.request is not None:
            return f"{self.request.method} {self.request.target}"
        return "(no whole request)"

    @property
    def answer(self) -> str:
        if self.response is not None:
            return f"{self.response.status} {self.response.reason}".strip()
        return "(no answer)" if self.response_error is None else "(not HTTP)"


@dataclass
class Connection:
    number: int
    client: tuple
    received: list[Piece] = field(default_factory=list)
    sent: list[Piece] = field(default_factory=list)

    @property
    def opened_at(self) -> float:
        return min(p.time for p in self.received + self.sent)

    @property
    def last_at(self) -> float:
        return max(p.time for p in self.received + self.sent)


def connections(pieces: list[Piece]) -> list[Connection]:
    """Pieces grouped by client address, connections numbered by their first piece."""
    found: dict[tuple, Connection] = {}
    for piece in sorted(pieces, key=lambda p: p.time):
        if piece.connection not in found:
            found[piece.connection] = Connection(len(found) + 1, piece.connection)
        side = found[piece.connection]
        (side.received if piece.direction == RECEIVED else side.sent).append(piece)
    return list(found.values())


def _requests(connection: Connection) -> tuple[list[tuple[Request, float]], str | None, bool]:
    parser = RequestParser()
    requests, cut = [], False
    for piece in connection.received:
        cut = cut or len(piece.data) == KEPT
        try:
            requests.extend((request, piece.time) for request in parser.feed(piece.data))
        except HttpError as exc:
            return requests, str(exc), cut
    if parser.partial:
        return requests, "The request's end (its blank line) has not come.", cut
    return requests, None, cut


def _responses(connection: Connection, head_requests: int) -> tuple[list[Response], str | None]:
    parser = ResponseParser(head_requests=head_requests)
    responses: list[Response] = []
    try:
        for piece in connection.sent:
            responses += parser.feed(piece.data)
        responses += parser.finish()
    except HttpError as exc:
        return responses, str(exc)
    return responses, None


def exchanges(pieces: list[Piece]) -> list[Exchange]:
    """One Exchange per request (and per response without one), connection by connection."""
    rows = []
    for connection in connections(pieces):
        requests, request_error, cut = _requests(connection)
        heads = sum(1 for request, _ in requests if request.method == "HEAD")
        responses, response_error = _responses(connection, heads)
        count = max(len(requests), len(responses), 1)
        body_cut = any(len(piece.data) == KEPT for piece in connection.sent)
        for index in range(count):
            row = Exchange(connection.number, connection.client, cut=cut, body_cut=body_cut)
            if index < len(requests):
                row.request, row.requested_at = requests[index]
            if index < len(responses):
                row.response = responses[index]
                row.body_bytes = len(row.response.body)
            rows.append(row)
        rows[-1].request_error = request_error
        rows[-1].response_error = response_error
        # When each response began: the first piece sent after its request came.
        sent_times = [p.time for p in connection.sent]
        for row in rows[-count:]:
            after = row.requested_at if row.requested_at is not None else connection.opened_at
            row.answered_at = next((t for t in sent_times if t >= after), None)
    return rows


@dataclass
class Lane:
    """One connection's timeline, seconds from the first connection's start."""

    name: str
    events: list[tuple[float, str]]  # (time, what happened)
    start: float = 0.0
    end: float | None = None
