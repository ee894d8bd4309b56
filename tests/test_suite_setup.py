"""How the suite itself runs: each test has a time limit, and the run a network of its own."""

from __future__ import annotations

import os
import socket

import pytest


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
