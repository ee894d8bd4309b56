"""Self-checks against students' programs: the textbook's pass every point; each usual mistake
fails the point that names it, with a hint."""

from __future__ import annotations

import socket
import time

import pytest

import labsock
from labsock.logic.impairment import Impairment
from labsock.net.relay import relay_udp
from tests import textbook
from tests.ports import free_port
from tests.student_programs import FRAMED_SOLUTION, PINGER_SOLUTION


@pytest.fixture
def start(tmp_path):
    started = []

    def start_program(code: str, name: str):
        job = labsock.Job(code, name, folder=tmp_path).start()
        # A cell gives a program 5 s to start waiting; a loaded machine may take longer, and
        # these tests are about what follows: a connection refused tells nothing of that.
        started.append(job)
        assert job.wait_until_ready(60) != "still starting", job.output
        return job

    yield start_program
    for job in started:
        job.stop()


def marks(checklist) -> list[str]:
    return [point.mark for point in checklist.points]


def test_the_textbook_udp_server_passes_every_point(start):
    port = free_port()
    start(textbook.UDP_SERVER.format(port=port), "udp_server")
    result = labsock.check_udp_server(port)
    assert result.passed, str(result)
    assert str(result).startswith(f"Your UDP server on port {port}: all 7 checks pass.")
    assert "'grüße, señor' comes back as 'GRÜSSE, SEÑOR'" in str(result)


def test_the_textbook_tcp_server_passes_every_point(start):
    port = free_port(socket.SOCK_STREAM)
    start(textbook.TCP_SERVER.format(port=port), "tcp_server")
    result = labsock.check_tcp_server(port)
    assert result.passed, str(result)


def test_a_server_that_forgets_to_change_the_text_fails_with_a_hint(start):
    port = free_port()
    echo = textbook.UDP_SERVER.replace("message.decode().upper()", "message.decode()")
    start(echo.format(port=port), "udp_server")
    result = labsock.check_udp_server(port)
    assert marks(result) == ["ok", "ok", "NO", "NO", "NO", "NO", "ok"]
    assert "The reply was 'input lowercase sentence'" in str(result)


def test_the_alphanumeric_variant_is_checked_against_its_definition(start):
    port = free_port()
    alnum = textbook.UDP_SERVER.format(port=port).replace(
        "modifiedMessage = message.decode().upper()",
        "kept = ''.join(c for c in message.decode() if c.isalnum())\n"
        "    modifiedMessage = f'{len(kept)} alphanumeric: {kept}'",
    )
    start(alnum, "alnum_server")
    result = labsock.check_udp_server(port, program="alnum_server", reply="alnum")
    assert result.passed, str(result)
    assert "'input lowercase sentence' comes back as '22 alphanumeric: " in str(result)


def test_a_server_bound_elsewhere_and_no_server_at_all(start):
    port, wrong = free_port(), free_port()
    start(textbook.UDP_SERVER.format(port=wrong), "udp_server")
    result = labsock.check_udp_server(port, timeout=0.3)
    assert marks(result)[:2] == ["ok", "NO"]
    assert f"It holds UDP {wrong}: bind the server's socket to port {port}" in str(result)
    nobody = labsock.check_udp_server(port, program="never_started", timeout=0.3)
    assert nobody.points[0].ok is False
    assert "No program called 'never_started' was started" in nobody.points[0].hint


TASK3_CLIENT = """\
import time
from socket import *
clientSocket = socket(AF_INET, SOCK_DGRAM)
clientSocket.bind(('', {bind}))
n = 1
while True:
    clientSocket.sendto(str(n).encode(), ('127.0.0.1', {port}))
    n = n % 100 + 1
    time.sleep({delay})
"""

TASK3_SERVER = """\
from socket import *
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', {port}))
while True:
    message, caddr = serverSocket.recvfrom(2048)
    print(caddr[1], message.decode())
"""


def task3(start, *, delay=0.02, server=TASK3_SERVER):
    port, c1, c2 = free_port(), free_port(), free_port()
    start(server.format(port=port), "server")
    start(TASK3_CLIENT.format(bind=c1, port=port, delay=delay), "c1")
    start(TASK3_CLIENT.format(bind=c2, port=port, delay=delay), "c2")
    return port, {"c1": c1, "c2": c2}


def test_task3_clients_and_server_pass(start):
    port, clients = task3(start)
    result = labsock.check_counting_clients(clients, server="server")
    assert result.passed, str(result)
    names = {p: n for n, p in clients.items()}
    server = labsock.check_counting_server("server", names, port=port)
    assert server.passed, str(server)


def test_the_clients_check_run_twice_judges_their_own_pace_both_times(start):
    # The first check hurried the clients' pauses: the second must not take that for theirs.
    port, clients = task3(start, delay=0.05)
    first = labsock.check_counting_clients(clients, server="server")
    second = labsock.check_counting_clients(clients, server="server")
    assert first.passed, str(first)
    assert second.passed, str(second)
    assert "shortened c1 and c2's pauses" in first.title


