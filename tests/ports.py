"""Free ports for tests: the one definition every test file imports."""

from __future__ import annotations

import socket


def free_port(kind: int | None = None, host: str = "127.0.0.1") -> int:
    """A port nothing holds on host now (taken from the system, then released).

    Without a kind, free for both UDP and TCP: most tests start a TCP server on it. A port free
    for UDP alone may still be TCP's, e.g. a closed client connection's in TIME_WAIT for a
    minute, and a server's bind then fails (a whole test run closes thousands of connections).
    """
    if kind is None:
        return free_port_for_both(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def free_port_for_both(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP (for examples that use one number for either)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        port = free_port(socket.SOCK_DGRAM, host)
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((host, port))  # fails on a client's TIME_WAIT, as a server's bind would
            except OSError:
                continue
            return port


def port_in_time_wait(host: str = "127.0.0.1") -> int:
    """A free port that a closed connection keeps (TIME_WAIT) and no process holds.

    The server's side closes first, so the TIME_WAIT is on the server's port; neither socket sets
    SO_REUSEADDR, so on Linux a bind fails on it even with SO_REUSEADDR (both sides need it).
    """
    port = free_port(socket.SOCK_STREAM, host)
    with socket.socket() as listener:
        listener.bind((host, port))
        listener.listen(1)
        with socket.create_connection((host, port)) as client:
            connection, _ = listener.accept()
            connection.close()  # the server's side first: its port goes into TIME_WAIT
            assert client.recv(1) == b""  # the client saw the close, and now closes its side
    return port
