"""Sockets made right for each system, so the rest of labsock never repeats these options."""

from __future__ import annotations

import socket
import sys

from labsock.logic.errors import explain
from labsock.logic.validation import (
    ANY_ADDRESS,
    is_ipv4,
    validate_host,
    validate_port,
)

# A UDP payload over IPv4 can be at most 65,535 - 8 (UDP header) - 20 (IP header) bytes.
UDP_MAX_PAYLOAD = 65_507
# Default receive buffers hold a few hundred small datagrams; bursts from many clients need more.
UDP_RECEIVE_BUFFER = 4 * 1024 * 1024
TCP_BACKLOG = 128


def resolve(host: str, *, purpose: str = "destination", proto: str = "udp", port=None) -> str:
    """Return host as an IPv4 address, looking a name up only when it is not one already."""
    host = validate_host(host, purpose=purpose)
    if is_ipv4(host):
        return host
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET)
    except OSError as exc:
        raise explain(exc, action="look up", proto=proto, host=host, port=port) from None
    return infos[0][4][0]


def _bind(sock: socket.socket, proto: str, host: str, port: int, role: str) -> None:
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        action = "bind-server" if role == "server" else "bind"
        raise explain(exc, action=action, proto=proto, host=host, port=port) from None


def udp_socket(host: str | None = None, port: int | None = None, *, role: str = "server"):
    """A UDP socket, bound when host and port are given, with a large receive buffer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Neither SO_REUSEADDR nor SO_REUSEPORT on UDP: both let a second socket share the port, and
    # one of the two then silently gets nothing (a re-run cell's old server, orphaned).
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
    except OSError:
        pass  # the system may cap the buffer; the default still works, just with less headroom
    if port is not None:
        _bind(sock, "udp", host or ANY_ADDRESS, port, role)
    return sock


def tcp_listener(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if sys.platform == "win32":
        # On Windows SO_REUSEADDR would let two servers share a port; this forbids it instead.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
    else:
        # Re-binding right after a stop works although old connections sit in TIME_WAIT; a second
        # live listener on the port is still refused.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    _bind(sock, "tcp", host, port, "server")
    sock.listen(TCP_BACKLOG)
    return sock


def tcp_tune(sock: socket.socket) -> None:
    # Replies go out at once: Nagle would hold a small reply back until the last one is acked.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def server_address(host, port) -> tuple[str, int]:
    """Check and resolve where a server should listen."""
    port = validate_port(port, allow_zero=True)
    return resolve(host, purpose="server", proto=None, port=port), port


def destination(host, port, proto: str) -> tuple[str, int]:
    """Check and resolve where a client should send."""
    port = validate_port(port)
    return resolve(host, purpose="destination", proto=proto, port=port), port


def bind_port_of(value) -> int | None:
    return None if value is None else validate_port(value, allow_zero=True, what="bind port")
