"""Reading a student's program for the lines a hint names (pure: no sockets, no processes)."""

from __future__ import annotations

import pytest

from labsock.logic.netstat_rows import first_pid, netstat_pid, tasklist_name
from labsock.logic.proc_net import Holder, command_words, inodes_on_port, socket_inode
from labsock.logic.program_errors import REUSE_NOTE, explain_failure, reuse_note
from labsock.logic.student_code import (
    accepted_into,
    assignment_of,
    blocking_server,
    calls_on,
    endless_sending_loop,
    is_simple,
    port_line,
    socket_call_at,
)
from labsock.logic.who_answered import Answerer, answered_note
from tests import textbook

pytestmark = pytest.mark.fast

UDP_SERVER = textbook.UDP_SERVER.format(port=12000)
TCP_SERVER = textbook.TCP_SERVER.format(port=12000)


def test_the_socket_call_on_a_line_with_its_own_names():
    call = socket_call_at(UDP_SERVER, 9)
    assert (call.receiver, call.method) == ("serverSocket", "sendto")
    assert call.arguments == ("modifiedMessage.encode()", "clientAddress")
    assert socket_call_at(UDP_SERVER, 8) is None  # message.decode().upper(): no socket call


def test_where_a_name_is_set_and_where_a_socket_is_used():
    assert str(assignment_of(UDP_SERVER, "serverPort")) == "line 2: `serverPort = 12000`"
    assert calls_on(TCP_SERVER, "serverSocket", "listen").number == 5
    assert calls_on(TCP_SERVER, "connectionSocket", "listen") is None
    assert accepted_into(TCP_SERVER, "connectionSocket")
    assert not accepted_into(TCP_SERVER, "serverSocket")


def test_the_line_that_chose_a_port():
    bind = socket_call_at(UDP_SERVER, 4)
    assert port_line(UDP_SERVER, bind).text == "serverPort = 12000"
    literal = "from socket import *\ns = socket(AF_INET, SOCK_DGRAM)\ns.bind(('', 12000))\n"
    assert port_line(literal, socket_call_at(literal, 3)).number == 3


def test_an_endless_sending_loop_is_found_and_a_paused_or_ending_one_is_not():
    flood = "while True:\n    s.sendto(b'1', a)\n"
    assert endless_sending_loop(flood).line.number == 1
    assert not endless_sending_loop(flood).pauses
    paced = endless_sending_loop("x = 1\nwhile True:\n    s.sendto(b'1', a)\n    time.sleep(1)\n")
    assert paced.pauses and paced.line.number == 2
    assert endless_sending_loop("while True:\n    s.sendto(b'1', a)\n    break\n") is None
    assert endless_sending_loop("for n in range(5):\n    s.sendto(b'1', a)\n") is None
    assert endless_sending_loop("while True\n") is None  # does not parse: no answer


def test_a_blocking_server_is_told_from_a_client_and_a_server_with_a_timeout():
    assert blocking_server(UDP_SERVER).waits.number == 7
    assert blocking_server(UDP_SERVER).proto == "udp"
    assert blocking_server(TCP_SERVER).proto == "tcp"
    assert blocking_server(textbook.UDP_CLIENT) is None  # no bind
    timed = UDP_SERVER.replace("print(", "serverSocket.settimeout(1)\nprint(")
    assert blocking_server(timed) is None
    defined = "def serve():\n" + "".join(f"    {line}\n" for line in UDP_SERVER.splitlines())
    assert blocking_server(defined) is None  # only a call of serve() would block


SOCKETSERVER_PROGRAM = """\
import socketserver

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(self.request.recv(1024).upper())

server = socketserver.TCPServer(("", 12000), Handler)
server.serve_forever()
"""


