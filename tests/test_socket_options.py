"""Socket details the issue names: Windows' UDP reset, backlog, TCP_NODELAY, receive buffer."""

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from labsock import TCPServer, UDPServer, send_tcp, send_udp
from labsock.net import servers, tcp_server
from labsock.net.sockets import TCP_BACKLOG, UDP_RECEIVE_BUFFER, tcp_tune, udp_socket


class ResetOnce:
    """A UDP socket whose first recvfrom fails as Windows' does after a reply hit a closed port."""

    def __init__(self, sock):
        self.sock = sock
        self.resets = 1

    def recvfrom(self, size):
        if self.resets:
            self.resets -= 1
            raise ConnectionResetError(10054, "An existing connection was forcibly closed")
        return self.sock.recvfrom(size)

    def __getattr__(self, name):
        return getattr(self.sock, name)


def test_udp_server_goes_on_after_a_connection_reset(monkeypatch):
    made = []

    def windows_like(*args, **kwargs):
        made.append(ResetOnce(udp_socket(*args, **kwargs)))
        return made[-1]

    monkeypatch.setattr(servers, "udp_socket", windows_like)
    with UDPServer(port=0) as server:
        assert send_udp("still serving", port=server.port) == "STILL SERVING"
        assert [s.resets for s in made] == [0]  # the reset really happened, and was survived


def test_udp_receive_buffer_is_enlarged_where_the_system_allows():
    rmem_max = Path("/proc/sys/net/core/rmem_max")
    if not rmem_max.exists():
        pytest.skip("needs Linux's /proc/sys/net/core/rmem_max to know the system's cap")
    cap = int(rmem_max.read_text())
    with UDPServer(port=0) as server:
        # Linux reports double the size asked for (bookkeeping), capped at twice rmem_max
        assert server.receive_buffer >= 2 * min(UDP_RECEIVE_BUFFER, cap)


def test_tcp_connections_have_nagle_off(monkeypatch):
    tuned = []

    def tune(sock):
        tuned.append(sock)
        tcp_tune(sock)

    monkeypatch.setattr(tcp_server, "tcp_tune", tune)
    with TCPServer(port=0) as server, socket.create_connection(("127.0.0.1", server.port)) as c:
        c.sendall(b"x\n")
        c.settimeout(5)
        c.recv(10)
        (conn,) = tuned  # the connection the server accepted, while it is open
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs the ss tool (iproute2)")
def test_tcp_listen_backlog_is_at_least_128():
    assert TCP_BACKLOG >= 128
    with TCPServer(port=0) as server:
        out = subprocess.run(
            ["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True, text=True
        ).stdout.split()
        # for a listening socket ss shows the backlog as Send-Q (third column)
        assert int(out[2]) >= 128, out


def test_tcp_reply_with_newlines_stays_one_line():
    with TCPServer(port=0, reply=lambda text: "two\nlines") as server:
        assert send_tcp("x", port=server.port) == "two lines"
