"""Students' programs that do not call socket.socket's recvfrom or accept directly: socketserver,
asyncio, _socket, makefile(), recv_into, select and selectors loops, IPv6, AF_UNIX, sockets made
where no stand-in reaches. Each is ready when it waits (background() returns with the program
waiting), logged (what it received, with its reply), and its ports are known; real processes.
"""

from __future__ import annotations

import math
import os
import select
import socket
import sys
import threading

import pytest

import labsock
from labsock.logic.errors import LabsockError
from labsock.net.programs import process as processes
from tests.ports import free_port

UDP_CLIENT = """
from socket import *
client = socket({family}, SOCK_DGRAM)
client.settimeout(3)
client.sendto(b"hello", ({host!r}, {port}))
print(client.recvfrom(2048)[0].decode())
"""

TCP_CLIENT = """
from socket import *
client = socket({family}, SOCK_STREAM)
client.settimeout(3)
client.connect(({host!r}, {port}))
client.sendall(b"hello\\n")
print(client.recv(2048).decode().strip())
"""


def socketserver_program(server: str, handler: str, handle: str, before: str = "") -> str:
    """A socketserver server of class `server` answering with Upper, a `handler` whose handle()
    is the lines `handle`; `before`, lines before the server starts."""
    return f"""
import socketserver
class Upper(socketserver.{handler}):
    def handle(self):
{handle}{before}with socketserver.{server}(("127.0.0.1", {{port}}), Upper) as server:
    server.serve_forever()
"""


UDP_HANDLE = (
    "        data, sock = self.request\n        sock.sendto(data.upper(), self.client_address)\n"
)
TCP_HANDLE = "        self.wfile.write(self.rfile.readline().upper())\n"

UDP_SERVERS = {
    "socketserver_udp": socketserver_program("UDPServer", "BaseRequestHandler", UDP_HANDLE),
    "threading_udp": socketserver_program("ThreadingUDPServer", "BaseRequestHandler", UDP_HANDLE),
    "asyncio_udp": """
import asyncio
class Upper(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport
    def datagram_received(self, data, address):
        self.transport.sendto(data.upper(), address)
async def main():
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Upper, local_addr=("127.0.0.1", {port}))
    await asyncio.Event().wait()
asyncio.run(main())
""",
    "raw_socket_udp": """
import _socket
server = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
server.bind(("127.0.0.1", {port}))
while True:
    data, address = server.recvfrom(2048)
    server.sendto(data.upper(), address)
""",
    "recvfrom_into_udp": """
from socket import *
server = socket(AF_INET, SOCK_DGRAM)
server.bind(("127.0.0.1", {port}))
buffer = bytearray(2048)
while True:
    count, address = server.recvfrom_into(buffer)
    server.sendto(bytes(buffer[:count]).upper(), address)
""",
    "select_udp": """
import select
from socket import *
server = socket(AF_INET, SOCK_DGRAM)
server.setblocking(False)
server.bind(("127.0.0.1", {port}))
while True:
    ready, _, _ = select.select([server], [], [])
    data, address = server.recvfrom(2048)
    server.sendto(data.upper(), address)
""",
    "poll_udp": """
import select
from socket import *
server = socket(AF_INET, SOCK_DGRAM)
server.setblocking(False)
server.bind(("127.0.0.1", {port}))
poller = select.poll()
poller.register(server, select.POLLIN)
while True:
    poller.poll()
    data, address = server.recvfrom(2048)
    server.sendto(data.upper(), address)
""",
    "epoll_udp": """
import select
from socket import *
server = socket(AF_INET, SOCK_DGRAM)
server.setblocking(False)
server.bind(("127.0.0.1", {port}))
with select.epoll() as poller:
    poller.register(server.fileno(), select.EPOLLIN)
    while True:
        poller.poll()
        data, address = server.recvfrom(2048)
        server.sendto(data.upper(), address)
""",
    "selectors_udp": """
import selectors
from socket import *
server = socket(AF_INET, SOCK_DGRAM)
server.setblocking(False)
server.bind(("127.0.0.1", {port}))
selector = selectors.DefaultSelector()
selector.register(server, selectors.EVENT_READ)
while True:
    for key, _ in selector.select():
        data, address = key.fileobj.recvfrom(2048)
        key.fileobj.sendto(data.upper(), address)
""",
    "ipv6_udp": """
from socket import *
server = socket(AF_INET6, SOCK_DGRAM)
server.bind(("::1", {port}))
while True:
    data, address = server.recvfrom(2048)
    server.sendto(data.upper(), address)
""",
}

