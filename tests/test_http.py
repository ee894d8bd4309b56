"""HTTP requests and responses from bytes, in any pieces; exchanges put back together from a
server's log. Pure logic: no sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labsock.logic.exchanges import KEPT, RECEIVED, SENT, Piece, exchanges
from labsock.logic.http import (
    MAX_HEAD,
    HttpError,
    RequestParser,
    ResponseParser,
    advice,
    parse_response,
    pictures_in,
    response_bytes,
)

pytestmark = pytest.mark.fast

CHROME = (
    b"GET /picture.html HTTP/1.1\r\nHost: 127.0.0.1:6789\r\nConnection: keep-alive\r\n"
    b"User-Agent: Mozilla/5.0\r\nAccept: text/html,*/*;q=0.8\r\n\r\n"
)
PAGE = b"<html><body><img src='picture.png'></body></html>\n"


def cuts(data: bytes, points: list[int]) -> list[bytes]:
    points = sorted({p % (len(data) + 1) for p in points})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def test_a_browser_request_in_one_piece():
    (request,) = RequestParser().feed(CHROME)
    assert (request.method, request.target, request.version) == ("GET", "/picture.html", "HTTP/1.1")
    assert request.head.header("host") == "127.0.0.1:6789"
    assert request.head.raw == CHROME
    assert request.head.line_end == "\r\n"


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
def test_any_split_gives_the_same_requests(points):
    stream = CHROME + b"POST /form HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + CHROME
    parser = RequestParser()
    got = [r for piece in cuts(stream, points) for r in parser.feed(piece)]
    assert [(r.method, r.target, r.body) for r in got] == [
        ("GET", "/picture.html", b""),
        ("POST", "/form", b"hello"),
        ("GET", "/picture.html", b""),
    ]
    assert not parser.partial


def test_half_a_request_waits_for_its_blank_line():
    parser = RequestParser()
    assert parser.feed(CHROME[:40]) == []
    assert parser.partial
    assert len(parser.feed(CHROME[40:])) == 1


def test_lines_ending_in_newline_alone_are_read_and_noted():
    (request,) = RequestParser().feed(b"GET / HTTP/1.0\nHost: x\n\n")
    assert request.target == "/" and request.head.line_end == "\n"
    response = parse_response(b"HTTP/1.0 200 OK\nContent-Type: text/html\n\n<p>hi</p>")
    assert response.status == 200 and response.body == b"<p>hi</p>"
    assert any("'\\r\\n'" in note for note in advice(response.head))


def test_the_textbook_minimal_response_is_read_with_advice_only():
    response = parse_response(b"HTTP/1.1 200 OK\r\n\r\n" + PAGE)
    assert (response.status, response.reason, response.body) == (200, "OK", PAGE)
    assert [note.split(":")[0] for note in advice(response.head)] == ["No Content-Type header"]
    assert advice(parse_response(response_bytes(200, PAGE)).head) == []


def test_no_blank_line_after_the_status_line_is_named():
    with pytest.raises(HttpError, match="blank line"):
        parse_response(b"HTTP/1.1 200 OK\r\n" + PAGE)
    # with an empty line further down the page, the page's first line is not a header line
    with pytest.raises(HttpError, match="is not a header line.*blank line missing"):
        parse_response(b"HTTP/1.1 200 OK\r\n<html>\r\n\r\n<body></body>")


def test_not_a_status_line():
    with pytest.raises(HttpError, match="not a status line"):
        parse_response(b"200 OK\r\n\r\nhi")
    with pytest.raises(HttpError, match="without sending anything"):
        parse_response(b"")


@given(st.lists(st.integers(min_value=0, max_value=5_000), max_size=6))
def test_responses_with_a_length_come_out_whole_whatever_the_pieces(points):
    picture = bytes(range(256)) * 3
    stream = response_bytes(200, PAGE) + response_bytes(200, picture, "image/png")
    parser = ResponseParser()
    got = [r for piece in cuts(stream, points) for r in parser.feed(piece)]
    assert [r.body for r in got] == [PAGE, picture]
    assert parser.finish() == []


def test_a_body_cut_short_by_the_close_is_marked():
    parser = ResponseParser()
    assert parser.feed(response_bytes(200, PAGE)[:-5]) == []
    (response,) = parser.finish()
    assert not response.complete and "connection ended" in response.problems[0]


def test_heads_and_bodies_are_bounded():
    with pytest.raises(HttpError, match="without the blank line"):
        RequestParser().feed(b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * MAX_HEAD)
    with pytest.raises(HttpError, match="at most"):
        ResponseParser(max_body=100).feed(b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n")
    with pytest.raises(HttpError, match="beyond"):
        ResponseParser(max_body=100).feed(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 101)


def test_exchanges_pair_each_request_with_its_answer_by_connection():
    page, picture = ("10.0.0.1", 50001), ("10.0.0.1", 50002)
    pieces = [
        Piece(page, 1.0, RECEIVED, CHROME),
        Piece(page, 1.1, SENT, b"HTTP/1.1 200 OK\r\n\r\n"),
        Piece(page, 1.2, SENT, PAGE),
        Piece(picture, 1.5, RECEIVED, CHROME.replace(b"/picture.html", b"/picture.png")),
        Piece(picture, 1.6, SENT, b"HTTP/1.1 404 Not Found\r\n\r\n<h1>404</h1>"),
        Piece(("10.0.0.1", 50003), 2.0, RECEIVED, b"GET /favicon.ico HT"),
    ]
    rows = exchanges(pieces)
    assert [(r.connection, r.what, r.answer) for r in rows] == [
        (1, "GET /picture.html", "200 OK"),
        (2, "GET /picture.png", "404 Not Found"),
        (3, "(no whole request)", "(no answer)"),
    ]
    assert rows[0].body_bytes == len(PAGE) and rows[0].answered_at == 1.1
    assert "blank line" in rows[2].request_error


def test_an_answer_without_a_blank_line_shows_as_not_http():
    pieces = [
        Piece(("1.2.3.4", 1), 1.0, RECEIVED, CHROME),
        Piece(("1.2.3.4", 1), 1.1, SENT, b"HTTP/1.1 200 OK\r\n" + PAGE),
    ]
    (row,) = exchanges(pieces)
    assert row.answer == "(not HTTP)" and "blank line" in row.response_error


def test_a_piece_as_long_as_labsock_keeps_marks_the_body_as_cut():
    head = b"HTTP/1.1 200 OK\r\n\r\n"
    kept = head + b"x" * (KEPT - len(head))  # the bootstrap kept KEPT bytes of a longer piece
    (row,) = exchanges(
        [Piece(("1.2.3.4", 1), 1.0, RECEIVED, CHROME), Piece(("1.2.3.4", 1), 1.1, SENT, kept)]
    )
    assert row.body_cut and row.body_bytes == KEPT - len(head)


def test_the_pictures_a_page_names():
    page = b"<p><IMG alt='x' src=\"a.png\"><img src=b/c.jpg width=3><img src='a.png'></p>"
    assert pictures_in(page) == ["a.png", "b/c.jpg"]
