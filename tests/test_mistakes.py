"""The mistakes students make, made with real programs: labsock names the real cause and the
student's own line (issue 16, points 4 and 5). The cases, and what must and must not be said,
are in tests/mistakes.py, which also renders the README's table from them.

Programs run as students run them: through labsock.background / run_client, or through the
magics in a real kernel. Each test picks free ports; run them inside `unshare -n`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

import labsock
from labsock.lessons.exercises import STUB
from tests import textbook
from tests.kernel_session import KernelSession
from tests.mistakes import MISTAKES, README, excerpts, readme_table, table
from tests.ports import free_port

BY_KEY = {m.key: m for m in MISTAKES}


def held(port: int, kind=socket.SOCK_DGRAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def poll_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def said(key: str, text: str, port: int | None = None) -> None:
    """What labsock said holds every excerpt of the case (with the port the test used), none of
    the wrong hint's words."""
    mistake = BY_KEY[key]
    values = {} if port is None else {"port": port, "next_port": port + 1}
    for words in excerpts(mistake, **values):
        assert words in text, f"{key}: {words!r} missing from:\n{text}"
    for words in mistake.not_said:
        assert words not in text, f"{key}: {words!r} (a wrong hint) in:\n{text}"
    assert "Traceback" not in text


def failure_of(code: str, tmp_path, name: str = "program", *, then=None) -> str:
    """Run a program as %%background would; `then(job)` does what its client would. The
    program's explanation when it failed."""
    job = labsock.background(code, name=name, folder=tmp_path)
    try:
        if then is not None:
            then(job)
        assert job.wait(10), f"{name} did not end"
    finally:
        job.stop()
    assert job.error, f"{name} did not fail:\n{job.output}"
    assert job.error in job.output  # the student sees it under the cell, too
    return job.error


# -- the catalogue and the README ----------------------------------------------------------------


@pytest.mark.fast
def test_every_mistake_has_its_test():
    missing = [m.key for m in MISTAKES if f"test_{m.key}" not in globals()]
    assert not missing


@pytest.mark.fast
def test_the_readme_table_is_the_list_of_mistakes():
    found = readme_table(README.read_text(encoding="utf-8"))
    assert found is not None, "README.md lacks the mistakes table's markers"
    assert found == table(), "run: python -m tests.mistakes --write"


# -- a program's own failure -----------------------------------------------------------------------


def listening_tcp_server(port: int) -> str:
    """The textbook's TCP server up to its listen(1): the start of a mistaken server."""
    return textbook.TCP_SERVER.split("print(")[0].format(port=port)


def test_recvfrom_on_listening_tcp(tmp_path):
    port = free_port(socket.SOCK_STREAM)
    code = (
        listening_tcp_server(port)
        + """\
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
"""
    )
    said("recvfrom_on_listening_tcp", failure_of(code, tmp_path))


def test_accept_without_listen(tmp_path):
    port = free_port(socket.SOCK_STREAM)
    code = listening_tcp_server(port).replace("serverSocket.listen(1)\n", "") + (
        "while True:\n    connectionSocket, addr = serverSocket.accept()\n"
    )
    said("accept_without_listen", failure_of(code, tmp_path))


def test_misspelt_socket_method(tmp_path):
    code = textbook.UDP_SERVER.format(port=free_port()).replace(".recvfrom(", ".recvFrom(")
    said("misspelt_socket_method", failure_of(code, tmp_path))


def client_stopped_by_its_server(server_code: str, port: int, tmp_path) -> str:
    """What a client cell says when it waited for a reply from this server and was stopped."""
    server = labsock.background(server_code, name="udp_server", folder=tmp_path)
    try:
        client = labsock.run_client(
            textbook.UDP_CLIENT.format(port=port),
            "udp_client",
            typed=["hello"],
            timeout=1,
            folder=tmp_path,
        )
    finally:
        server.stop()
    return "\n".join(client.notes)


def test_forgotten_bind(tmp_path):
    port = free_port()
    code = textbook.UDP_SERVER.format(port=port).replace(
        "serverSocket.bind(('127.0.0.1', serverPort))\n", ""
    )
    said("forgotten_bind", client_stopped_by_its_server(code, port, tmp_path), port)


def test_server_never_replies(tmp_path):
    port = free_port()
    code = textbook.UDP_SERVER.format(port=port).replace(
        "    serverSocket.sendto(modifiedMessage.encode(), clientAddress)\n", ""
    )
    said("server_never_replies", client_stopped_by_its_server(code, port, tmp_path), port)


def test_server_fails_on_the_message(tmp_path):
    port = free_port()
    code = textbook.UDP_SERVER.format(port=port).replace(
        "message.decode().upper()", "message.upper().decode(1)"
    )
    said("server_fails_on_the_message", client_stopped_by_its_server(code, port, tmp_path), port)