def test_a_server_made_by_a_library_blocks_a_plain_cell_too():
    """socketserver's serve_forever and create_server's accept wait like the textbook's accept:
    no bind of the student's own, but the notebook freezes the same."""
    found = blocking_server(SOCKETSERVER_PROGRAM)
    assert (found.waits.number, found.proto) == (8, "tcp")
    assert found.waits.text == "server.serve_forever()"
    udp = SOCKETSERVER_PROGRAM.replace("TCPServer", "UDPServer")
    assert blocking_server(udp).proto == "udp"
    created = "import socket\nserver = socket.create_server(('', 12000))\nc, a = server.accept()\n"
    assert blocking_server(created).waits.number == 3
    made_only = SOCKETSERVER_PROGRAM.replace("server.serve_forever()\n", "")
    assert blocking_server(made_only) is None  # the handler's recv runs only when served


def test_the_reuse_note_uses_the_programs_own_socket_and_the_library_way():
    assert reuse_note(TCP_SERVER) == REUSE_NOTE  # the textbook's names
    plain = "import socket\ns = socket.socket()\ns.bind(('', 12000))\ns.listen(1)\ns.accept()\n"
    note = reuse_note(plain)
    assert "add s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1) before s.bind()" in note
    assert "serverSocket" not in note
    library = reuse_note(SOCKETSERVER_PROGRAM)
    assert "set socketserver.TCPServer.allow_reuse_address = True before" in library
    assert "serverSocket" not in library and "setsockopt" not in library


def test_what_reads_right_with_encode_after_it():
    assert is_simple("message") and is_simple("'hello'") and is_simple("m.upper()")
    assert not is_simple("a + b")


PROC_NET_UDP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
  12: 0100007F:2EE0 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 48213 2
  13: 0100007F:2EE1 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 48214 2
"""
PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2EE0 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 501 1
   1: 0100007F:2EE0 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 502 1
"""


def test_proc_net_rows_name_the_sockets_on_a_port():
    assert inodes_on_port(PROC_NET_UDP, 12000, tcp=False) == [48213]
    assert inodes_on_port(PROC_NET_TCP, 12000, tcp=True) == [501]  # the listener only
    assert inodes_on_port("garbage\nnot a row\n", 12000, tcp=False) == []
    assert socket_inode("socket:[48213]") == 48213
    assert socket_inode("/dev/null") is None
    assert command_words(b"python3\0-c\0import x\nprint(1)\0") == "python3 -c import x print(1)"


def test_who_answered_is_said_only_when_it_surprises():
    earlier = Answerer("program", "udp_server", "running")
    note = answered_note("alnum_client", earlier, "alnum_server", "failed at line 3")
    assert note.startswith("(This reply came from udp_server, not from alnum_server")
    assert note.endswith("or run alnum_server's cell again, then this cell.)")
    stub = answered_note("alnum_client", earlier, "alnum_server", "not written yet (...)")
    assert stub.endswith("or write alnum_server and run its cell, then this cell.)")
    assert answered_note("c", Answerer("program", "alnum_server"), "alnum_server", "") == ""
    assert answered_note("c", Answerer("labsock", "the UDP server"), "alnum_server", "") == ""
    assert answered_note("c", earlier, None, "") == ""  # no %%background cell ran
    outside = answered_note("c", Answerer("nobody", "10.0.0.7:12000"), "x", "")
    assert "another laptop" in outside
    task1 = Answerer("notebook", "alnum_server", notebook="task1.ipynb", address="127.0.0.1:12000")
    other = answered_note("lan_client", task1, "lan_server", "failed at line 5")
    assert other.startswith("(The reply came from 127.0.0.1:12000, which task1.ipynb's alnum")
    assert "Stop alnum_server there" in other
    assert Holder(1, "python3").pid == 1


NETSTAT_UDP = """
Active Connections

  Proto  Local Address          Foreign Address        State           PID
  UDP    0.0.0.0:5353           *:*                                    2112
  UDP    127.0.0.1:12000        *:*                                    4242
"""
NETSTAT_TCP = """
  Proto  Local Address          Foreign Address        State           PID
  TCP    127.0.0.1:12000        127.0.0.1:50123        ESTABLISHED     777
  TCP    0.0.0.0:12000          0.0.0.0:0              ABHÖREN         4242
"""


