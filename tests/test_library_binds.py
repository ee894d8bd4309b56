"""A port found taken by a bind inside a library the student's line called (socketserver,
socket.create_server, asyncio's servers) is explained as well as the student's own bind: the
port and protocol, who holds it (this notebook's kernel, another notebook's program, a process,
a connection in TIME_WAIT, with the library's own way to reuse), and the student's line that
asked for it. In words (no sockets), and for real programs run by labsock."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

import labsock
from labsock.logic.holders import Holder as NotebookHolder
from labsock.logic.proc_net import Holder
from labsock.logic.program_errors import bind_call, explain_failure
from labsock.logic.student_code import server_call_at
from tests.ports import free_port, held_by_another_process, port_in_time_wait

PATH = "server.py"
SOCKETSERVER = """import socketserver
PORT = 12000
class Upper(socketserver.StreamRequestHandler):
    def handle(self): self.wfile.write(self.rfile.readline().upper())
with socketserver.TCPServer(("127.0.0.1", PORT), Upper) as server:
    server.serve_forever()
"""
START_SERVER = """import asyncio
PORT = 12000
async def handle(reader, writer): writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    await server.serve_forever()
asyncio.run(main())
"""


def _raised_at(line: int, error: BaseException) -> BaseException:
    """`error` as raised through the student's file at `line` (the call into the library)."""
    try:
        exec(compile("\n" * (line - 1) + "raise error\n", PATH, "exec"), {"error": error})
    except BaseException as raised:  # noqa: BLE001
        return raised
    raise AssertionError("not raised")


def _recorded(proto: str = "tcp", port: int = 12000) -> OSError:
    """The bind's own error, as the bootstrap's bind records it."""
    error = OSError(98, "Address already in use")
    error.labsock_call = ("bind", proto, ("127.0.0.1", port))
    return error


def _asyncio_error(recorded: OSError | None, port: int = 12000) -> OSError:
    """What asyncio's create_server raises: an OSError of its own, the bind's hidden."""
    message = f"error while attempting to bind on address ('127.0.0.1', {port}): address in use"
    try:
        try:
            raise recorded or OSError(98, "Address already in use")
        except OSError as err:
            raise OSError(err.errno, message) from None
    except OSError as own:
        return own


def _said(source: str, line: int, error: BaseException, **holders) -> str:
    text, at = explain_failure(_raised_at(line, error), PATH, source, **holders)
    assert at == line
    return text


def nobody(proto, port):
    return None


# -- in words ---------------------------------------------------------------------------------


def test_a_socketserver_bind_names_this_notebooks_kernel_and_the_students_lines():
    text = _said(
        SOCKETSERVER,
        5,
        _recorded(),
        who_holds=lambda proto, port: Holder(40, "python -m ipykernel_launcher -f k.json"),
        kernel_pid=40,
    )
    assert text.startswith("Your program stopped at line 5:\n    with socketserver.TCPServer(")
    assert "Port 12000 (TCP) is already in use, so socketserver.TCPServer cannot bind it." in text
    assert "This notebook's own kernel holds it (process 40)" in text
    # The line is quoted once, as where the program stopped; the port's own line is named.
    assert text.count("with socketserver.TCPServer(") == 1
    assert "Its port is set at line 2: `PORT = 12000`." in text
    assert "run `server.server_close()` in a cell of its own" in text
    assert "OSError" not in text and "another program" not in text
    assert text.count("\n") == 2  # where, the line, and one paragraph


def test_a_library_bind_names_a_process_another_notebooks_program_and_labsocks_program():
    process = _said(SOCKETSERVER, 5, _recorded(), who_holds=lambda p, n: Holder(77, "nc -l 12000"))
    assert "`nc -l 12000` (process 77) holds it. Its port is set at line 2" in process
    assert "change line 2 to `PORT = 12001`" in process
    labsocks = _said(
        SOCKETSERVER,
        5,
        _recorded(),
        who_holds=lambda p, n: Holder(78, "python -u /x/bootstrap.py --control 3 /f/old_server.py"),
    )
    assert "The program old_server.py, run by labsock from another notebook" in labsocks
    known = NotebookHolder("task2.ipynb", "program", "lan_server", 79, "1", "tcp", 12000)
    other = _said(SOCKETSERVER, 5, _recorded(), other_notebook=lambda proto, port: known)
    assert "task2.ipynb's lan_server holds port 12000 (TCP)" in other
    assert "Its port is set at line 2" in other


