"""One life cycle for every background kind: start, stop, `with`, the registry, re-runs."""

import socket

import pytest

import labsock
from labsock.net import lifecycle
from labsock.net.counting import CountingClient
from labsock.net.lifecycle import clash
from labsock.net.programs.job import Job
from labsock.net.relay import UDPRelay
from labsock.net.tcp_slicer import TCPSlicer
from tests import textbook
from tests.ports import free_port as free_udp_port

# A program that waits until it is stopped, holding nothing.
WAITS = "import time\nprint('waiting', flush=True)\ntime.sleep(60)\n"


def test_claims_clash_like_the_systems_bind():
    assert clash(("udp", "127.0.0.1", 12000), ("udp", "127.0.0.1", 12000))
    assert clash(("udp", "0.0.0.0", 12000), ("udp", "127.0.0.1", 12000))
    assert not clash(("udp", "127.0.0.1", 12000), ("tcp", "127.0.0.1", 12000))
    assert not clash(("udp", "127.0.0.1", 12000), ("udp", "127.0.0.2", 12000))
    assert clash(("program", "server"), ("program", "server"))
    assert not clash(("program", "server"), ("program", "client"))


def test_a_students_program_is_a_kind_like_the_others(tmp_path):
    first = labsock.background(WAITS, "server", folder=tmp_path)
    assert first.running and lifecycle.running(Job) == [first] == labsock.running_jobs()
    again = labsock.background(WAITS, "server", folder=tmp_path)  # the re-run cell
    assert not first.running and first.stopped and first.exit_code is not None
    assert again.replaced == "stopped your program 'server' from an earlier run"
    other = labsock.background(WAITS, "client", folder=tmp_path)  # another name: both run
    assert again.running and other.running
    labsock.stop_all()  # stops every kind, programs included
    assert not again.running and not other.running and lifecycle.running(Job) == []


def test_a_program_that_ends_by_itself_leaves_the_registry(tmp_path):
    done = labsock.run_client("print('bye')", "quick", folder=tmp_path)
    assert done.output == "bye\n" and not done.running
    assert done not in lifecycle.running() and labsock.job("quick") is done


def test_a_server_started_on_a_programs_port_stops_the_program_first(tmp_path):
    port = free_udp_port()
    program = labsock.background(
        textbook.UDP_SERVER.format(port=port), "udp_server", folder=tmp_path
    )
    assert ("udp", "127.0.0.1", port) in program.claims()
    with labsock.UDPServer(port=port) as server:  # no "Address already in use"
        assert not program.running and server.running
        assert server.replaced == "stopped your program 'udp_server' from an earlier run"


def test_a_program_binding_a_port_labsock_holds_takes_it_over(tmp_path):
    port = free_udp_port()
    client = CountingClient(bind_port=port, port=9, delay=30).start()
    program = labsock.background(
        textbook.UDP_SERVER.format(port=port), "udp_server", folder=tmp_path
    )
    assert not client.running and program.running
    (note,) = program.notes
    assert note.startswith(f"labsock stopped labsock's counting client: it held UDP port {port}")
    program.stop()


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


def test_each_kind_names_itself_and_stop_answers_alike(tmp_path):
    server = labsock.TCPServer(port=0).start()
    things = {
        "server": server,
        "counting client": CountingClient(bind_port=0, port=9, delay=30).start(),
        "relay": TCPSlicer(0, ("127.0.0.1", server.port)).start(),
        "program": Job(WAITS, "kinds", folder=tmp_path).start(),
    }
    for kind, thing in reversed(things.items()):
        assert thing.kind == kind
        assert thing.stop() is None  # as every kind: a cell ending in .stop() shows nothing
        assert thing.stop() is None  # stopping twice: harmless
