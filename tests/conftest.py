import threading

import pytest

import labsock


@pytest.fixture(autouse=True)
def no_server_outlives_its_test():
    yield
    left = labsock.running_servers()
    labsock.stop_all()
    assert not left, f"a test left servers running: {left}"


@pytest.fixture
def labsock_threads():
    """Names of labsock threads alive now (servers, views), to check that none leak."""

    def names():
        return sorted(t.name for t in threading.enumerate() if t.name.startswith("labsock"))

    return names
