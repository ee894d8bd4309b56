import socket
import subprocess
import threading

import pytest

import labsock

# Everything labsock runs in the background, by kind: (what lists them, what stops them), both
# public names of labsock. No test may leave any of them running; a new kind gets a row here.
BACKGROUND = {
    "servers": ("running_servers", "stop_all"),
    "counting clients": ("running_counters", "stop_counting"),
    "relays and TCP slicers": ("running_relays", "stop_relays"),
}


def still_running() -> dict[str, list[str]]:
    """What runs now, by kind, in words (taken before anything is stopped)."""
    found = {kind: getattr(labsock, running)() for kind, (running, _) in BACKGROUND.items()}
    return {kind: [repr(t) for t in things] for kind, things in found.items() if things}


@pytest.fixture(autouse=True)
def nothing_outlives_its_test():
    yield
    left = still_running()
    for _, stop in BACKGROUND.values():
        getattr(labsock, stop)()
    assert not left, f"a test left these running: {left}"


@pytest.fixture
def labsock_threads():
    """Names of labsock threads alive now (servers, views), to check that none leak."""

    def names():
        return sorted(t.name for t in threading.enumerate() if t.name.startswith("labsock"))

    return names


@pytest.fixture(autouse=True)
def fast_means_pure(request, monkeypatch):
    """A test marked fast tests pure logic: opening a socket, starting a thread or a process
    fails it (so the marker stays true as tests change)."""
    if request.node.get_closest_marker("fast") is None:
        return

    def refuse(*args, **kwargs):
        raise AssertionError("a test marked fast opened a socket or started a thread or process")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(threading.Thread, "start", refuse)
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
