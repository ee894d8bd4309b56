"""labsock and the textbook's own programs talk both ways, over UDP and TCP (issue 10, part 4).

The four programs are Kurose & Ross's, unchanged but for the port (a free one, not 12000), run as
separate processes with `python -u` as a student runs them from a terminal. Newline and
length-prefix framing stay available for the framing lesson (framing="line" / "length").
"""

import socket
import subprocess
import sys
import textwrap

import pytest

from labsock import TCPServer, UDPServer, send_tcp, send_udp
from labsock.logic.framing import frame_length_prefixed
from tests.ports import free_port
from tests.textbook import (
    TCP_CLIENT,
    TCP_SERVER,
    TCP_SERVER_KEEPS_CONNECTION,
    UDP_CLIENT,
    UDP_SERVER,
)


def run_client(program: str, port: int, typed: str) -> str:
    done = subprocess.run(
        [sys.executable, "-u", "-c", textwrap.dedent(program).format(port=port)],
        input=typed + "\n",
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class TextbookServer:
    def __init__(self, program: str, kind):
        self.port = free_port(kind)
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-c", textwrap.dedent(program).format(port=self.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        # The textbook's own readiness line: it is printed after bind (and listen).
        assert self.process.stdout.readline() == "The server is ready to receive\n"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.process.terminate()
        self.process.wait(10)
        self.process.stdout.close()


def test_textbook_udp_client_against_labsock():
    with UDPServer(port=0) as server:
        out = run_client(UDP_CLIENT, server.port, "hello from the textbook")
    assert out == "Input lowercase sentence:HELLO FROM THE TEXTBOOK\n"
    assert server.log.texts() == ["hello from the textbook"]


def test_labsock_udp_client_against_the_textbook_server():
    with TextbookServer(UDP_SERVER, socket.SOCK_DGRAM) as textbook:
        assert send_udp("hello from labsock", port=textbook.port) == "HELLO FROM LABSOCK"


def test_textbook_tcp_client_against_labsock():
    # One send() without a newline, then recv(): answered once the client pauses.
    with TCPServer(port=0) as server:
        out = run_client(TCP_CLIENT, server.port, "hello from the textbook")
    assert out == "Input lowercase sentence:From Server:  HELLO FROM THE TEXTBOOK\n"
    assert server.log.texts() == ["hello from the textbook"]


def test_textbook_tcp_client_against_the_labsock_command():
    proc = subprocess.Popen(
        [sys.executable, "-m", "labsock", "serve", "tcp", "--port", "0", "--count", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(proc.stdout.readline().split(":")[1].split()[0])
    out = run_client(TCP_CLIENT, port, "as a new user would")
    assert out == "Input lowercase sentence:From Server:  AS A NEW USER WOULD\n"
    rest, _ = proc.communicate(timeout=20)
    assert rest.startswith("127.0.0.1:") and rest.endswith(": as a new user would\n")
    assert proc.returncode == 0


def test_labsock_tcp_client_against_the_textbook_server():
    # The textbook server answers one recv() and closes: the close ends the reply.
    with TextbookServer(TCP_SERVER, socket.SOCK_STREAM) as textbook:
        assert send_tcp("hello from labsock", port=textbook.port) == "HELLO FROM LABSOCK"
        assert send_tcp("and again", port=textbook.port) == "AND AGAIN"
        cli = subprocess.run(
            [sys.executable, "-m", "labsock", "send", "tcp", "from the command line"]
            + ["--port", str(textbook.port)],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert cli.stdout == "FROM THE COMMAND LINE\n", cli.stderr


def test_labsock_tcp_client_against_a_server_that_keeps_the_connection():
    # No newline and no close: the pause after the reply ends it.
    with TextbookServer(TCP_SERVER_KEEPS_CONNECTION, socket.SOCK_STREAM) as textbook:
        assert send_tcp("kept open", port=textbook.port) == "KEPT OPEN"


def test_line_framing_waits_for_the_newline():
    with (
        TCPServer(port=0, framing="line") as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock,
    ):
        sock.sendall(b"hel")
        sock.sendall(b"lo\n")  # had "hel" been taken as a message, the reply would be "HEL"
        assert sock.recv(100) == b"HELLO\n"
        assert send_tcp("x", port=server.port, framing="line") == "X"


def test_auto_framing_once_a_client_sent_a_newline_its_half_lines_wait():
    with (
        TCPServer(port=0) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock,
    ):
        sock.sendall(b"one\n")
        assert sock.recv(100) == b"ONE\n"  # a newline client: replies are lines too
        sock.sendall(b"tw")
        sock.sendall(b"o\n")
        assert sock.recv(100) == b"TWO\n"
        assert server.log.texts() == ["one", "two"]


def test_length_framing_both_ways():
    with TCPServer(port=0, framing="length") as server:
        # A newline inside is just a byte: what length framing is for.
        assert send_tcp("two\nlines", port=server.port, framing="length") == "TWO\nLINES"
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            stream = frame_length_prefixed(b"first") + frame_length_prefixed(b"second")
            for piece in (stream[:3], stream[3:11], stream[11:]):
                sock.sendall(piece)
            expected = frame_length_prefixed(b"FIRST") + frame_length_prefixed(b"SECOND")
            got = b""
            while len(got) < len(expected):
                got += sock.recv(100)
            assert got == expected
    assert server.log.texts() == ["two\nlines", "first", "second"]


@pytest.mark.parametrize("framing", ["sideways", "", None, 3])
def test_an_unknown_framing_is_explained(framing):
    from labsock import LabsockError

    with pytest.raises(LabsockError, match="is not a framing labsock knows"):
        TCPServer(port=0, framing=framing)
    with pytest.raises(LabsockError, match="is not a framing labsock knows"):
        send_tcp("x", port=9, framing=framing)