TCP_SERVERS = {
    "socketserver_tcp": socketserver_program(
        "TCPServer",
        "StreamRequestHandler",
        TCP_HANDLE,
        before="socketserver.TCPServer.allow_reuse_address = True\n",
    ),
    "threading_tcp": socketserver_program("ThreadingTCPServer", "StreamRequestHandler", TCP_HANDLE),
    "asyncio_tcp": """
import asyncio
async def upper(reader, writer):
    writer.write((await reader.readline()).upper())
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(upper, "127.0.0.1", {port})
    async with server:
        await server.serve_forever()
asyncio.run(main())
""",
    "makefile_tcp": """
from socket import *
server = socket(AF_INET, SOCK_STREAM)
server.bind(("127.0.0.1", {port}))
server.listen(1)
while True:
    connection, address = server.accept()
    with connection.makefile("rwb") as stream:
        stream.write(stream.readline().upper())
    connection.close()
""",
    "create_server_tcp": """
import socket
server = socket.create_server(("127.0.0.1", {port}))
while True:
    connection, address = server.accept()
    connection.sendall(connection.recv(2048).upper())
    connection.close()
""",
    "ipv6_tcp": """
import socket
server = socket.create_server(("::1", {port}), family=socket.AF_INET6)
while True:
    connection, address = server.accept()
    connection.sendall(connection.recv(2048).upper())
    connection.close()
""",
}


def serve_and_ask(name: str, server_code: str, client_code: str, kind: int, tmp_path):
    family = socket.AF_INET6 if "ipv6" in name else socket.AF_INET
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    port = free_port(kind, host)
    server = labsock.background(server_code.format(port=port), name, folder=tmp_path)
    # Ready when it waits: background() returned because it waits, not after its 5 s.
    state = server.wait_until_ready(0)
    assert state == "waiting", (server.state(), server.output)
    assert server.waiting_in is not None
    proto = "tcp" if kind == socket.SOCK_STREAM else "udp"
    assert server.ports == [(proto, host, port)]
    client = labsock.run_client(
        client_code.format(family=family.name, host=host, port=port), "client", folder=tmp_path
    )
    assert client.output.strip() == "HELLO", client.output
    server.catch_up()
    return server, port


@pytest.mark.parametrize("name", sorted(UDP_SERVERS))
def test_udp_servers_of_every_api_are_ready_logged_and_stopped(name, tmp_path):
    if name == "epoll_udp" and not hasattr(select, "epoll"):
        pytest.skip("epoll is Linux's")
    server, port = serve_and_ask(name, UDP_SERVERS[name], UDP_CLIENT, socket.SOCK_DGRAM, tmp_path)
    assert [(m.text, m.reply) for m in server.log.messages()] == [("hello", "HELLO")]
    server.stop()
    assert not server.running
    assert processes._bindable("udp", server.ports_used[0][1], port)


@pytest.mark.parametrize("name", sorted(TCP_SERVERS))
def test_tcp_servers_of_every_api_are_ready_logged_and_stopped(name, tmp_path):
    server, port = serve_and_ask(name, TCP_SERVERS[name], TCP_CLIENT, socket.SOCK_STREAM, tmp_path)
    assert "hello" in [m.text.strip() for m in server.log.messages()]
    assert any(line.strip() == "HELLO" for line in server.sent_log.texts())
    server.stop()
    assert not server.running


def test_a_free_ipv6_port_is_seen_as_free():
    """stop() waits until the program's ports bind again: an IPv6 one must be tried as IPv6
    (tried as IPv4, '::1' never binds and every stop took its 2 s limit)."""
    port = free_port(socket.SOCK_DGRAM, "::1")
    assert processes._bindable("udp", "::1", port)
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as holder:
        holder.bind(("::1", port))
        assert not processes._bindable("udp", "::1", port)


CLIENTS = {
    "asyncio_client": """
import asyncio
async def main():
    reader, writer = await asyncio.open_connection("127.0.0.1", {port})
    writer.write(b"hello\\n")
    print((await reader.readline()).decode().strip())
    writer.close()
asyncio.run(main())
""",
    "create_connection_client": """
import socket
with socket.create_connection(("127.0.0.1", {port}), timeout=3) as client:
    client.sendall(b"hello\\n")
    print(client.makefile("rb").readline().decode().strip())
""",
}


