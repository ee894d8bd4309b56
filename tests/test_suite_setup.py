"""How the suite itself runs: each test has a time limit, and the run a network of its own."""

from __future__ import annotations

import os
import socket

import pytest

from tests.ports import free_port


@pytest.mark.fast
def test_every_test_has_a_time_limit(request):
    """pytest-timeout is loaded and pyproject.toml gives each test a limit: a hang fails that
    test by name instead of stalling the run."""
    assert request.config.pluginmanager.hasplugin("timeout")
    assert 0 < float(request.config.getini("timeout")) <= 600


def test_a_run_as_root_has_a_network_of_its_own(request):
    """The notebooks' fixed ports never meet another run's: as root on Linux, the run moved into
    a network namespace of its own (conftest.py at the root), unlike the shell that started it."""
    why = getattr(request.config, "labsock_own_network", "the root conftest.py was not loaded")
    if why != "yes":
        pytest.skip(f"no network of its own: {why}")
    mine = os.readlink("/proc/self/ns/net")
    parents = os.readlink(f"/proc/{os.getppid()}/ns/net")
    assert mine != parents
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))  # its loopback is up


def test_a_free_port_is_free_for_a_tcp_server_too():
    """free_port() is free for TCP as well as UDP: a run closes thousands of connections, and
    each client's port stays in TIME_WAIT for a minute, where a server's bind fails. A port
    free for UDP alone was one of those once in a few hundred tests (connection refused)."""
    with socket.create_server(("127.0.0.1", 0), backlog=128) as server:
        in_time_wait = set()
        for _ in range(1000):  # the client closes first: its port stays in TIME_WAIT
            client = socket.create_connection(server.getsockname())
            accepted, _ = server.accept()
            in_time_wait.add(client.getsockname()[1])
            client.close()
            accepted.recv(1)
            accepted.close()
    ports = {free_port() for _ in range(300)}
    assert not ports & in_time_wait


@pytest.mark.skipif(
    not os.path.exists("/proc/sys/net/ipv4/ip_local_port_range"), reason="Linux's port range"
)
def test_a_free_port_is_one_no_client_can_be_given_by_the_system():
    """Tests run side by side, and a port the system hands out by itself (connect or sendto
    without a bind) could go to another test's client between free_port() and the test's bind:
    the final CI rehearsal of one stop met it once in 1,711 tests. So free_port() stays below
    the system's range of automatic ports, and never gives one port twice in a run."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
        lowest_automatic = int(ports.read().split()[0])
    given = [free_port() for _ in range(300)]
    given += [free_port(socket.SOCK_DGRAM) for _ in range(100)]
    assert max(given) < lowest_automatic
    assert len(set(given)) == len(given)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:  # each is really free
        udp.bind(("127.0.0.1", given[-1]))
