"""Runs one case of tests/student_programs.py as a notebook would, then its self-check.

Each check has its scenario: the student's program started under its notebook name (as its
cell would), what the notebook has around it (labsock's echo server and a lossy relay for the
pinger, the slicer and the given client for the framed server, the two clients for Task 3's
server), then the check itself. Ports are free ones, so cases can run beside anything else.
"""

from __future__ import annotations

import socket
import tempfile
import time

import labsock
from labsock.logic.impairment import Impairment
from labsock.net.relay import relay_udp
from tests.ports import free_port
from tests.student_programs import COUNTING_SOLUTION, Case

FRAMED_CLIENT = """\
from socket import *
clientSocket = socket(AF_INET, SOCK_STREAM)
clientSocket.connect(('127.0.0.1', {port}))
for message in ['hello', 'how are you?', 'grüße', 'bye']:
    clientSocket.sendall((message + '\\n').encode())
clientSocket.close()
"""
SERVER_NAMES = {
    "check_udp_server": "udp_server",
    "check_udp_server alnum": "alnum_server",
    "check_tcp_server": "tcp_server",
    "check_tcp_server alnum": "tcp_server",
}


class Run:
    """What one case started, so that all of it stops afterwards."""

    def __init__(self, folder: str):
        self.folder = folder
        self.started: list = []

    def background(self, code: str, name: str):
        job = labsock.background(code, name=name, folder=self.folder)
        self.started.append(job)
        return job

    def client(self, code: str, name: str, timeout: float):
        job = labsock.run_client(code, name=name, timeout=timeout, folder=self.folder)
        self.started.append(job)
        return job

    def keep(self, thing):
        self.started.append(thing)
        return thing

    def stop(self) -> None:
        for thing in reversed(self.started):
            thing.stop()


def run_case(case: Case, folder: str | None = None):
    """The checklist the case's check gives its program."""
    with tempfile.TemporaryDirectory() as scratch:
        run = Run(folder or scratch)
        try:
            return SCENARIOS[case.check.split()[0]](case, run)
        finally:
            run.stop()


def failing_point(checklist):
    """The first point that does not pass, or None."""
    return next((point for point in checklist.points if point.ok is not True), None)


def verdict(checklist) -> str:
    point = failing_point(checklist)
    return "pass" if point is None else f"NO: {point.what}"


def _server(case: Case, run: Run):
    kind = socket.SOCK_STREAM if "tcp" in case.check else socket.SOCK_DGRAM
    port = free_port(kind)
    name = SERVER_NAMES[case.check]
    run.background(case.program.format(port=port), name)
    reply = "alnum" if "alnum" in case.check else "upper"
    check = labsock.check_tcp_server if "tcp" in case.check else labsock.check_udp_server
    return check(port, program=name, reply=reply, timeout=1.0)


def _printing(case: Case, run: Run):
    port = free_port()
    run.background(case.program.format(port=port), "print_server")
    return labsock.check_printing_server(port, program="print_server", timeout=2.0)


def _typing(case: Case, run: Run):
    port = free_port()
    run.background(case.program.format(port=port), "typing_client")
    check = getattr(labsock, "check_typing_client", None)
    if check is None:
        raise LookupError("labsock has no check_typing_client")
    return check(port, program="typing_client", timeout=2.0)


def _task3(case: Case, run: Run, server: str, client: str):
    port, c1, c2 = free_port(), free_port(), free_port()
    run.background(server.format(port=port, c1=c1, c2=c2), "server")
    for name, bind in (("c1", c1), ("c2", c2)):
        run.background(client.format(port=port, bind=bind), name)
    return port, {"c1": c1, "c2": c2}


def _counting_clients(case: Case, run: Run):
    from tests.student_programs import SERVER_SOLUTION

    _, clients = _task3(case, run, SERVER_SOLUTION, case.program)
    return labsock.check_counting_clients(clients, server="server")


def _counting_server(case: Case, run: Run):
    pause = case.options.get("pause", 0.02)
    client = COUNTING_SOLUTION.replace("{pause}", str(pause))
    port, clients = _task3(case, run, case.program, client)
    names = {bind: name for name, bind in clients.items()}
    server = labsock.job("server")
    if server.running:  # as the notebook's cell above the check: numbers have come by now
        deadline = time.monotonic() + 3
        while len(server.log.messages()) < 20 and time.monotonic() < deadline:
            server.wait_for_change(server.version, 0.2)
        # Clients without a pause: run on until the log has dropped its oldest arrivals (as
        # after a minute in class), so the output and the log keep different beginnings.
        deadline = time.monotonic() + (10 if pause == 0 else 0)
        while server.running and not server.log.dropped and time.monotonic() < deadline:
            server.wait_for_change(server.version, 0.2)
    return labsock.check_counting_server("server", names, port=port)


def _pinger(case: Case, run: Run):
    server = run.keep(labsock.serve_udp(port=0, reply="echo"))
    network = Impairment(loss=case.options.get("loss", 0.3))
    relay = run.keep(relay_udp(0, to=f"127.0.0.1:{server.port}", network=network, seed=3))
    run.client(case.program.format(port=relay.port), "pinger", timeout=6)
    return labsock.check_pinger("pinger", relay)


def _framed(case: Case, run: Run):
    port = free_port(socket.SOCK_STREAM)
    run.background(case.program.format(port=port), "framed_server")
    slicer = run.keep(labsock.slice_tcp(0, to=f"127.0.0.1:{port}", max_piece=3, seed=1))
    run.client(FRAMED_CLIENT.format(port=slicer.port), "framed_client", timeout=5)
    return labsock.check_framed_server(timeout=2)


SCENARIOS = {
    "check_udp_server": _server,
    "check_tcp_server": _server,
    "check_printing_server": _printing,
    "check_typing_client": _typing,
    "check_counting_clients": _counting_clients,
    "check_counting_server": _counting_server,
    "check_pinger": _pinger,
    "check_framed_server": _framed,
}