def test_listen_on_udp(tmp_path):
    code = f"""\
from socket import *
serverPort = {free_port()}
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', serverPort))
serverSocket.listen(1)
"""
    said("listen_on_udp", failure_of(code, tmp_path))


def test_sendto_on_unconnected_tcp(tmp_path):
    code = textbook.TCP_CLIENT.format(port=free_port(socket.SOCK_STREAM))
    code = code.replace("clientSocket.connect((serverName, serverPort))\n", "")
    code = code.replace(
        "clientSocket.send(sentence.encode())",
        "message = sentence\nclientSocket.sendto(message.encode(), (serverName, serverPort))",
    )
    job = labsock.run_client(code, name="client", typed=["hello"], folder=tmp_path)
    assert job.error, job.output
    said("sendto_on_unconnected_tcp", job.error)


def test_reply_not_encoded(tmp_path):
    port = free_port()
    code = textbook.UDP_SERVER.format(port=port).replace(
        "serverSocket.sendto(modifiedMessage.encode(), clientAddress)",
        "serverSocket.sendto(modifiedMessage, clientAddress)",
    )

    def a_client_sends(job):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.sendto(b"hello", ("127.0.0.1", port))

    said("reply_not_encoded", failure_of(code, tmp_path, then=a_client_sends))


def test_port_held_outside(tmp_path):
    port = free_port()
    squatter = subprocess.Popen(
        [sys.executable, "-c", SQUATTER, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert squatter.stdout.readline().strip() == "holding"
        text = failure_of(textbook.UDP_SERVER.format(port=port), tmp_path, name="late_server")
    finally:
        squatter.kill()
        squatter.wait()
    said("port_held_outside", text, port)
    if sys.platform == "linux":  # /proc names the program that holds it
        assert f"(process {squatter.pid}) holds it" in text


SQUATTER = """\
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("holding", flush=True)
time.sleep(60)
"""


def test_character_split(tmp_path):
    port = free_port(socket.SOCK_STREAM)
    code = (
        listening_tcp_server(port)
        + """\
connectionSocket, addr = serverSocket.accept()
while True:
    line = connectionSocket.recv(1024).decode()
    print(line)
"""
    )

    clients = []

    def a_piece_ends_inside_a_character(job):
        clients.append(socket.create_connection(("127.0.0.1", port)))
        clients[0].sendall("café\n".encode()[:4])  # b"caf\xc3": the é cut after its first byte

    try:
        text = failure_of(code, tmp_path, then=a_piece_ends_inside_a_character)
    finally:
        for client in clients:
            client.close()
    said("character_split", text)


def test_pinger_after_relay_stopped(tmp_path):
    server = labsock.serve_udp(port=0, reply="echo")
    relay = labsock.relay_udp(0, to=f"127.0.0.1:{server.port}", network="mobile", seed=7)
    pinger = f"""\
import time
from socket import *
clientSocket = socket(AF_INET, SOCK_DGRAM)
clientSocket.settimeout(0.5)
for n in range(1, 4):
    sent = time.time()
    clientSocket.sendto(f'Ping {{n}} {{sent}}'.encode(), ('127.0.0.1', {relay.port}))
    try:
        clientSocket.recvfrom(1024)
        print(f'Ping {{n}}: reply in {{(time.time() - sent) * 1000:.1f}} ms')
    except timeout:
        print(f'Ping {{n}}: request timed out')
"""
    try:
        ran = labsock.run_client(pinger, name="pinger", folder=tmp_path, timeout=10)
        assert ran.exit_code == 0, ran.output
        while_running = labsock.check_pinger("pinger", relay, pings=3)
        relay.stop()
        after_stop = labsock.check_pinger("pinger", relay, pings=3)
    finally:
        relay.stop()
        server.stop()
    assert "relay was stopped" not in str(while_running)
    assert not after_stop.passed
    said("pinger_after_relay_stopped", str(after_stop))


# -- in a notebook's kernel, through the magics --------------------------------------------------


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    with KernelSession(tmp_path_factory.mktemp("notebook")) as session:
        session.run("import labsock")
        yield session


@pytest.fixture
def stop_programs(kernel):
    yield
    kernel.run("labsock.stop_all()")


FLOODER = """\
from socket import *
serverName = '127.0.0.1'
serverPort = {port}
clientSocket = socket(AF_INET, SOCK_DGRAM)
number = 0
while True:
    number = number + 1
    clientSocket.sendto(str(number).encode(), (serverName, serverPort))
"""


def test_endless_client(kernel, stop_programs):
    port = free_port()
    kernel.run(f"%%background udp_server\n{textbook.UDP_SERVER.format(port=port)}")
    flood = kernel.run(f"%%client flooder --timeout 2\n{FLOODER.format(port=port)}")
    said("endless_client", flood.stdout)


def test_paced_endless_client(kernel, stop_programs):
    port = free_port()
    kernel.run(f"%%background udp_server\n{textbook.UDP_SERVER.format(port=port)}")
    paced = FLOODER.format(port=port).replace(
        "number = number + 1", "number = number + 1\n    time.sleep(0.1)"
    )
    flood = kernel.run(f"%%client flooder --timeout 1\nimport time\n{paced}")
    said("paced_endless_client", flood.stdout)


def test_port_held_by_another_notebook(kernel, stop_programs, tmp_path):
    port = free_port()
    # This test's process plays the other notebook: its labsock runs old_server on the port.
    server = textbook.UDP_SERVER.format(port=port)
    old = labsock.background(server, name="old_server", folder=tmp_path)
    try:
        taken = kernel.run(f"%%background udp_server\n{server}")
    finally:
        old.stop()
    said("port_held_by_another_notebook", taken.text, port)
    # Named by the notebooks' records, in the program's own explanation: once, with its button.
    assert taken.text.count(f"old_server holds port {port} (UDP)") == 1, taken.text
    assert f"Stop old_server (pid {old.pid}), then run this cell again" in taken.text


@pytest.fixture(scope="module")
def plain_cell_then_background(kernel):
    """A server run in a plain cell, interrupted, then the same server with %%background:
    (what the plain cell said, what the %%background cell said)."""
    port = free_port()
    server = textbook.UDP_SERVER.format(port=port)
    plain = kernel.start(server)
    try:
        assert poll_until(lambda: held(port)), "the plain cell's server did not bind"
        # Said while the cell is blocked in recvfrom, before anyone pressed Interrupt.
        assert poll_until(lambda: "freezes" in plain.text), plain.text
        said_before_interrupt = plain.text
    finally:
        # An interrupt that comes before the cell runs is lost: press it until the cell ends.
        for _ in range(20):
            kernel.manager.interrupt_kernel()
            if plain.done.wait(0.5):
                break
    assert plain.done.is_set(), "the interrupted cell ended"
    assert held(port), "the kernel keeps the plain cell's socket"
    background = kernel.run(f"%%background udp_server\n{server}")
    kernel.run("serverSocket.close()")  # what the hint says to do
    again = kernel.run(f"%%background udp_server\n{server}")
    kernel.run("labsock.stop_all()")
    return said_before_interrupt, background.text, again.text


def test_plain_cell_server(plain_cell_then_background):
    plain, _, _ = plain_cell_then_background
    said("plain_cell_server", plain)


def test_port_held_by_this_kernel(plain_cell_then_background):
    _, background, again = plain_cell_then_background
    said("port_held_by_this_kernel", background)
    assert "udp_server: running, waiting in recvfrom" in again  # the way out worked


def test_a_background_cell_is_not_warned_about(kernel, stop_programs):
    port = free_port()
    started = kernel.run(f"%%background udp_server\n{textbook.UDP_SERVER.format(port=port)}")
    assert "freezes" not in started.text


# The student version's program: the solution replaced by the stub.
ALNUM_STUB = f"from socket import *\n{STUB}\n"


def test_answered_by_an_earlier_server(kernel, stop_programs):
    port = free_port()
    kernel.run(f"%%background udp_server\n{textbook.UDP_SERVER.format(port=port)}")
    kernel.run(f"%%background alnum_server\n{ALNUM_STUB}")
    client = kernel.run(
        f'%%client alnum_client --type "Hello, World 42!"\n{textbook.UDP_CLIENT.format(port=port)}'
    )
    assert "HELLO, WORLD 42!" in client.stdout
    said("answered_by_an_earlier_server", client.stdout)


def test_no_word_when_the_latest_server_answered(kernel, stop_programs):
    port = free_port()
    kernel.run(f"%%background udp_server\n{textbook.UDP_SERVER.format(port=port)}")
    client = kernel.run(f'%%client udp_client --type "hi"\n{textbook.UDP_CLIENT.format(port=port)}')
    assert client.stdout == "Input lowercase sentence:hi\nHI\n"


def test_answered_by_no_program_of_this_notebook(kernel, stop_programs):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as outside:
        outside.bind(("127.0.0.1", 0))
        port = outside.getsockname()[1]

        def echo_once():
            data, peer = outside.recvfrom(2048)
            outside.sendto(data.upper(), peer)

        answering = threading.Thread(target=echo_once, daemon=True)
        answering.start()
        client = kernel.run(
            f'%%client udp_client --type "hi"\n{textbook.UDP_CLIENT.format(port=port)}'
        )
        answering.join(5)
    assert client.stdout.startswith("Input lowercase sentence:hi\nHI\n")
    said("answered_by_no_program_of_this_notebook", client.stdout)
    assert f"127.0.0.1:{port}" in client.stdout