def test_netstat_and_tasklist_name_the_holder_on_windows():
    assert netstat_pid(NETSTAT_UDP, "udp", 12000) == 4242
    assert netstat_pid(NETSTAT_TCP, "tcp", 12000) == 4242  # the listener, in any language
    assert netstat_pid(NETSTAT_UDP, "udp", 12001) is None
    assert tasklist_name('"python.exe","4242","Console","1","12,345 K"\n') == "python.exe"
    assert tasklist_name("INFO: No tasks are running.\n") == ""
    assert first_pid("4242\n4243\n") == 4242 and first_pid("") is None


def test_a_client_port_taken_suggests_another_without_a_server_to_change():
    code = (
        "from socket import *\nclientPort = 11000\nclientSocket = socket(AF_INET, SOCK_DGRAM)\n"
        "clientSocket.bind(('', clientPort))\n"
    )
    error = OSError(98, "Address already in use")
    error.labsock_call = ("bind", "udp", ("", 11000))
    try:
        # The bind fails at line 4 of c1.py, as it would run (without opening a socket here).
        exec(compile("\n\n\nraise error\n", "c1.py", "exec"), {"error": error})
    except OSError as raised:
        text, line = explain_failure(
            raised, "c1.py", code, who_holds=lambda proto, port: Holder(77, "python3 c1.py")
        )
    assert line == 4
    assert "`python3 c1.py` (process 77) holds it" in text
    assert "change line 2 to `clientPort = 11001`." in text


def test_a_port_another_notebook_holds_is_named_with_its_notebook_not_guessed():
    from labsock.logic.holders import Holder as NotebookHolder

    code = "from socket import *\ns = socket(AF_INET, SOCK_DGRAM)\n\ns.bind(('', 12000))\n"
    error = OSError(98, "Address already in use")
    error.labsock_call = ("bind", "udp", ("", 12000))
    lan_server = NotebookHolder(
        "task2_two_laptops.ipynb", "program", "lan_server", 4250, "t", "udp", 12000
    )
    try:
        exec(compile("\n\n\nraise error\n", "s.py", "exec"), {"error": error})
    except OSError as raised:
        text, _ = explain_failure(
            raised,
            "s.py",
            code,
            who_holds=lambda proto, port: Holder(4250, "python bootstrap.py lan_server.py"),
            other_notebook=lambda proto, port: lan_server,
        )
    assert "task2_two_laptops.ipynb's lan_server holds port 12000 (UDP)" in text
    assert "Running panel" not in text and "process 4250" not in text


def _refused_connect(stopped) -> str:
    """What a textbook TCP client is told when its connect at line 5 is refused."""
    code = textbook.TCP_CLIENT.format(port=12000)
    error = ConnectionRefusedError(111, "Connection refused")
    error.labsock_call = ("connect", "tcp", ("127.0.0.1", 12000))
    try:
        exec(compile("\n" * 4 + "raise error\n", "c.py", "exec"), {"error": error})
    except OSError as raised:
        return explain_failure(raised, "c.py", code, stopped=stopped)[0]
    raise AssertionError("not raised")


def test_a_refused_connect_names_the_stopped_server_the_notebook_names():
    asked = []

    def stopped(proto, host, port):
        asked.append((proto, host, port))
        return "tcp_server was stopped (Stop button / .stop()) at 21:00:00, and it held ..."

    text = _refused_connect(stopped)
    assert asked == [("tcp", "127.0.0.1", 12000)]
    assert text == (
        "Your program stopped at line 5:\n    clientSocket.connect((serverName, serverPort))\n"
        "Nothing is listening on 127.0.0.1:12000 (TCP): tcp_server was stopped (Stop button / "
        ".stop()) at 21:00:00, and it held ..."
    )


@pytest.mark.parametrize("said", ["", None])
def test_a_refused_connect_without_a_stopped_server_keeps_the_general_advice(said):
    text = _refused_connect(lambda proto, host, port: said)
    assert "Nothing is listening on 127.0.0.1:12000 (TCP)" in text
    assert "Is the server running" in text


