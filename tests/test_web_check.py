"""Task 5: check_web_server against right web servers (each passes) and the usual wrong ones
(each fails the point that names its mistake); labsock's reference web server and HTTP client;
two connections at once; the exchanges read from a student's server's log."""

from __future__ import annotations

import socket
from html import escape
from pathlib import Path

import pytest

import labsock
from labsock.net.web_server import path_in_folder
from tests.ports import free_port

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # not UTF-8: text mode breaks it
PAGES = {
    "HelloWorld.html": b"<html><body><h1>Hello, World!</h1></body></html>\n",
    "picture.html": b"<html><body><img src='picture.png'></body></html>\n",
    "picture.png": PNG,
}
SECRET = b"a file outside the folder\n"

# The textbook's minimal answer: the request read to its blank line, a status line, the blank
# line, the file in binary. (One recv(1024) is not enough: see WRONG.)
TEXTBOOK = """\
from socket import *
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('127.0.0.1', {port}))
serverSocket.listen(1)
while True:
    connectionSocket, addr = serverSocket.accept()
    try:
        message = connectionSocket.recv(1024)
        while b'\\r\\n\\r\\n' not in message:
            piece = connectionSocket.recv(1024)
            if not piece:
                break
            message += piece
        filename = message.split()[1].decode()
        if '..' in filename:
            raise IOError
        f = open({folder!r} + filename, 'rb')
        outputdata = f.read()
        f.close()
        connectionSocket.send(b'HTTP/1.1 200 OK\\r\\n\\r\\n')
        connectionSocket.sendall(outputdata)
    except IOError:
        connectionSocket.send(b'HTTP/1.1 404 Not Found\\r\\n\\r\\n<h1>404 Not Found</h1>')
    connectionSocket.close()
"""

# Reads the request to its blank line through makefile, sends headers with the file.
WITH_HEADERS = """\
import mimetypes, os
from socket import *
FOLDER = {folder!r}

def serve(connectionSocket):
    with connectionSocket, connectionSocket.makefile('rb') as reader:
        request_line = reader.readline().decode()
        while reader.readline() not in (b'\\r\\n', b'\\n', b''):
            pass
        name = request_line.split()[1]
        path = os.path.join(FOLDER, name.lstrip('/'))
        if '..' in name.split('/') or not os.path.isfile(path):
            body = b'<h1>404 Not Found</h1>'
            head = 'HTTP/1.1 404 Not Found\\r\\nContent-Type: text/html\\r\\n'
        else:
            with open(path, 'rb') as f:
                body = f.read()
            kind = mimetypes.guess_type(path)[0] or 'application/octet-stream'
            head = f'HTTP/1.1 200 OK\\r\\nContent-Type: {{kind}}\\r\\n'
        head += f'Content-Length: {{len(body)}}\\r\\nConnection: close\\r\\n\\r\\n'
        connectionSocket.sendall(head.encode() + body)

serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('127.0.0.1', {port}))
serverSocket.listen(5)
while True:
    connectionSocket, addr = serverSocket.accept()
    {call}
"""
ONE_AT_A_TIME = WITH_HEADERS.replace("{call}", "serve(connectionSocket)")
THREADED = "import threading\n" + WITH_HEADERS.replace(
    "{call}", "threading.Thread(target=serve, args=(connectionSocket,)).start()"
)


def mistaken(point: str, *changes: tuple[str, str]) -> tuple[str, str]:
    """(TEXTBOOK with each (old, new) of changes replaced, the first point that must fail)."""
    program = TEXTBOOK
    for old, new in changes:
        program = program.replace(old, new)
    return program, point


WRONG = {
    # the mistake: (the program, the first point that must fail)
    "no blank line after the status line": mistaken(
        "GET /HelloWorld.html",
        ("b'HTTP/1.1 200 OK\\r\\n\\r\\n'", "b'HTTP/1.1 200 OK\\r\\n'"),
    ),
    "200 for a missing file": mistaken(
        "GET /no-such-file-here.html",
        ("b'HTTP/1.1 404 Not Found\\r\\n", "b'HTTP/1.1 200 OK\\r\\n"),
    ),
    "the file read as text": mistaken(
        "GET /picture.png",
        ("'rb')", "'r')"),
        ("sendall(outputdata)", "sendall(outputdata.encode())"),
    ),
    "ends after one request": mistaken("a second request", ("while True:\n", "if True:\n")),
    "reads only the first 1024 bytes of the request": mistaken(
        "a long request", ("while b'\\r\\n\\r\\n' not in message:", "while False:")
    ),
    "serves any file": mistaken("GET /../", ("if '..' in filename:", "if False:")),
}