def test_clients_without_a_delay_fail_that_point(start):
    _, clients = task3(start, delay=0)
    result = labsock.check_counting_clients(clients, server="server")
    point = [p for p in result.points if "waits between two numbers" in p.what][0]
    assert point.ok is False
    assert "time.sleep(0.2)" in point.hint


def test_a_server_that_does_not_say_who_sent_fails_that_point(start):
    anonymous = TASK3_SERVER.replace("print(caddr[1], message.decode())", "print(message.decode())")
    port, clients = task3(start, server=anonymous)
    labsock.check_counting_clients(clients, server="server")  # waits for numbers to arrive
    names = {p: n for n, p in clients.items()}
    result = labsock.check_counting_server("server", names, port=port)
    point = [p for p in result.points if "which client sent each number" in p.what][0]
    assert point.ok is False


PINGER = PINGER_SOLUTION


def test_a_pinger_through_a_lossy_relay_accounts_for_every_loss(tmp_path):
    server = labsock.serve_udp(port=0, reply="echo")
    relay = relay_udp(0, to=f"127.0.0.1:{server.port}", network=Impairment(loss=0.3), seed=3)
    try:
        pinger = labsock.run_client(
            PINGER.format(port=relay.port), "pinger", timeout=20, folder=tmp_path
        )
        result = labsock.check_pinger("pinger", relay)
        assert result.passed, str(result)
        assert pinger.output.count("timed out") == (
            relay.counts("forward").dropped + relay.counts("backward").dropped
        )
    finally:
        relay.stop()
        server.stop()


def test_a_pinger_without_a_timeout_hangs_and_fails_that_point(tmp_path):
    hanging = PINGER.replace("clientSocket.settimeout(0.3)\n", "")
    port = free_port()  # nobody answers
    labsock.run_client(hanging.format(port=port), "pinger", timeout=0.5, folder=tmp_path)
    result = labsock.check_pinger("pinger")
    assert result.points[0].ok is False
    assert "settimeout(1)" in result.points[0].hint


def test_the_stub_pinger_passes_no_point(tmp_path):
    # The student version's pinger cell, not written yet: it sends nothing and so times out
    # nothing, which matched the relay's zero drops and read "ok" under "not written yet".
    stub = (
        "from socket import *\n"
        "clientSocket = socket(AF_INET, SOCK_DGRAM)\n"
        "# YOUR CODE HERE\n"
        "from labsock import your_code_here; your_code_here()\n"
    )
    server = labsock.serve_udp(port=0, reply="echo")
    relay = relay_udp(0, to=f"127.0.0.1:{server.port}", seed=3)
    try:
        labsock.run_client(stub, "pinger", timeout=5, folder=tmp_path)
        result = labsock.check_pinger("pinger", relay)
    finally:
        relay.stop()
        server.stop()
    assert [p.ok for p in result.points] == [False], str(result)
    assert "pinger is not written yet" in result.points[0].hint


@pytest.mark.fast
def test_a_printed_line_with_a_digit_beyond_ascii_is_read_not_a_crash():
    from labsock.lessons.self_check import _printed_pairs

    # "²" is a digit to str.isdigit(), and int() refuses it
    names = {11000: "c1", 13000: "c2"}
    assert _printed_pairs("c1 ² 3\nc2: 5\n", names) == [(11000, 3), (13000, 5)]


@pytest.mark.fast
def test_the_server_check_waits_for_a_pair_until_enough_other_lines_show_there_is_none():
    # The output lags the log (by over a second on a busy hub): a right server's first pair may
    # not be printed yet when numbers have arrived. The check waits for it; a server that prints
    # lines without pairs is judged after OTHER_LINES_ENOUGH of them, not at the end of its time.
    from labsock.lessons.self_check import OTHER_LINES_ENOUGH, _printed_enough

    names = {11000: "c1", 13000: "c2"}
    ready = "The server is ready to receive\n"
    assert not _printed_enough("", names)
    assert not _printed_enough(ready, names)
    assert not _printed_enough(ready + "c1 11000 1", names)  # a line still being written
    assert _printed_enough(ready + "c1 11000 1\n", names)
    numbers_only = "".join(f"{n}\n" for n in range(1, OTHER_LINES_ENOUGH))
    assert not _printed_enough(numbers_only, names)
    assert _printed_enough(numbers_only + "10\n", names)


