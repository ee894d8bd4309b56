"""A morning of re-running cells: 500 start/stop/re-run cycles of each server kind, and nothing
leaks: threads, file descriptors, sockets and ports are counted before and after and must match.
"""

from __future__ import annotations

import gc
import socket
import threading

import psutil
import pytest

import labsock
from tests.ports import free_port

CYCLES = 500

KINDS = [
    pytest.param(labsock.UDPServer, labsock.serve_udp, labsock.send_udp, id="udp"),
    pytest.param(labsock.TCPServer, labsock.serve_tcp, labsock.send_tcp, id="tcp"),
]


def resources() -> dict:
    """What a leaking server would leave behind in this process."""
    gc.collect()  # a socket only garbage would close is a leak, but not one to count here
    me = psutil.Process()
    return {
        "threads": threading.active_count(),
        "file descriptors": me.num_fds() if hasattr(me, "num_fds") else me.num_handles(),
        "inet sockets": len(me.net_connections(kind="inet")),
        "running servers": len(labsock.running_servers()),
    }


def assert_nothing_leaked(before: dict) -> None:
    """Threads, sockets and servers exactly as before; file descriptors within 2.

    A leak per cycle would leave 500 descriptors behind. Other tests' leftovers (a kernel
    client's zmq sockets, a browser's pipes) may close or open one on their own while these
    cycles run, which is not this server's doing.
    """
    after = resources()
    fds = "file descriptors"
    assert abs(after.pop(fds) - before[fds]) <= 2, (before, after)
    assert after == {key: value for key, value in before.items() if key != fds}


def assert_port_free(kind: int, port: int) -> None:
    """A plain bind, no socket options: works only if nothing holds the port any more."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("make, serve, send", KINDS)
def test_start_send_stop_cycles(make, serve, send):
    before = resources()
    ports = set()
    for cycle in range(CYCLES):
        server = make(port=0).start()
        ports.add(server.port)
        assert send(f"cycle {cycle}", port=server.port) == f"CYCLE {cycle}"
        server.stop()
        assert not server.running
    assert_nothing_leaked(before)
    kind = socket.SOCK_DGRAM if make is labsock.UDPServer else socket.SOCK_STREAM
    for port in sorted(ports)[:50]:
        assert_port_free(kind, port)


@pytest.mark.parametrize("make, serve, send", KINDS)
def test_restarting_the_same_server(make, serve, send):
    server = make(port=0)
    before = resources()
    for cycle in range(CYCLES):
        server.start()
        assert send(f"again {cycle}", port=server.port) == f"AGAIN {cycle}"
        server.stop()
    assert_nothing_leaked(before)
    assert server.log.message_count == CYCLES


@pytest.mark.parametrize("make, serve, send", KINDS)
def test_rerunning_a_server_cell(make, serve, send):
    """The cell `server = serve_udp(port=P)` run 500 times without a stop in between: each run
    replaces the last server on the port; the old one ends, with its thread and socket."""
    kind = socket.SOCK_DGRAM if make is labsock.UDPServer else socket.SOCK_STREAM
    port = free_port(kind)
    before = resources()
    previous = None
    for cycle in range(CYCLES):
        server = serve(port=port)
        assert server.port == port
        if previous is not None:
            assert not previous.running
        assert [s for s in labsock.running_servers() if s.port == port] == [server]
        assert send(f"run {cycle}", port=port) == f"RUN {cycle}"
        assert server.log.texts() == [f"run {cycle}"]
        previous = server
    server.stop()
    assert_nothing_leaked(before)
    assert_port_free(kind, port)


@pytest.mark.parametrize("make, serve, send", KINDS)
def test_rerunning_a_server_cell_with_its_live_view(make, serve, send):
    """As above, with the live view under the server cell: each old view ends with its server."""
    pytest.importorskip("ipywidgets")
    from labsock.show.views import watch

    kind = socket.SOCK_DGRAM if make is labsock.UDPServer else socket.SOCK_STREAM
    port = free_port(kind)
    before = resources()
    views = []
    for cycle in range(CYCLES // 5):
        server = serve(port=port)
        views.append(watch(server))
        assert send(f"view {cycle}", port=port) == f"VIEW {cycle}"
    server.stop()
    for view in views:
        assert view.wait(5), "a live view outlived its server"  # it ends by itself
    assert f"view {CYCLES // 5 - 1}" in views[-1].picture.value  # its last picture is up to date
    assert_nothing_leaked(before)
