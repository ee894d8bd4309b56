"""Each socket failure becomes one paragraph that names what to check, on every system's codes."""

import errno
import socket

import pytest

from labsock.logic.errors import ADVICE, FAILURES, SITUATIONS, LabsockError, explain

pytestmark = pytest.mark.fast  # no sockets, threads or processes: pytest -m fast


def os_error(code):
    return OSError(code, "system text")


@pytest.mark.parametrize(
    ("exc", "action", "expected"),
    [
        (socket.gaierror(-2, "Name or service not known"), "look up", "Could not find a computer"),
        (TimeoutError(), "receive", "No reply from 127.0.0.1:12000 (UDP) in time"),
        (TimeoutError(), "connect", "connection attempt timed out"),
        (os_error(errno.EADDRINUSE), "listen", "already in use by another program"),
        (os_error(10048), "listen", "already in use by another program"),  # Windows
        (os_error(48), "bind-server", "already in use by another program"),  # macOS
        (os_error(errno.EADDRINUSE), "bind", "Local port 12000 is already in use"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "x"), "receive", "Nothing is listening"),
        (os_error(10061), "connect", "Nothing is listening"),
        (os_error(10054), "receive", "closed the connection abruptly"),
        (os_error(errno.EADDRNOTAVAIL), "listen", "is not an address of this laptop"),
        (os_error(errno.EADDRNOTAVAIL), "connect", "from the chosen local port"),
        (os_error(10013), "listen", "excludedportrange"),
        (os_error(errno.EACCES), "send", "firewall"),
        (os_error(errno.ENETUNREACH), "connect", "cannot be reached from this laptop"),
        (os_error(10065), "connect", "cannot be reached from this laptop"),
        (os_error(errno.EMSGSIZE), "send", "too long for one UDP datagram"),
        (os_error(errno.EBADF), "send", "Could not send on 127.0.0.1:12000 (UDP)"),
        (os_error(errno.EACCES), "bind", "Ports below 1024"),  # as a server's port
        (os_error(errno.EPERM), "send", "firewall rule on this laptop"),
        (os_error(errno.ENOBUFS), "send", "Could not send on 127.0.0.1:12000 (UDP)"),
    ],
)
def test_translation(exc, action, expected):
    error = explain(exc, action=action, proto="udp", host="127.0.0.1", port=12000)
    assert isinstance(error, LabsockError)
    assert expected in str(error)
    assert "\n" not in str(error)  # one paragraph


def test_notebook_shows_the_advice_without_a_traceback():
    error = LabsockError("Check the port.")
    assert error._render_traceback_() == ["\x1b[31mLabsockError\x1b[0m: Check the port."]


def test_without_an_endpoint_the_advice_says_only_what_failed():
    error = explain(os_error(errno.EBADF), action="send")
    assert str(error) == "Could not send: OSError: [Errno 9] system text."


def test_every_advice_names_a_known_failure_and_situation():
    names = {f.name for f in FAILURES} | {"lookup", "anything"}
    situations = {s for words in SITUATIONS.values() for s in words} | {"nowhere"}
    for key in ADVICE:
        name, _, situation = key.partition(" ")
        assert name in names and (not situation or situation in situations), key


def test_a_failure_without_an_endpoint_names_none():
    error = explain(
        OSError(107, "Transport endpoint is not connected"), action="receive", proto="tcp"
    )
    assert (
        str(error) == "Could not receive: OSError: [Errno 107] Transport endpoint is not connected."
    )