@pytest.fixture
def folder(tmp_path) -> Path:
    web = tmp_path / "web"
    web.mkdir()
    for name, data in PAGES.items():
        (web / name).write_bytes(data)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    return web


@pytest.fixture
def start(tmp_path):
    started = []

    def start_program(code: str, name: str = "web_server"):
        job = labsock.Job(code, name, folder=tmp_path / "programs").start()
        # A cell gives a program 5 s to start waiting; a loaded machine may take longer, and
        # these tests are about what follows: a connection refused tells nothing of that.
        started.append(job)
        assert job.wait_until_ready(60) != "still starting", job.output
        return job

    yield start_program
    for job in started:
        job.stop()


def marks(checklist) -> dict[str, str]:
    return {point.what: point.mark for point in checklist.points}


def failing(checklist) -> list[str]:
    return [point.what for point in checklist.points if point.ok is False]


@pytest.mark.parametrize(
    "code",
    [TEXTBOOK, ONE_AT_A_TIME, THREADED],
    ids=["textbook minimal", "headers and makefile", "a thread per connection"],
)
def test_right_web_servers_pass_every_point(start, folder, code):
    port = free_port()
    start(code.format(port=port, folder=str(folder)))
    result = labsock.check_web_server(port, folder=folder)
    assert result.passed, str(result)
    # every file of the folder, a second request, the missing file, the split, the outside file
    whats = [point.what for point in result.points]
    assert sum(w.startswith("GET /") for w in whats) == 5
    assert any("two TCP segments" in w for w in whats)
    assert any("a long request" in w for w in whats)


def test_the_textbook_minimal_answer_gets_advice_not_failures(start, folder):
    port = free_port()
    start(TEXTBOOK.format(port=port, folder=str(folder)))
    result = labsock.check_web_server(port, folder=folder)
    assert result.passed
    assert [note.split(":")[0] for note in result.advice] == ["No Content-Type header"]
    assert "Advice (browsers forgive these)" in result._repr_html_()


def test_lines_ending_in_newline_alone_are_advice(start, folder):
    port = free_port()
    code = "\n".join(
        line.replace("\\r\\n", "\\n") if "head" in line else line
        for line in ONE_AT_A_TIME.splitlines()
    )
    start(code.format(port=port, folder=str(folder)))
    result = labsock.check_web_server(port, folder=folder)
    assert result.passed, str(result)
    assert any("'\\n' alone" in note for note in result.advice)


@pytest.mark.parametrize("mistake", list(WRONG))
def test_each_wrong_server_fails_the_point_that_names_its_mistake(start, folder, mistake):
    code, point = WRONG[mistake]
    port = free_port()
    start(code.format(port=port, folder=str(folder)))
    result = labsock.check_web_server(port, folder=folder)
    failed = failing(result)
    assert failed and failed[0].startswith(point), str(result)
    assert not result.passed
    hint = next(p.hint for p in result.points if p.ok is False)
    assert hint  # every failing point says what to look at


def test_the_hints_name_the_cause(start, folder):
    port = free_port()
    code, _ = WRONG["the file read as text"]
    start(code.format(port=port, folder=str(folder)))
    result = labsock.check_web_server(port, folder=folder)
    assert "failed at line" in str(result) and "open(..., 'rb')" in str(result)
    # the server died on the picture: what comes after is not checked, not failed
    assert [p.mark for p in result.points][-3:] == ["--", "--", "--"]

    port = free_port()
    code, _ = WRONG["no blank line after the status line"]
    start(code.format(port=port, folder=str(folder)), name="no_blank")
    result = labsock.check_web_server(port, program="no_blank", folder=folder)
    assert "blank line" in str(result)


def test_without_a_server_the_check_says_so_and_stops(folder):
    result = labsock.check_web_server(free_port(), program="nobody", folder=folder)
    assert [p.mark for p in result.points] == ["NO"]
    assert "No program called 'nobody'" in str(result)


# -- labsock's reference web server and client ---------------------------------------------------


