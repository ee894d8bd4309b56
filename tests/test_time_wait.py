"""A port kept by a connection that closed moments ago (TIME_WAIT) is said to be so, not blamed on
"another program" that nobody can find: in the parsing of /proc/net/tcp, in the choice of the
paragraph, and for real on a port this test puts in TIME_WAIT."""

import socket
import sys

import pytest

from labsock import LabsockError, TCPServer
from labsock.logic.errors import closing_words
from labsock.logic.proc_net import Holder, only_closing, states_on_port
from labsock.logic.program_errors import explain_failure
from labsock.net.port_holders import closing_on, holder_of
from tests.ports import port_in_time_wait

HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
)
# 2EE0 = 12000: a closed connection of the server's port (06), and a client's in TIME_WAIT on
# another port whose peer is 12000 (its local port is not 12000).
CLOSED_ONLY = HEADER + (
    "   0: 0100007F:2EE0 0100007F:D431 06 00000000:00000000 03:00000F2A 00000000 0 0 0 3\n"
    "   1: 0100007F:D432 0100007F:2EE0 06 00000000:00000000 03:00000F2A 00000000 0 0 0 3\n"
)
LISTENING_TOO = CLOSED_ONLY + (
    "   2: 00000000:2EE0 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 501 1\n"
)
CODE = (
    "from socket import *\nserverPort = 12000\nserverSocket = socket(AF_INET, SOCK_STREAM)\n"
    "serverSocket.bind(('', serverPort))\n"
)


def test_proc_net_states_of_a_port_tell_a_closed_connection_from_a_program():
    assert states_on_port(CLOSED_ONLY, 12000) == ["06"]
    assert only_closing(states_on_port(CLOSED_ONLY, 12000))
    assert not only_closing(states_on_port(LISTENING_TOO, 12000))  # a listener: a program's
    assert not only_closing(states_on_port(CLOSED_ONLY, 54322 + 1))  # nothing on that port
    assert states_on_port("garbage\nnot a row\n 0: zz:zz 0 06\n", 12000) == []


def test_closing_on_reads_both_tables(tmp_path):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(HEADER)
    (tmp_path / "net" / "tcp6").write_text(CLOSED_ONLY)
    if sys.platform.startswith("linux"):
        assert closing_on("tcp", 12000, tmp_path) is True
        (tmp_path / "net" / "tcp").write_text(LISTENING_TOO)
        assert closing_on("tcp", 12000, tmp_path) is False
    assert closing_on("udp", 12000, tmp_path) is False  # UDP has no connections to linger


def _port_taken(closing, who_holds=lambda proto, port: None) -> str:
    error = OSError(98, "Address already in use")
    error.labsock_call = ("bind", "tcp", ("", 12000))
    try:
        exec(compile("\n\n\nraise error\n", "s.py", "exec"), {"error": error})
    except OSError as raised:
        return explain_failure(raised, "s.py", CODE, who_holds=who_holds, closing=closing)[0]
    raise AssertionError("not raised")


def test_a_port_kept_by_a_closed_connection_is_said_so_with_the_fix():
    text = _port_taken(lambda proto, port: True)
    assert "another program" not in text
    assert "closed moments ago" in text and "TIME_WAIT: up to a minute on Linux" in text
    assert "`serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)`" in text
    assert "change line 2 to `serverPort = 12001`" in text
    assert text.count("\n") == 2  # where, the line, and one paragraph


def test_where_the_system_cannot_tell_both_are_said():
    text = _port_taken(lambda proto, port: None)
    assert "Either another program holds it" in text and "TIME_WAIT" in text


def test_a_holder_found_or_no_closed_connection_keeps_the_old_words():
    assert "Another program" in _port_taken(lambda proto, port: False)
    named = _port_taken(lambda proto, port: True, lambda proto, port: Holder(77, "python3 s.py"))
    assert "`python3 s.py` (process 77) holds it" in named and "TIME_WAIT" not in named


def test_labsock_servers_words_do_not_ask_to_set_what_it_sets():
    text = closing_words(True, another="choose another port")
    assert "your own program whose connection that was" in text
    assert text.endswith("or choose another port.")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TIME_WAIT read from /proc")