def test_time_wait_after_a_socketserver_bind_points_at_the_program_that_left_it():
    """Run by labsock, the program's server has SO_REUSEADDR already (the bootstrap sets it before
    each TCP bind): allow_reuse_address would change nothing, the closed connection's program
    needs it (on Linux both sides do)."""
    text = _said(SOCKETSERVER, 5, _recorded(), who_holds=nobody, closing=lambda p, n: True)
    assert "closed moments ago" in text and "another program" not in text
    assert "labsock set it on this program" in text and "allow_reuse_address" not in text
    assert text.endswith("or choose another port: change line 2 to `PORT = 12001`.")
    unsure = _said(SOCKETSERVER, 5, _recorded(), who_holds=nobody, closing=lambda p, n: None)
    assert "Either another program holds it" in unsure and "labsock set it" in unsure
    web = SOCKETSERVER.replace("socketserver.TCPServer", "http.server.HTTPServer")
    kernel = _said(web, 5, _recorded(), who_holds=lambda p, n: Holder(4, "ipykernel"), kernel_pid=4)
    assert "run `server.server_close()` in a cell of its own" in kernel  # a socketserver's way


def test_asyncios_own_error_still_gives_the_port_the_holder_and_the_fix():
    said = _said(
        START_SERVER,
        5,
        _asyncio_error(_recorded()),
        who_holds=nobody,
        closing=lambda proto, port: proto == "tcp" and port == 12000,
    )
    assert "Port 12000 (TCP) is already in use, so asyncio.start_server cannot bind it" in said
    assert said.count("server = await asyncio.start_server(") == 1  # quoted once, where it stopped
    assert "closed moments ago" in said and "labsock set it on this program" in said
    assert "error while attempting" not in said  # the library's words are not the explanation
    # Without the bootstrap's record (a socket labsock did not see): the port from its message.
    bare = _said(START_SERVER, 5, _asyncio_error(None), who_holds=lambda p, n: Holder(9, "x"))
    assert "Port 12000 (TCP) is already in use" in bare and "`x` (process 9) holds it" in bare


def test_a_udp_library_bind_never_asks_about_time_wait():
    source = (
        "import asyncio\nasync def main():\n    loop = asyncio.get_running_loop()\n"
        "    transport, protocol = await loop.create_datagram_endpoint(\n"
        "        asyncio.DatagramProtocol, local_addr=('127.0.0.1', 12000))\n"
        "asyncio.run(main())\n"
    )

    def closing(proto, port):
        raise AssertionError("UDP has no connections to linger")

    text = _said(source, 4, _recorded("udp"), who_holds=nobody, closing=closing)
    assert "Port 12000 (UDP) is already in use, so loop.create_datagram_endpoint cannot" in text
    assert "Another program (a server started from another notebook" in text
    assert "choose another port (a server's: its client's too)" in text  # no `transport = ...`


def test_the_call_into_the_library_is_read_from_the_students_source():
    assert server_call_at(SOCKETSERVER, 5).target == "server"
    assert str(server_call_at(SOCKETSERVER, 5).port) == "line 2: `PORT = 12000`"
    own = "import socketserver as ss\nclass Echo(ss.ThreadingTCPServer): pass\nADDR = ('', 1)\n"
    call = server_call_at(own + "s = Echo(\n    ADDR,\n    H)\n", 5)
    assert (call.callee, call.kind, call.target, call.port.number) == ("Echo", "socketserver",
                                                                       "s", 3)  # fmt: skip
    keyword = server_call_at("srv = await loop.create_server(P, port=PORT)\nPORT = 1\n", 1)
    assert (keyword.kind, keyword.port.number) == ("asyncio", 2)
    made = server_call_at("from socket import create_server\nsock = create_server(('', 80))\n", 2)
    assert (made.kind, made.target, made.port.number) == ("create_server", "sock", 2)
    assert server_call_at("print(socket.gethostname())\n", 1) is None
    assert bind_call(_asyncio_error(_recorded())) == ("bind", "tcp", ("127.0.0.1", 12000))
    connect = OSError(98, "in use")
    connect.labsock_call = ("connect", "tcp", ("127.0.0.1", 1))
    assert bind_call(connect) is None


# -- real programs run by labsock -------------------------------------------------------------