def test_the_reference_server_serves_the_folder_and_nothing_else(folder):
    with labsock.serve_web(folder, port=0) as server:
        assert labsock.http_get("/picture.png", port=server.port).body == PNG
        page = labsock.http_get("/HelloWorld.html", port=server.port)
        assert page.head.header("Content-Type") == "text/html; charset=utf-8"
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/nothing.html"):
            assert labsock.http_get(path, port=server.port).status == 404, path
        result = labsock.check_web_server(server.port, program=None, folder=folder)
        assert result.passed, str(result)
        assert result.advice == []
        assert "GET /picture.png HTTP/1.1" in server.log.texts()[0]


def test_browse_asks_for_the_page_then_its_picture(folder):
    with labsock.serve_web(folder, port=0) as server:
        browsed = labsock.browse("/picture.html", port=server.port)
    assert repr(browsed) == (
        f"GET /picture.html -> 200 OK ({len(PAGES['picture.html'])} bytes)\n"
        f"GET /picture.png -> 200 OK ({len(PNG):,} bytes)"
    )
    assert browsed.ok
    gone = labsock.browse("/picture.html", port=server.port)
    assert repr(gone).startswith("GET /picture.html -> no answer: Nothing is listening")


def test_paths_never_leave_the_folder(folder, tmp_path):
    (folder / "out").symlink_to(tmp_path / "secret.txt")
    assert path_in_folder(folder, "/picture.png") == (folder / "picture.png").resolve()
    assert path_in_folder(folder, "/picture.png?size=2") == (folder / "picture.png").resolve()
    for target in ("/out", "/../secret.txt", "/web/../../secret.txt", "/%2E%2E/secret.txt"):
        assert path_in_folder(folder, target) is None, target


@pytest.mark.parametrize("threads", [True, False])
def test_two_at_once_tells_a_threaded_server_from_a_one_at_a_time_one(folder, threads):
    with labsock.serve_web(folder, port=0, threads=threads) as server:
        result = labsock.check_two_at_once(server.port, program=None, hold=0.5)
    assert [p.ok for p in result.checklist.points] == [True, threads], str(result)
    # The verdict above is the check's rule (B's first byte before A sent its request). Which of
    # the two answers the client's readers saw first is not compared: one at a time, they come
    # within microseconds of each other and the readers' wake-ups order them either way.
    assert ("B waited until A was done" in str(result)) != threads


def test_the_students_threaded_server_passes_two_at_once(start, folder):
    port = free_port()
    start(THREADED.format(port=port, folder=str(folder)), name="threaded_server")
    result = labsock.check_two_at_once(port, hold=0.5)
    assert result.checklist.passed, str(result)


def test_the_exchanges_of_a_students_server(start, folder):
    port = free_port()
    server = start(TEXTBOOK.format(port=port, folder=str(folder)))
    labsock.http_get("/picture.html", port=port)
    labsock.http_get("/picture.png", port=port)
    labsock.http_get("/favicon.ico", port=port)
    view = labsock.web_exchanges(server)
    assert view.summary() == [
        "connection 1: GET /picture.html -> 200 OK",
        "connection 2: GET /picture.png -> 200 OK",
        "connection 3: GET /favicon.ico -> 404 Not Found",
    ]
    text = str(view)
    assert "GET /picture.html HTTP/1.1\\r\\n" in text and "HTTP/1.1 200 OK\\r\\n" in text
    assert f"... then {len(PAGES['picture.html'])} bytes of body" in text
    assert f"... then {len(PNG):,} bytes of body" in text
    assert len(view.lanes()) == 3