def test_a_real_time_wait_is_explained_as_one():
    port = port_in_time_wait()
    assert holder_of("tcp", port) is None and closing_on("tcp", port) is True
    # As a textbook server binds: without SO_REUSEADDR, at its line of the student's file.
    source = (
        "from socket import *\nserverSocket = socket(AF_INET, SOCK_STREAM)\n"
        f"serverSocket.bind(('', {port}))\n"
    )
    program = {}
    try:
        exec(compile(source, "s.py", "exec"), program)
    except OSError as exc:
        exc.labsock_call = ("bind", "tcp", ("", port))  # as the bootstrap's bind adds
        text, line = explain_failure(exc, "s.py", source, who_holds=holder_of, closing=closing_on)
    else:
        raise AssertionError("the closed connection did not keep the port")
    finally:
        program["serverSocket"].close()
    assert line == 3
    assert "closed moments ago" in text and "another program" not in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TIME_WAIT read from /proc")
def test_labsocks_server_on_a_port_in_time_wait_says_so():
    # labsock sets SO_REUSEADDR, but on Linux the closed connection's socket needed it too.
    port = port_in_time_wait()
    with pytest.raises(LabsockError) as raised:
        TCPServer(port=port).start()
    text = str(raised.value)
    assert "closed moments ago" in text and "another program" not in text
    assert "your own program whose connection that was" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TIME_WAIT read from /proc")
def test_a_textbook_server_run_by_labsock_on_a_port_in_time_wait_is_told_so(tmp_path):
    # The textbook server run outside labsock (no SO_REUSEADDR) served a connection; labsock's
    # reuse on the next run cannot help on Linux, and its explanation says why the port is kept.
    import labsock
    from tests import textbook

    port = port_in_time_wait()
    program = labsock.run_client(
        textbook.TCP_SERVER.format(port=port), "tcp_server", folder=tmp_path
    )
    assert program.exit_code == 1
    assert "closed moments ago" in program.error and "another program" not in program.error
    assert "change line 2 to `serverPort = " in program.error
    # Its own SO_REUSEADDR is set (by labsock): the fix belongs to the program that left it.
    assert "labsock set it on this program" in program.error
    assert "serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)` (on Linux" not in program.error


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TIME_WAIT read from /proc")
def test_a_client_bind_port_in_time_wait_is_told_so():
    from labsock import send_tcp

    port = port_in_time_wait()
    with pytest.raises(LabsockError) as raised:
        send_tcp("hello", port=port, bind_port=port)  # the bind fails before any connect
    text = str(raised.value)
    assert "closed moments ago" in text and "Another client" not in text
    assert text.endswith("or choose another bind port.")


def test_on_windows_a_taken_port_is_never_a_closed_connections(tmp_path, monkeypatch):
    """A TIME_WAIT does not block a bind on Windows (CPython leaves SO_REUSEADDR off there for
    it): the explanation names a program, and never advises SO_REUSEADDR, which on Windows lets
    another program take the port. macOS cannot tell without a tool: both are said."""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(CLOSED_ONLY)  # what Linux would call TIME_WAIT
    monkeypatch.setattr(sys, "platform", "win32")
    assert closing_on("tcp", 12000, tmp_path) is False
    said = _port_taken(lambda proto, port: closing_on(proto, port, tmp_path))
    assert "holds it" in said and "SO_REUSEADDR" not in said and "closed" not in said
    monkeypatch.setattr(sys, "platform", "darwin")
    assert closing_on("tcp", 12000, tmp_path) is None


def test_labsock_tells_of_the_rebind_option_it_set_only_where_it_is_so_reuseaddr(monkeypatch):
    """On Windows the bootstrap sets SO_EXCLUSIVEADDRUSE: the view's note on SO_REUSEADDR (add
    it outside labsock) would be wrong advice there, so it is not asked for."""
    from labsock.net.programs import bootstrap

    with socket.socket() as sock:
        assert bootstrap._allow_quick_rebind(sock) is (sys.platform != "win32")
    monkeypatch.setattr(sys, "platform", "win32")
    # Linux has no SO_EXCLUSIVEADDRUSE: a stand-in number the system takes.
    monkeypatch.setattr(socket, "SO_EXCLUSIVEADDRUSE", socket.SO_KEEPALIVE, raising=False)
    with socket.socket() as sock:
        assert bootstrap._allow_quick_rebind(sock) is False
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)  # it was set all the same
