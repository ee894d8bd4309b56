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
