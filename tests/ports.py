"""Free ports for tests: the one definition every test file imports."""

from __future__ import annotations

import contextlib
import random
import socket
import subprocess
import sys

# Ports the system never hands out by itself: below its range of automatic ports (Linux
# 32768-60999, macOS and Windows 49152-65535). A port taken from that range and released can be
# given to any client's connect() or sendto() in the moment before the test binds it (a full run
# makes thousands of clients, several at once); a port below it only to an explicit bind.
LOWEST = 20_000  # above the fixed ports the notebooks and tests use (11000-13001)
_given: set[int] = set()  # not handed out twice in one run: the test may not have bound it yet


def _automatic_ports() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            low, high = map(int, ports.read().split())
            return low, high
    except (OSError, ValueError):
        return 49152, 65535


def _bindable(family: int, kind: int, host: str, port: int) -> bool:
    with socket.socket(family, kind) as probe:
        try:
            probe.bind((host, port))  # TCP: fails on a closed connection's TIME_WAIT, as a
        except OSError:  # server's bind would
            return False
    return True


def free_port(kind: int | None = None, host: str = "127.0.0.1") -> int:
    """A port nothing holds on host now, and one the system does not give clients by itself.

    Without a kind, free for both UDP and TCP: most tests start a TCP server on it. A port free
    for UDP alone may still be TCP's, e.g. a closed client connection's in TIME_WAIT for a
    minute, and a server's bind then fails (a whole test run closes thousands of connections).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kinds = (socket.SOCK_DGRAM, socket.SOCK_STREAM) if kind is None else (kind,)
    top = _automatic_ports()[0] - 1
    if top - LOWEST < 1_000:  # the system gives out (nearly) every port: take one of its own
        return _given_by_the_system(family, kinds, host)
    if len(_given) > (top - LOWEST) // 2:
        _given.clear()
    while True:
        port = random.randint(LOWEST, top)
        if port not in _given and all(_bindable(family, k, host, port) for k in kinds):
            _given.add(port)
            return port


def _given_by_the_system(family: int, kinds: tuple, host: str) -> int:
    while True:
        with socket.socket(family, kinds[0]) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        if all(_bindable(family, k, host, port) for k in kinds[1:]):
            return port


def free_port_for_both(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP (for examples that use one number for either)."""
    return free_port(None, host)


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


@contextlib.contextmanager
def held_by_another_process(kind: int = socket.SOCK_STREAM):
    """(process, port): a process outside labsock holding a port of 127.0.0.1 (TCP: listening),
    until the block ends."""
    port = free_port()
    listen = "s.listen()\n" if kind == socket.SOCK_STREAM else ""
    code = (
        f"import socket, sys\ns = socket.socket(socket.AF_INET, {int(kind)})\n"
        f"s.bind(('127.0.0.1', {port}))\n{listen}print('bound', flush=True)\nsys.stdin.read()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline() == "bound\n"
        yield process, port
    finally:
        process.kill()
        process.wait()