def test_a_stopped_server_is_named_only_for_addresses_that_would_have_reached_it():
    from labsock.logic.holders import reaches

    mine = lambda: ["192.168.1.20"]  # noqa: E731 (this laptop's address, for the test)
    assert reaches("127.0.0.1", "127.0.0.1") and reaches("127.0.0.1", "localhost")
    assert reaches("127.0.0.1", "")  # connect(('', port)) goes to this laptop
    assert reaches("0.0.0.0", "127.0.0.1") and reaches("0.0.0.0", "192.168.1.20", mine)
    assert reaches("127.0.0.1", None)  # where it went is not known: the port decides
    assert not reaches("127.0.0.1", "127.0.0.2")  # nothing there, even while it ran
    assert not reaches("127.0.0.1", "192.168.1.20", mine)
    assert not reaches("0.0.0.0", "192.168.1.33", mine)  # another laptop: not our server
    assert not reaches("192.168.1.20", "127.0.0.1", mine)


def _failure(code: str, error: BaseException, line: int) -> tuple[str, int | None]:
    """explain_failure for `error` raised at `line` of program s.py (without running it)."""
    try:
        exec(compile("\n" * (line - 1) + "raise error\n", "s.py", "exec"), {"error": error})
    except BaseException as raised:
        return explain_failure(raised, "s.py", code)
    raise AssertionError("not raised")


@pytest.mark.parametrize("number", [22, 10022])  # EINVAL, WSAEINVAL
def test_accept_without_listen_names_the_missing_listen(number):
    code = (
        "from socket import *\nserverSocket = socket(AF_INET, SOCK_STREAM)\n"
        "serverSocket.bind(('127.0.0.1', 12000))\nwhile True:\n"
        "    connectionSocket, addr = serverSocket.accept()\n"
    )
    error = OSError(number, "Invalid argument")
    error.labsock_call = ("accept", "tcp", ("127.0.0.1", 12000))
    text, line = _failure(code, error, 5)
    assert line == 5
    assert "serverSocket.listen(1)" in text and "before accept" in text, text


def test_a_misspelt_socket_method_gets_the_right_name():
    code = (
        "from socket import *\nserverSocket = socket(AF_INET, SOCK_DGRAM)\n"
        "serverSocket.bind(('127.0.0.1', 12000))\n"
        "message, clientAddress = serverSocket.recvFrom(2048)\n"
    )
    error = AttributeError("'socket' object has no attribute 'recvFrom'")
    text, line = _failure(code, error, 4)
    assert line == 4
    assert "recvfrom" in text.split("AttributeError")[-1].replace("'recvFrom'", ""), text
    assert "`serverSocket.recvfrom(2048)`" in text, text


def test_the_socket_methods_a_misspelling_is_matched_with_are_real():
    import _socket  # (socket.socket itself may be guarded in a test run)

    from labsock.logic.program_errors import SOCKET_METHODS

    # socket.py's class adds these three to the C socket's methods
    assert set(SOCKET_METHODS) - set(dir(_socket.socket)) == {"accept", "makefile", "sendfile"}


@pytest.mark.parametrize(
    "source",
    [
        "x = f(1)\ny = 'é' + g(2,\n  3)\r\nz = h()\rw = (k\n)",
        "a = '\u2028' + c(1)\n\x0cd = e(f(2))",  # ast does not end lines at \u2028 or \x0c
        "q = ('''a\u2028\x0c\nb''', g('ä'))\n",
    ],
)
def test_a_calls_text_is_read_as_ast_reads_it(source):
    """The source is split into lines once per cell (not once per call, which made a 100-line
    cell wait seconds before it ran): each node's text is still exactly ast's."""
    import ast

    from labsock.logic.student_code import _segment

    nodes = [n for n in ast.walk(ast.parse(source)) if getattr(n, "end_lineno", None)]
    assert nodes
    assert [_segment(source, n) for n in nodes] == [
        ast.get_source_segment(source, n) for n in nodes
    ]