@pytest.mark.parametrize("name", sorted(CLIENTS))
def test_clients_of_other_apis_are_logged(name, tmp_path):
    port = free_port(socket.SOCK_STREAM)
    server_code = TCP_SERVERS["makefile_tcp"].format(port=port)
    server = labsock.background(server_code, "server", folder=tmp_path)
    client = labsock.run_client(CLIENTS[name].format(port=port), name, folder=tmp_path)
    assert client.output.strip() == "HELLO"
    assert client.sent_log.texts() == ["hello\n"] or client.sent_log.texts() == ["hello"]
    assert [m.text.strip() for m in client.log.messages()] == ["HELLO"]
    assert [p[2] for p in client.ports_used if p[0] == "tcp"]  # its port, chosen at connect
    server.stop()


def test_unix_sockets_are_not_taken_for_tcp_and_stop_works(tmp_path):
    port = free_port(socket.SOCK_DGRAM)
    code = f"""
import socket, os
path = {str(tmp_path / "s.sock")!r}
unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
unix.bind(path)
unix.listen(1)
a, b = socket.socketpair()
a.sendall(b"x")
b.recv(1)
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("127.0.0.1", {port}))
while True:
    data, address = server.recvfrom(2048)
    server.sendto(data.upper(), address)
"""
    server = labsock.background(code, "unix_and_udp", folder=tmp_path)
    assert server.ports_used == [("udp", "127.0.0.1", port)]
    assert server.log.messages() == []  # the socket pair's byte is not a message
    labsock.stop_all()
    assert not server.running


def test_a_socket_made_by_a_c_extension_still_shows_its_port(tmp_path):
    """A C extension makes sockets that no stand-in replaces: the audit event for bind names
    them. The extension here is a copy of _socket's own library, loaded from outside the
    standard library, as any C extension installed with pip is."""
    port = free_port(socket.SOCK_DGRAM)
    code = f"""
import _socket, importlib.machinery, importlib.util, shutil, time
copy = shutil.copy(_socket.__file__, {str(tmp_path)!r})
loader = importlib.machinery.ExtensionFileLoader("_socket", copy)
extension = importlib.util.module_from_spec(importlib.util.spec_from_loader("_socket", loader))
loader.exec_module(extension)
server = extension.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
server.bind(("127.0.0.1", {port}))
time.sleep(30)
"""
    server = labsock.background(code, "c_extension", folder=tmp_path)
    assert server.wait_until_ready(0) == "waiting"
    server.catch_up()
    assert server.ports == [("udp", "127.0.0.1", port)]
    server.stop()


CLOSES_EVERY_DESCRIPTOR = """
import os
os.closerange(3, 256)
from socket import *
server = socket(AF_INET, SOCK_DGRAM)
server.bind(("127.0.0.1", {port}))
while True:
    data, address = server.recvfrom(2048)
    server.sendto(data.upper(), address)
"""

REPLACES_EVERY_DESCRIPTOR = """
import os, time
null = os.open(os.devnull, os.O_RDWR)
for fd in range(3, 64):
    if fd != null:
        try:
            os.dup2(null, fd)
        except OSError:
            pass
time.sleep(30)
"""


def test_a_server_that_closes_every_descriptor_still_serves_and_is_watched(tmp_path):
    port = free_port(socket.SOCK_DGRAM)
    server = labsock.background(
        CLOSES_EVERY_DESCRIPTOR.format(port=port), "daemon", folder=tmp_path
    )
    assert server.wait_until_ready(0) == "waiting"
    client = labsock.run_client(
        UDP_CLIENT.format(family="AF_INET", host="127.0.0.1", port=port), "c", folder=tmp_path
    )
    assert client.output.strip() == "HELLO"
    assert [(m.text, m.reply) for m in server.log.messages()] == [("hello", "HELLO")]
    server.stop()


def replaced_descriptor(folder) -> labsock.Job:
    """A program that replaced labsock's descriptor, once the notebook knows it (its note)."""
    program = labsock.Job(REPLACES_EVERY_DESCRIPTOR, "replacer", folder=folder).start()
    return noted_lost(program)


def noted_lost(program: labsock.Job) -> labsock.Job:
    """The program, once the notebook's note says labsock lost its connection to it."""
    version = 0
    for _ in range(50):  # each wait ends at a change: a note, or the program's end
        if program.notes or not program.running:
            break
        version = program.wait_for_change(version, 5)
    assert f"labsock lost its connection to {program.name}" in " ".join(program.notes)
    return program