def test_received_text_is_escaped_in_the_exchange_view(start, folder):
    port = free_port()
    server = start(TEXTBOOK.format(port=port, folder=str(folder)))
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /<b>x\x1b[2J HTTP/1.1\r\nX: <script>\r\nCookie: _xsrf=secret\r\n\r\n")
        sock.recv(1024)
    view = labsock.web_exchanges(server)
    html = view._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\x1b" not in html and "\x1b" not in str(view) and "\\x1b[2J" in str(view)
    # login cookies never land in a notebook's output
    assert "secret" not in html and "secret" not in str(view)
    assert "Cookie: (12 characters not shown" in str(view)


def test_the_link_says_which_case_it_is_in(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    here = labsock.web_link("/picture.html", 6789)
    assert here.url == "http://127.0.0.1:6789/picture.html"
    assert "runs on your laptop" in str(here)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    hub = labsock.web_link("picture.html", 6789)
    assert hub.url == "/user/ada/proxy/6789/picture.html"
    assert (
        "JupyterHub" in str(hub) and "href='/user/ada/proxy/6789/picture.html'" in hub._repr_html_()
    )
    hub.proxy = False
    assert "pip install jupyter-server-proxy" in str(hub)


def test_two_at_once_says_a_stub_that_ended_is_not_written(start, folder):
    # The student version's threaded server: its loop body is still the stub, so the program
    # ends at the first accept. The check must say that, not "serves one connection at a time".
    port = free_port()
    stub = (
        "from socket import *\n"
        "serverSocket = socket(AF_INET, SOCK_STREAM)\n"
        f"serverSocket.bind(('127.0.0.1', {port}))\n"
        "serverSocket.listen(5)\n"
        "while True:\n"
        "    connectionSocket, addr = serverSocket.accept()\n"
        "    # YOUR CODE HERE\n"
        "    from labsock import your_code_here; your_code_here()\n"
    )
    start(stub, name="threaded_server")
    result = labsock.check_two_at_once(port, hold=0.5)
    text = str(result)
    assert [p.ok for p in result.checklist.points] == [False, False, False], text
    assert "B waited until A was done" not in text
    for point in result.checklist.points:
        assert "threaded_server is not written yet" in point.hint, point.hint
    assert ".." not in text and ".;" not in text


def test_browse_names_the_server_program_that_ended_on_the_request(start, folder):
    # The student version's web server: the stub after accept ends it at the first request.
    port = free_port()
    stub = (
        "from socket import *\n"
        "serverSocket = socket(AF_INET, SOCK_STREAM)\n"
        f"serverSocket.bind(('127.0.0.1', {port}))\n"
        "serverSocket.listen(1)\n"
        "while True:\n"
        "    connectionSocket, addr = serverSocket.accept()\n"
        "    # YOUR CODE HERE\n"
        "    from labsock import your_code_here; your_code_here()\n"
    )
    start(stub)
    browsed = repr(labsock.browse("/picture.html", port=port))
    assert browsed.startswith("GET /picture.html -> no answer: "), browsed
    assert "(web_server: not written yet" in browsed and "its cell says why" in browsed, browsed


def test_a_long_header_token_may_wrap_after_its_commas_and_semicolons_only():
    """Chromium's Accept is one token of 135 characters: the view lets it wrap after its commas
    and semicolons (<wbr>), never inside a word or an escaped character, and hides no text."""
    from labsock.logic.exchanges import RECEIVED, Piece, exchanges
    from labsock.show.web_view import WebExchanges

    accept = "text/html,application/xml;q=0.9,*/*;q=0.8,<b>&amp;;x</b>"
    request = f"GET / HTTP/1.1\r\nAccept: {accept}\r\n\r\n".encode()
    view = WebExchanges(exchanges([Piece(("127.0.0.1", 50000), 1.0, RECEIVED, request)]), "web")
    html = view._repr_html_()
    line = html[html.index("Accept: ") : html.index("<span", html.index("Accept: "))]
    assert line.replace("<wbr>", "") == "Accept: " + escape(accept)
    parts = line.split("<wbr>")
    assert all(part.endswith((",", ";")) for part in parts[:-1]), parts
    assert len(parts) == accept.count(",") + accept.count(";") + 1


@pytest.mark.parametrize(
    ("ended", "refused", "waited"), [(True, False, 3.0), (False, True, 3.0), (False, False, 0.5)]
)
def test_a_server_that_closed_the_connection_is_given_time_to_be_seen_ended(ended, refused, waited):
    """A server not written yet ends at the first request; on a loaded machine its end is noted
    more than half a second after its connection closes, and browse() and check_web_server then
    left out why ("its cell says why"). A server still there when the time ran out is alive."""
    from labsock.net.web_client import Conversation, wait_for_its_end

    class Program:
        waits = []

        def wait(self, timeout):
            self.waits.append(timeout)

    talk = Conversation(started=0.0, ended_at=1.0 if ended else None, refused=refused)
    program = Program()
    wait_for_its_end(program, talk)
    assert program.waits == [waited]
