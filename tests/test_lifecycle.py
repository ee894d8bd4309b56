"""One life cycle for every background kind: start, stop, `with`, the registry, re-runs."""

import socket
import subprocess
import sys

import pytest

import labsock
from labsock.net import lifecycle
from labsock.net.counting import CountingClient
from labsock.net.lifecycle import LifeCycle, clash
from labsock.net.relay import UDPRelay
from labsock.net.tcp_slicer import TCPSlicer


class Program(LifeCycle):
    """A fourth kind as the lead's runner of students' programs will be: a separate process,
    no thread of ours, registered by name, holding whatever ports it reports."""

    what = "the program"

    def __init__(self, name, ports=()):
        self.name = name
        self.ports = set(ports)
        self.process = None

    def claims(self):
        return {("program", self.name), *self.ports}

    def _begin(self):
        # The process says when it is ready (as the real runner's bootstrap will, on bind).
        code = "import sys, time; print('ready', flush=True); time.sleep(60)"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline() == "ready\n"

    def _end(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)  # stop() returns once the process has ended
        if self.process is not None:
            self.process.stdout.close()

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_claims_clash_like_the_systems_bind():
    assert clash(("udp", "127.0.0.1", 12000), ("udp", "127.0.0.1", 12000))
    assert clash(("udp", "0.0.0.0", 12000), ("udp", "127.0.0.1", 12000))
    assert not clash(("udp", "127.0.0.1", 12000), ("tcp", "127.0.0.1", 12000))
    assert not clash(("udp", "127.0.0.1", 12000), ("udp", "127.0.0.2", 12000))
    assert clash(("program", "server"), ("program", "server"))
    assert not clash(("program", "server"), ("program", "client"))


def test_a_process_kind_fits_the_interface():
    first = Program("server").start()
    assert first.running and lifecycle.running(Program) == [first]
    again = Program("server").start()  # the re-run cell: the older process goes first
    assert not first.running and first.process.returncode is not None
    assert again.replaced == "stopped the program from an earlier run"
    other = Program("client").start()  # another name: both run
    assert again.running and other.running
    labsock.stop_all()  # stops every kind, this one included
    assert not again.running and not other.running and lifecycle.running(Program) == []


def test_a_newer_thing_of_another_kind_takes_the_port_from_an_older_one():
    port = free_udp_port()
    client = CountingClient(bind_port=port, port=9, delay=30).start()  # holds 0.0.0.0:port
    with labsock.UDPServer(port=port) as server:  # same port: the client gives it back first
        assert not client.running and server.running
        assert server.replaced == "stopped the counting client from an earlier run"
        relay = UDPRelay(0, ("127.0.0.1", server.port)).start()
        newer = labsock.UDPServer(port=relay.port).start()
        assert not relay.running and newer.replaced == "stopped the UDP relay from an earlier run"
        newer.stop()


def test_stop_all_stops_every_kind_and_each_leaves_the_registry():
    server = labsock.TCPServer(port=0).start()
    things = [
        server,
        labsock.UDPServer(port=0).start(),
        CountingClient(bind_port=0, port=9, delay=30).start(),
        UDPRelay(0, ("127.0.0.1", 9)).start(),
        TCPSlicer(0, ("127.0.0.1", server.port)).start(),
    ]
    assert set(lifecycle.running()) >= set(things)
    labsock.stop_all()
    assert not any(t.running for t in things)
    assert not set(lifecycle.running()) & set(things)


def test_a_failed_start_holds_nothing_and_is_not_listed():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        server = labsock.UDPServer(port=other.getsockname()[1])
        with pytest.raises(labsock.LabsockError, match="already in use by another program"):
            server.start()
    assert server not in lifecycle.running() and not server.running


def test_with_block_and_stop_twice():
    with UDPRelay(0, ("127.0.0.1", 9)) as relay:
        assert relay.running and relay in lifecycle.running()
    assert not relay.running and relay not in lifecycle.running()
    relay.stop()  # harmless