@pytest.mark.parametrize("kernel_files", [0, 100])
def test_losing_the_connection_is_never_silent(tmp_path, kernel_files):
    """os.dup2 over descriptors 3 to 63 replaces labsock's too: the program runs on, as it
    would plainly, and its output says that labsock no longer watches it (it used to end at
    once, silently, with exit code 0). Whatever the number of files the kernel holds open:
    the descriptor's number was the kernel's next free one, above 63 when the kernel held
    many (under load, a full run's leftovers), and the program then slept its 30 s unwatched
    and ended with code 0, with nothing said."""
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(kernel_files)]
    try:
        program = labsock.Job(REPLACES_EVERY_DESCRIPTOR, "replacer", folder=tmp_path).start()
    finally:
        for fd in held:
            os.close(fd)
    said = "labsock no longer sees what its sockets do"
    version = 0
    for _ in range(50):  # each wait ends at a change: the output grew, or the program ended
        if said in program.output or not program.running:
            break
        version = program.wait_for_change(version, 5)
    assert said in program.output
    assert program.running and program.exit_code is None
    for _ in range(50):
        if program.notes:
            break
        version = program.wait_for_change(version, 5)
    assert "labsock lost its connection to replacer" in " ".join(program.notes)
    program.stop()


SPARES_THEN_REPLACES = (
    """
import os, resource, stat
soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
def is_socket(fd):
    try:
        return stat.S_ISSOCK(os.fstat(fd).st_mode)
    except OSError:
        return False
print("limit", soft, "sockets above 63:", [fd for fd in range(64, soft) if is_socket(fd)])
"""
    + REPLACES_EVERY_DESCRIPTOR
)


@pytest.mark.skipif(sys.platform == "win32", reason="descriptors and RLIMIT_NOFILE are POSIX's")
def test_a_low_open_files_limit_still_leaves_a_spare_and_the_note(tmp_path, monkeypatch):
    """Under a soft limit of 256 open files (macOS's default) no descriptor 1000 can exist: the
    spare copy of labsock's connection goes as high as the limit allows, so a program that
    replaces descriptors 3 to 63 still ends the connection where the notebook sees it, and the
    notebook says so in a note (without a spare, only the program's output said it)."""
    import resource

    def lowered(*args, **popen):
        def limit():  # in the child, before the program's Python starts
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

        return start(*args, preexec_fn=limit, **popen)

    start = processes.start
    monkeypatch.setattr(processes, "start", lowered)
    program = labsock.Job(SPARES_THEN_REPLACES, "low_limit", folder=tmp_path).start()
    version = 0
    for _ in range(50):  # each wait ends at a change: a note, or the program's end
        if program.notes or not program.running:
            break
        version = program.wait_for_change(version, 5)
    printed = program.output
    assert "limit 256 sockets above 63: [" in printed
    assert "sockets above 63: []" not in printed  # the spare is there, below the limit
    assert "labsock lost its connection to low_limit" in " ".join(program.notes)
    assert program.running
    program.stop()


CLOSES_BEHIND_OS_CLOSE = """
import ctypes, socket, time
ctypes.CDLL(None).close(3)  # labsock's descriptor (the lowest free one), closed from C
reused = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # gets the number 3
time.sleep(30)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="a C close() of a POSIX descriptor")
def test_a_descriptor_closed_from_c_and_reused_is_a_lost_connection(tmp_path):
    """A C library closes labsock's descriptor and the program's next socket gets its number:
    labsock's reports went into the student's socket, whose error (no address to send to)
    ended the program silently with code 0. Now it is a lost connection, said as such."""
    program = noted_lost(labsock.Job(CLOSES_BEHIND_OS_CLOSE, "reuser", folder=tmp_path).start())
    assert "labsock no longer sees what its sockets do" in program.output
    assert program.running and program.exit_code is None
    program.stop()


def test_catching_up_after_the_connection_is_lost_returns_at_once(tmp_path):
    """Nothing more can come once the connection is lost: catch_up says so (False: the
    program runs on, unwatched) instead of waiting out its timeout (here a generous one; the
    join is far shorter, and `returned` is the verdict)."""
    program = replaced_descriptor(tmp_path)
    assert program.running
    returned = []
    waiter = threading.Thread(target=lambda: returned.append(program.catch_up(600)), daemon=True)
    waiter.start()
    waiter.join(30)
    assert returned == [False]
    program.stop()


def test_an_exception_whose_message_fails_is_still_explained(tmp_path):
    code = """
class Odd(Exception):
    def __str__(self):
        raise ValueError("no words")