PROGRAMS = {  # name: (source with {port}, protocol, the line that calls)
    "socketserver_tcp": (SOCKETSERVER.replace("12000", "{port}"), "tcp", 5),
    "socketserver_udp": (
        "import socketserver\nclass Upper(socketserver.BaseRequestHandler):\n"
        "    def handle(self): pass\n"
        "server = socketserver.UDPServer(('127.0.0.1', {port}), Upper)\nserver.serve_forever()\n",
        "udp", 4),
    "create_server": ("import socket\nPORT = {port}\nsock = socket.create_server(('127.0.0.1', "
                      "PORT))\nsock.accept()\n", "tcp", 3),
    "start_server": (START_SERVER.replace("12000", "{port}"), "tcp", 5),
    "loop_create_server": (
        "import asyncio\nasync def main():\n    loop = asyncio.get_running_loop()\n"
        "    server = await loop.create_server(asyncio.Protocol, '127.0.0.1', {port})\n"
        "    await server.serve_forever()\nasyncio.run(main())\n",
        "tcp", 4),
    "datagram_endpoint": (
        "import asyncio\nasync def main():\n    loop = asyncio.get_running_loop()\n"
        "    await loop.create_datagram_endpoint(asyncio.DatagramProtocol,\n"
        "                                        local_addr=('127.0.0.1', {port}))\n"
        "    await asyncio.Event().wait()\nasyncio.run(main())\n",
        "udp", 4),
}  # fmt: skip


def _program(name: str, port: int, tmp_path):
    source, *_ = PROGRAMS[name]
    program = labsock.run_client(source.format(port=port), f"lib_{name}", folder=tmp_path)
    assert program.exit_code == 1, program.error
    assert "Traceback" not in program.error
    return program


def _run(name: str, port: int, tmp_path) -> str:
    return _program(name, port, tmp_path).error


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_a_port_held_by_this_python_is_named_with_the_students_line(name, tmp_path):
    _, proto, line = PROGRAMS[name]
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    port = free_port()
    with socket.socket(socket.AF_INET, kind) as held:
        held.bind(("127.0.0.1", port))
        if proto == "tcp":
            held.listen(1)
        said = _run(name, port, tmp_path)
    assert f"Port {port} ({proto.upper()}) is already in use, so " in said
    assert "The Python that started this program holds it" in said  # the test is its kernel
    assert f"Your program stopped at line {line}:" in said and "asks for it" not in said
    assert "another program" not in said.lower()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TIME_WAIT read from /proc")
@pytest.mark.parametrize("name", [n for n, p in sorted(PROGRAMS.items()) if p[1] == "tcp"])
def test_a_library_server_on_a_port_in_time_wait_is_told_so_and_where_the_fix_belongs(
    name, tmp_path
):
    """Run by labsock, the program has SO_REUSEADDR already (the bootstrap sets it before each
    TCP bind): the TIME_WAIT that blocks it was left by a program run without labsock, and that
    one needs the fix (on Linux both sides do), not the library's own way to reuse."""
    port = port_in_time_wait()
    said = _run(name, port, tmp_path)
    assert "closed moments ago" in said and "another program" not in said.lower()
    assert "labsock set it on this program" in said and "one run without labsock" in said
    assert "allow_reuse_address" not in said and "sets it on your server" not in said


@pytest.fixture
def other_process():
    """A process outside labsock holding a TCP port."""
    with held_by_another_process(socket.SOCK_STREAM) as held:
        yield held


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="holders read from /proc")
def test_a_port_held_by_another_process_names_it(other_process, tmp_path):
    process, port = other_process
    said = _run("socketserver_tcp", port, tmp_path)
    assert f"(process {process.pid}) holds it. Its port is set at line 2" in said
    assert f"change line 2 to `PORT = {port + 1}`" in said


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="holders read from /proc")
def test_a_port_held_by_another_notebooks_labsock_program_names_that_program(tmp_path):
    port = free_port()
    holder = (
        "import sys, labsock\n"
        f"program = labsock.background({PROGRAMS['socketserver_tcp'][0].format(port=port)!r}, "
        f"'old_server', folder={str(tmp_path / 'other')!r})\n"
        "print('running', flush=True)\nsys.stdin.read()\nprogram.stop()\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline() == "running\n"
        program = _program("start_server", port, tmp_path)
    finally:
        other.communicate("")
    said = program.error
    assert "old_server" in said and "holds port" in said
    assert said.count("asyncio.start_server(") == 1 and "asks for it" not in said
    # asyncio's own OSError still tells the notebook which bind failed: the way out is a button.
    assert program.way_out[0][0].startswith("Stop old_server (pid ")


def test_another_port_is_offered_by_changing_a_number_only():
    # A port inside an address (ADDR = ('', 12000)) or a call's own line is not `NAME = 12001`.
    source = (
        "from socket import *\nADDR = ('', 12000)\ns = socket(AF_INET, SOCK_STREAM)\ns.bind(ADDR)\n"
    )
    text = _said(source, 4, _recorded(), who_holds=lambda p, n: Holder(5, "x"))
    assert "Your program asks for it at line 2: `ADDR = ('', 12000)`" in text
    assert "ADDR = 12001" not in text and "choose another port (a server's" in text
