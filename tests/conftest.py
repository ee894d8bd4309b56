import os
import socket
import subprocess
import tempfile
import threading

import pytest

import labsock

# The record of what each kernel runs (labsock.net.other_notebooks) goes to a folder of this
# run's own, also for the kernels the tests start: a test never meets a student's notebooks,
# nor another test run's.
os.environ["LABSOCK_STATE_DIR"] = tempfile.mkdtemp(prefix="labsock-state-")

# Everything labsock runs in the background, by kind: the public labsock function that lists
# them (each thing listed has stop()). No test may leave any running; a new kind gets a row here.
BACKGROUND = {
    "servers": "running_servers",
    "counting clients": "running_counters",
    "relays and TCP slicers": "running_relays",
    "students' programs": "running_jobs",
}


@pytest.fixture(autouse=True)
def nothing_outlives_its_test():
    yield
    running = {kind: getattr(labsock, listed)() for kind, listed in BACKGROUND.items()}
    # labsock.running() lists every kind: one without its row above still shows here.
    listed = [thing for things in running.values() for thing in things]
    running["a kind without a row"] = [t for t in labsock.running() if t not in listed]
    left = {kind: [repr(t) for t in things] for kind, things in running.items() if things}
    for things in running.values():
        for thing in things:
            thing.stop()
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