FRAMED_SERVER = FRAMED_SOLUTION
NAIVE_SERVER = FRAMED_SERVER.replace(
    "        buffer += chunk\n        while b'\\n' in buffer:\n"
    "            line, buffer = buffer.split(b'\\n', 1)\n"
    "            print('message:', line.decode())\n",
    "        print('message:', chunk.decode(errors='replace'))\n",
)
FRAMED_CLIENT = """\
from socket import *
s = socket(AF_INET, SOCK_STREAM)
s.connect(('127.0.0.1', {port}))
for message in ['hello', 'how are you?', 'grüße', 'bye']:
    s.sendall((message + '\\n').encode())
s.close()
"""


@pytest.mark.parametrize("server, passes", [(FRAMED_SERVER, True), (NAIVE_SERVER, False)])
def test_a_framed_server_prints_whole_messages_through_the_slicer(start, tmp_path, server, passes):
    port = free_port(socket.SOCK_STREAM)
    start(server.format(port=port), "framed_server")
    slicer = labsock.slice_tcp(0, to=f"127.0.0.1:{port}", max_piece=3)
    try:
        # run_client returns when the client ends: 60 s only for a loaded machine's slow start.
        labsock.run_client(
            FRAMED_CLIENT.format(port=slicer.port), "framed_client", folder=tmp_path, timeout=60
        )
        result = labsock.check_framed_server(timeout=1 if not passes else 5)
    finally:
        slicer.stop()
    assert result.passed is passes, str(result)
    assert marks(result)[:3] == ["ok", "ok", "ok"]


def test_a_framed_server_that_prints_late_but_within_the_checks_time_passes(start, tmp_path):
    """On a loaded machine (a JupyterHub at lesson time) a right server may print seconds late
    (here 6 s): the check waits its whole timeout for each stream, not a shorter one for its own."""
    port = free_port(socket.SOCK_STREAM)
    slow = FRAMED_SERVER.replace("    buffer = b''\n", "    import time\n    time.sleep(6)\n"
                                 "    buffer = b''\n", 1)  # fmt: skip
    assert slow != FRAMED_SERVER
    start(slow.format(port=port), "framed_server")
    slicer = labsock.slice_tcp(0, to=f"127.0.0.1:{port}", max_piece=3)
    try:
        labsock.run_client(
            FRAMED_CLIENT.format(port=slicer.port), "framed_client", folder=tmp_path, timeout=60
        )
        result = labsock.check_framed_server(timeout=15)
    finally:
        slicer.stop()
    assert result.passed, str(result)


def test_a_flooded_servers_report_counts_losses_not_copies(start):
    # Clients without a pause overflow the server's socket buffer: bursts of losses, some
    # longer than half a lap. On loopback nothing comes twice, and the report must say so.
    port, clients = task3(start, delay=0)
    server = labsock.job("server")
    deadline = time.monotonic() + 10
    while not server.log.dropped and time.monotonic() < deadline:
        server.wait_for_change(server.version, 0.2)  # until the log has run a while
    names = {p: n for n, p in clients.items()}
    report = labsock.counting_report(server, names)
    assert report.tracker.in_order  # a student's program, no relay in between
    stats = report.tracker.all_stats()
    # Only a burst of exactly 99 (199...) lost still reads as a copy: it names the number just
    # before it again, as a client that sent it twice would. Read as copies, 50-89 lost in a row
    # gave about one duplicate in 300 arrivals.
    assert stats and all(s.out_of_order == 0 for s in stats), stats
    assert all(s.duplicates <= s.received // 1000 + 1 for s in stats), stats


def test_a_report_reads_in_order_only_without_a_relay_in_between(start):
    port = free_port()
    start(textbook.UDP_SERVER.format(port=port), "udp_server")
    server = labsock.job("udp_server")
    assert labsock.counting_report(server).tracker.in_order
    relay = relay_udp(0, to=f"127.0.0.1:{port}", network=Impairment(duplicate=0.1))
    try:
        assert not labsock.counting_report(server).tracker.in_order
    finally:
        relay.stop()
    with labsock.serve_udp(port=0, reply="none") as labsocks_own:
        assert not labsock.counting_report(labsocks_own).tracker.in_order


def test_a_programs_explanation_quoted_by_a_check_points_at_the_programs_cell():
    """Under the check there is no button and "this cell" is the check's: the explanation a
    failed program gave in its own cell names that cell when a check quotes it."""
    from types import SimpleNamespace

    from labsock.lessons.self_check import _why_not_running

    failed = SimpleNamespace(
        name="lan_server",
        error_kind="OSError",
        error=(
            "Port 12000 (UDP) is already in use. task1_udp_tcp.ipynb's alnum_server holds port "
            "12000 (UDP). The button below stops it, then runs this cell again (or press its Stop "
            "in that notebook)."
        ),
        state=lambda: "lan_server: failed at line 5 (exit code 1)",
    )
    said = _why_not_running(failed)
    assert "The button under lan_server's cell stops it, then runs lan_server's cell again" in said
    assert "below" not in said and "this cell" not in said