raise Odd()
"""
    program = labsock.run_client(code, "odd", folder=tmp_path)
    assert program.exit_code == 1
    assert "Odd" in program.error and "could not be shown" in program.error
    assert "Traceback" not in program.output and "bootstrap" not in program.output


def test_system_exit_with_text_keeps_its_text(tmp_path):
    program = labsock.run_client("import sys\nsys.exit('the server address is missing')", "bye",
                                 folder=tmp_path)  # fmt: skip
    assert program.output.strip() == "the server address is missing"
    assert program.exit_code == 1


def test_a_thread_that_fails_does_not_fail_a_program_that_exits_0(tmp_path):
    code = """
import threading
worker = threading.Thread(target=lambda: 1 / 0)
worker.start()
worker.join()
print("done")
"""
    program = labsock.run_client(code, "threads", folder=tmp_path)
    assert program.exit_code == 0
    assert program.error is None
    assert program.state() == "threads: exited with code 0"
    assert "ZeroDivisionError" in program.output and "done" in program.output


NOT_READING = "import time\nprint('busy')\ntime.sleep(30)\n"
LONG_LINE = "x" * 4_000_000  # far more than a pipe holds (64 KB on Linux)


def returns(call) -> bool:
    """True if call() returns within 10 s (it must not wait for the program)."""
    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(10)
    return not caller.is_alive()


def test_typing_a_long_line_to_a_program_not_reading_does_not_block(tmp_path):
    program = labsock.background(NOT_READING, "busy", folder=tmp_path)
    assert returns(lambda: program.type(LONG_LINE))
    program.stop()
    assert not program.running


def test_lines_typed_at_start_do_not_hold_the_start(tmp_path):
    started = []
    program = labsock.Job(NOT_READING, "busy", folder=tmp_path, typed=[LONG_LINE])
    assert returns(lambda: started.append(program.start()))
    assert started and program.running
    program.stop()


def test_a_lone_surrogate_is_said_not_dropped(tmp_path):
    program = labsock.background(NOT_READING, "busy", folder=tmp_path)
    with pytest.raises(LabsockError, match=r"'\\udc80' at character 6: half of a character"):
        program.type("hello\udc80")
    program.stop()
    with pytest.raises(LabsockError, match=r"'\\ud83d' at line 2, character 12"):
        labsock.Job("import time\nmessage = '\ud83d'\n", "copied", folder=tmp_path)


@pytest.mark.parametrize("timeout", [math.inf, math.nan, -1], ids=repr)
def test_waits_refuse_a_number_that_is_no_time(timeout, tmp_path):
    with pytest.raises(LabsockError, match="is not a number of seconds"):
        labsock.run_client("print('hi')", "c1", timeout=timeout, folder=tmp_path)
    with pytest.raises(LabsockError, match="is not a number of seconds"):
        labsock.preflight("127.0.0.1", timeout=timeout)
    program = labsock.background("import time\ntime.sleep(30)", "sleeper", folder=tmp_path)
    with pytest.raises(LabsockError, match="is not a number of seconds"):
        program.wait_until_ready(timeout)
    with pytest.raises(LabsockError, match="is not a number of seconds"):
        program.wait(timeout)
    program.stop()


def test_a_client_stopped_for_want_of_a_reply_says_why(tmp_path, capsys):
    """run_client, like a %%client cell, says why it stopped the program: nothing answered."""
    port = free_port(socket.SOCK_DGRAM)  # no server there
    code = UDP_CLIENT.format(family="AF_INET", host="127.0.0.1", port=port)
    # 3 s, not 1: on a loaded machine a client could be stopped before it had started and sent
    client = labsock.run_client(code, "lonely_client", folder=tmp_path, timeout=3)
    said = capsys.readouterr().out.strip()
    assert said.startswith("lonely_client waited 3 s and was stopped. No reply from "), said
    assert f"127.0.0.1:{port} (UDP)" in said and "Is the server running" in said
    assert "\n" not in said, "one paragraph"
    assert said in client.notes, "kept with the program too"


ASKING_CLIENT = """
from socket import *
clientSocket = socket(AF_INET, SOCK_DGRAM)
clientSocket.sendto(b"hello", ('127.0.0.1', {port}))
print(clientSocket.recvfrom(2048)[0].decode())
"""


def _stopped_client_says(tmp_path, capsys, server_code: str, port: int) -> str:
    server = labsock.background(server_code, "the_server", folder=tmp_path)
    try:
        # 3 s: time enough to start and send on a loaded machine, where the hint is about
        labsock.run_client(ASKING_CLIENT.format(port=port), "asker", folder=tmp_path, timeout=3)
    finally:
        server.stop()
    return capsys.readouterr().out.strip()


def test_a_client_stopped_while_its_server_never_replied_says_the_server_got_it(tmp_path, capsys):
    port = free_port(socket.SOCK_DGRAM)
    silent = (
        "from socket import *\nserverSocket = socket(AF_INET, SOCK_DGRAM)\n"
        f"serverSocket.bind(('127.0.0.1', {port}))\nwhile True:\n"
        "    message, clientAddress = serverSocket.recvfrom(2048)\n"
    )
    said = _stopped_client_says(tmp_path, capsys, silent, port)
    assert "the_server received it" in said and "no reply" in said, said
    assert "sendto(" in said and "clientAddress" in said, said
    assert "Is the server running" not in said, said


def test_a_client_stopped_after_its_server_failed_on_the_message_names_the_failure(
    tmp_path, capsys
):
    port = free_port(socket.SOCK_DGRAM)
    failing = (
        "from socket import *\nserverSocket = socket(AF_INET, SOCK_DGRAM)\n"
        f"serverSocket.bind(('127.0.0.1', {port}))\nwhile True:\n"
        "    message, clientAddress = serverSocket.recvfrom(2048)\n"
        "    serverSocket.sendto(message.upper().encode(), clientAddress)\n"
    )
    said = _stopped_client_says(tmp_path, capsys, failing, port)
    assert "the_server received it, then failed at line 6" in said, said
    assert "Is the server running" not in said, said


def test_a_client_stopped_while_a_server_waits_unbound_names_the_missing_bind(tmp_path, capsys):
    port = free_port(socket.SOCK_DGRAM)
    unbound = (
        "from socket import *\nserverSocket = socket(AF_INET, SOCK_DGRAM)\nwhile True:\n"
        "    message, clientAddress = serverSocket.recvfrom(2048)\n"
    )
    said = _stopped_client_says(tmp_path, capsys, unbound, port)
    assert "the_server waits in recvfrom on a socket it never bound" in said, said
    assert "serverSocket.bind(" in said, said


def test_a_program_still_the_stub_is_said_not_written_not_failed(tmp_path):
    from labsock.show.status_line import state_of

    stub = "# YOUR CODE HERE\nfrom labsock import your_code_here; your_code_here()\n"
    program = labsock.background(stub, "server", folder=tmp_path)
    assert program.wait(10)
    assert program.state() == "server: not written yet (its cell still holds '# YOUR CODE HERE')"
    running, said, _ = state_of(program)
    assert not running
    assert "The program server is not written yet" in said and "failed" not in said, said


def test_a_program_stopped_for_a_later_ones_port_says_so_in_its_own_state(tmp_path):
    port = free_port(socket.SOCK_DGRAM)
    server = (
        "from socket import *\ns = socket(AF_INET, SOCK_DGRAM)\n"
        f"s.bind(('127.0.0.1', {port}))\nwhile True:\n    s.recvfrom(2048)\n"
    )
    first = labsock.background(server, "udp_server", folder=tmp_path)
    second = labsock.background(server, "alnum_server", folder=tmp_path)
    try:
        assert first.state() == f"udp_server: stopped: alnum_server took its UDP port {port}"
        assert second.running
    finally:
        second.stop()
    assert second.state() == "alnum_server: stopped"  # stopped by hand: no reason to give


def test_a_server_waiting_unbound_says_no_client_can_reach_it(tmp_path):
    unbound = (
        "from socket import *\nserverSocket = socket(AF_INET, SOCK_DGRAM)\nwhile True:\n"
        "    message, clientAddress = serverSocket.recvfrom(2048)\n"
    )
    program = labsock.background(unbound, "nobind_server", folder=tmp_path)
    try:
        assert program.state() == (
            "nobind_server: running, waiting in recvfrom on a socket it never bound, so no "
            "client can reach it"
        )
    finally:
        program.stop()


def test_a_tcp_server_that_fails_before_listen_shows_no_reuse_note(tmp_path):
    """The SO_REUSEADDR note explains a quick re-run of a listening server; a server that ends
    on a typo after bind never listened, and the note would only add noise to its error."""
    from labsock.show.program_view import REUSE_NOTE, ProgramView

    code = (
        "from socket import *\n"
        "serverSocket = socket(AF_INET, SOCK_STREAM)\n"
        "serverSocket.bind(('127.0.0.1', 0))\n"
        "serverSocket.listn(1)\n"
    )
    typo = labsock.background(code, "typo_server", folder=tmp_path)
    typo.wait(10)
    assert typo.ports_used, "it did bind"
    assert REUSE_NOTE not in ProgramView(typo).widget.notes
    listening = labsock.background(code.replace("listn", "listen") + "serverSocket.accept()\n",
                                   "listening_server", folder=tmp_path)  # fmt: skip
    try:
        assert REUSE_NOTE in ProgramView(listening).widget.notes
    finally:
        listening.stop()


def test_a_socketserver_programs_reuse_note_is_socketservers_way(tmp_path):
    """A socketserver program has no serverSocket of its own: its view's note says
    allow_reuse_address, the way that program would reuse its port outside labsock."""
    from labsock.show.program_view import ProgramView

    port = free_port(socket.SOCK_STREAM)
    code = (
        "import socketserver\n"
        "class Handler(socketserver.BaseRequestHandler):\n"
        "    def handle(self):\n"
        "        self.request.sendall(self.request.recv(1024).upper())\n"
        f"server = socketserver.TCPServer(('127.0.0.1', {port}), Handler)\n"
        "server.serve_forever()\n"
    )
    program = labsock.background(code, "ss_server", folder=tmp_path)
    try:
        notes = " ".join(ProgramView(program).widget.notes)
        assert "socketserver.TCPServer.allow_reuse_address = True before making" in notes
        assert "serverSocket" not in notes
    finally:
        program.stop()


def test_a_client_of_a_server_stopped_by_the_student_is_told_so(tmp_path):
    """Not the general "is the server running?": this notebook's program that held the port
    was stopped (Stop / .stop()), and when; running its cell again is the fix."""
    import re as regex

    from labsock.net.programs.gave_up import gave_up
    from tests import textbook

    port = free_port()
    server = labsock.background(textbook.UDP_SERVER.format(port=port), "udp_server",
                                folder=tmp_path)  # fmt: skip
    server.stop()
    # A client that sends and ends: what gave_up says of it does not hang on how soon a busy
    # machine runs it (a waiting client's time could run out before it sent).
    sends = textbook.UDP_CLIENT.format(port=port).split("modifiedMessage,")[0]
    client = labsock.run_client(sends, "udp_client", typed=["hello"], folder=tmp_path)
    said = gave_up(client, 5, in_cell=True)
    stopped = r"udp_server was stopped \(Stop button / \.stop\(\)\) at \d\d:\d\d:\d\d"
    assert regex.search(stopped, said)
    assert "Run its cell again (%%background udp_server)" in said
    assert "Is the server running" not in said


def test_a_stopped_server_is_not_blamed_when_something_holds_its_port_now(tmp_path):
    from labsock.net.programs.gave_up import gave_up
    from tests import textbook

    port = free_port()
    server = labsock.background(textbook.UDP_SERVER.format(port=port), "udp_server",
                                folder=tmp_path)  # fmt: skip
    server.stop()
    sends = textbook.UDP_CLIENT.format(port=port).split("modifiedMessage,")[0]
    with labsock.UDPServer(port=port).start():
        client = labsock.run_client(sends, "udp_client", typed=["hello"], folder=tmp_path)
        said = gave_up(client, 5, in_cell=True)
    assert "udp_server was stopped" not in said


STOPPED_TCP_SERVER = (
    r"Nothing is listening on 127\.0\.0\.1:{port} \(TCP\): tcp_server was stopped \(Stop "
    r"button / \.stop\(\)\) at \d\d:\d\d:\d\d, and it held TCP port {port}, where this client "
    r"tried to connect: nothing answers there now\. Run its cell again \(%%background "
    r"tcp_server\), then this one\."
)


def test_a_tcp_client_of_a_server_stopped_by_the_student_is_told_so(tmp_path):
    """Its connect is refused: not the general "is the server running?" but this notebook's
    tcp_server, stopped at that time, in what run_client's job says and prints, and in the
    view of the same client run in the background."""
    import re as regex

    from labsock.show.program_view import ProgramView
    from tests import textbook

    port = free_port(socket.SOCK_STREAM)
    server = labsock.background(textbook.TCP_SERVER.format(port=port), "tcp_server",
                                folder=tmp_path)  # fmt: skip
    server.stop()
    client_code = textbook.TCP_CLIENT.format(port=port)
    client = labsock.run_client(client_code, "tcp_client", typed=["hello"], folder=tmp_path)
    stopped = STOPPED_TCP_SERVER.format(port=port)
    assert client.error_line == 5
    assert regex.search(stopped, client.error), client.error
    assert regex.search(stopped + r"\n$", client.output), client.output  # what the cell shows
    assert "Is the server running" not in client.output
    background = labsock.background(client_code, "tcp_client_bg", typed=["hello"],
                                    folder=tmp_path)  # fmt: skip
    background.wait(10)
    view = ProgramView(background).text()
    assert view.startswith("tcp_client_bg: failed at line 5 (exit code 1)\n"), view
    assert regex.search(stopped, view), view


def test_a_tcp_client_refused_with_no_stopped_server_gets_the_general_advice(tmp_path):
    from tests import textbook

    port = free_port(socket.SOCK_STREAM)  # nothing of this notebook ever held it
    client = labsock.run_client(textbook.TCP_CLIENT.format(port=port), "tcp_client",
                                typed=["hello"], folder=tmp_path)  # fmt: skip
    assert f"Nothing is listening on 127.0.0.1:{port} (TCP)" in client.error
    assert "Is the server running" in client.error
    assert "was stopped" not in client.error


def test_a_stopped_tcp_server_is_not_blamed_when_a_program_holds_its_port_now(tmp_path):
    """A program that bound the port and never listened refuses the connect: it holds the
    port, so the stopped server is not the reason."""
    from tests import textbook

    port = free_port(socket.SOCK_STREAM)
    server = labsock.background(textbook.TCP_SERVER.format(port=port), "tcp_server",
                                folder=tmp_path)  # fmt: skip
    server.stop()
    no_listen = (
        "import time\nfrom socket import *\ns = socket(AF_INET, SOCK_STREAM)\n"
        f"s.bind(('127.0.0.1', {port}))\ntime.sleep(60)\n"
    )
    holder = labsock.background(no_listen, "no_listen_server", folder=tmp_path)
    try:
        client = labsock.run_client(textbook.TCP_CLIENT.format(port=port), "tcp_client",
                                    typed=["hello"], folder=tmp_path)  # fmt: skip
    finally:
        holder.stop()
    assert "Is the server running" in client.error
    assert "was stopped" not in client.error


def test_a_tcp_server_pushed_off_its_port_or_at_another_address_is_not_blamed(tmp_path):
    """Stopped because a later program took its port (the student did not stop it), or bound
    to 127.0.0.1 while the client connects to 127.0.0.2 (refused even while it ran)."""
    from tests import textbook

    port = free_port(socket.SOCK_STREAM)
    pushed = labsock.background(textbook.TCP_SERVER.format(port=port), "tcp_server",
                                folder=tmp_path)  # fmt: skip
    binds_and_ends = (
        f"from socket import *\ns = socket(AF_INET, SOCK_STREAM)\ns.bind(('127.0.0.1', {port}))\n"
    )
    labsock.background(binds_and_ends, "brief_server", folder=tmp_path).wait(10)
    assert pushed.stopped_because == f"brief_server took its TCP port {port}"
    client = labsock.run_client(textbook.TCP_CLIENT.format(port=port), "tcp_client",
                                typed=["hello"], folder=tmp_path)  # fmt: skip
    assert "Is the server running" in client.error and "was stopped" not in client.error

    stopped = labsock.background(textbook.TCP_SERVER.format(port=port), "tcp_server",
                                 folder=tmp_path)  # fmt: skip
    stopped.stop()
    elsewhere = textbook.TCP_CLIENT.format(port=port).replace("'127.0.0.1'", "'127.0.0.2'")
    client = labsock.run_client(elsewhere, "tcp_client", typed=["hello"], folder=tmp_path)
    assert "Nothing is listening on 127.0.0.2" in client.error
    assert "Is the server running" in client.error and "was stopped" not in client.error


def test_a_job_shown_in_a_cell_says_its_state_and_where_its_output_is(tmp_path):
    """`client = labsock.run_client(...)` then `client` in a cell: the student sees how it
    ended and where its output is, not "<labsock.net.programs.job.Job at 0x7f...>"."""
    from labsock.net.programs.job import Job

    assert repr(Job("print(1)", "later", folder=tmp_path)) == "<labsock program later: not started>"
    client = labsock.run_client("print('hi')\nraise SystemExit(3)\n", "ender", folder=tmp_path)
    assert repr(client) == (
        "<labsock program ender: exited with code 3; .output holds what it printed>"
    )
