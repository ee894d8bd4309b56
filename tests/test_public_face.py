"""The public face: every name a notebook or the README uses is labsock.NAME, loaded on first use,
and stays the same object however often it is called (issue 12: a re-run cell once found a
submodule where its function had been)."""

from __future__ import annotations

import ast
import json
import pkgutil
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import labsock

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def code_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def submodule_names(package) -> set[str]:
    return {info.name for info in pkgutil.iter_modules(package.__path__)}


def test_import_labsock_loads_nothing_else():
    code = "import sys, labsock; print(sorted(m for m in sys.modules if m.startswith('labsock')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['labsock']"


@pytest.mark.fast
def test_every_public_name_is_its_module_s_own():
    assert labsock.__all__ == sorted(set(labsock.__all__))
    layers = ("logic", "net", "show", "lessons")
    for name in labsock.__all__:
        value = getattr(labsock, name)
        assert name in dir(labsock)
        if isinstance(value, dict):
            continue  # a table (PRESETS) has no module of its own
        module = value.__module__
        assert module.split(".")[1] in layers, f"{name} comes from {module}"
        assert getattr(__import__(module, fromlist=[name]), name) is value, name


@pytest.mark.fast
def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'serve_udpp'"):
        labsock.serve_udpp  # noqa: B018


def names_defined(init: Path) -> set[str]:
    """Names a package's __init__.py defines or imports at its top level (read, not run: once
    run, a clashing name may already have been replaced by its module)."""
    names = set()
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


@pytest.mark.fast
def test_no_package_name_is_also_a_module_name():
    # Importing a submodule sets it as an attribute of its package: a function of the same name
    # would be replaced by the module the first time the module loads.
    inits = sorted(Path(labsock.__file__).parent.rglob("__init__.py"))
    for init in inits:
        modules = {info.name for info in pkgutil.iter_modules([str(init.parent)])}
        names = names_defined(init)
        if init.parent.name == "labsock":
            names |= set(labsock.__all__)
        assert not names & modules, f"{init}: {names & modules} are names and modules"


@pytest.mark.fast
def test_notebooks_import_only_labsock_and_use_public_names():
    for notebook in NOTEBOOKS:
        for source in code_cells(notebook):
            assert not re.search(r"^\s*(from labsock|import labsock\.)", source, re.M), (
                f"{notebook.name} imports past the public face:\n{source}"
            )
            for name in re.findall(r"\blabsock\.(\w+)", source):
                assert name in labsock.__all__, f"{notebook.name} uses labsock.{name}"


# -- every public callable, called twice ---------------------------------------------------------


@pytest.fixture
def lab():
    """An echo server on each protocol (free ports), for the names that need one."""
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    with (
        labsock.UDPServer(port=0, reply="echo") as udp,
        labsock.TCPServer(port=0, reply="echo") as tcp,
    ):
        yield udp, tcp


def _stopped(thing):
    thing.stop()
    return thing


def _counted(lab):
    udp, _ = lab
    client = labsock.start_counting(bind_port=0, port=udp.port, delay=0, count=3, name="c1")
    client.wait(5)
    return client


def _through_a_relay(lab, use):
    """use(relay, client_port) with one message relayed to the UDP server and back."""
    udp, _ = lab
    with labsock.UDPRelay(0, ("127.0.0.1", udp.port), seed=1) as relay:
        labsock.send_udp("1", port=relay.port)
        relay.wait_idle(5, received=1, replies=1)
        (client_port,) = relay.upstream_ports()  # the one client
        return use(relay, client_port)


def _pinged(lab):
    return labsock.ping(port=lab[0].port, count=2, timeout=1, interval=0)


def _log():
    log = labsock.MessageLog()
    log.append(1.0, ("127.0.0.1", 11000), b"1")
    return log


LOOPBACK = [labsock.Interface("lo", "127.0.0.1", 8)]

PROGRAMS = tempfile.mkdtemp(prefix="labsock-face-")  # where the calls below save programs
SERVER = (
    "from socket import *\ns = socket(AF_INET, SOCK_DGRAM)\ns.bind(('127.0.0.1', 0))\n"
    "while True:\n    m, a = s.recvfrom(2048)\n    s.sendto(m.upper(), a)\n"
)


def _program(name="face_server"):
    return labsock.background(SERVER, name=name, folder=PROGRAMS)


WEB = Path(tempfile.mkdtemp(prefix="labsock-web-"))  # a folder a web server serves
(WEB / "HelloWorld.html").write_bytes(b"<h1>Hello, World!</h1>")


def _web_page():
    with labsock.serve_web(WEB, port=0) as server:
        return labsock.http_get("/HelloWorld.html", port=server.port)


# Name -> a call with everyday arguments (lab: the echo servers). Each runs twice.
CALLS = {
    "LabsockError": lambda lab: labsock.LabsockError("Check the port."),
    "what_error_means": lambda lab: labsock.what_error_means(111, "linux"),
    "upper": lambda lab: labsock.upper("hi"),
    "alnum": lambda lab: labsock.alnum("hi 2"),
    "echo": lambda lab: labsock.echo("hi"),
    "Impairment": lambda lab: labsock.Impairment(loss=0.1),
    "PRESETS": lambda lab: labsock.PRESETS["mobile"].describe(),
    "SequenceTracker": lambda lab: labsock.SequenceTracker().feed("c1", 1),
    "frame_line": lambda lab: labsock.frame_line("hi"),
    "frame_length_prefixed": lambda lab: labsock.frame_length_prefixed("hi"),
    "LineSplitter": lambda lab: labsock.LineSplitter().feed(b"a\nb"),
    "LengthSplitter": lambda lab: labsock.LengthSplitter().feed(b"\0\0\0\1a"),
    "Interface": lambda lab: labsock.Interface("lo", "127.0.0.1", 8),
    "label_all": lambda lab: labsock.label_all(LOOPBACK),
    "UDPServer": lambda lab: labsock.UDPServer(port=0),
    "TCPServer": lambda lab: labsock.TCPServer(port=0),
    "serve_udp": lambda lab: _stopped(labsock.serve_udp(port=0)),
    "serve_tcp": lambda lab: _stopped(labsock.serve_tcp(port=0)),
    "running_servers": lambda lab: labsock.running_servers(),
    "running": lambda lab: set(labsock.running()) >= set(lab),
    "stop_all": lambda lab: None,  # stopping the fixture's servers is the fixture's job
    "Message": lambda lab: isinstance(_log().messages()[0], labsock.Message),
    "MessageLog": lambda lab: _log(),
    "Reply": lambda lab: labsock.Reply("HI", 1.0, "127.0.0.1:12000"),
    "send": lambda lab: labsock.send("udp", "hi", port=lab[0].port),
    "send_udp": lambda lab: labsock.send_udp("hi", port=lab[0].port),
    "send_tcp": lambda lab: labsock.send_tcp("hi", port=lab[1].port),
    "CountingClient": lambda lab: labsock.CountingClient(bind_port=0, port=lab[0].port),
    "start_counting": _counted,
    "stop_counting": lambda lab: labsock.stop_counting(),
    "running_counters": lambda lab: labsock.running_counters(),
    "UDPRelay": lambda lab: labsock.UDPRelay(0, ("127.0.0.1", lab[0].port)),
    "relay_udp": lambda lab: _stopped(labsock.relay_udp(0, to=("127.0.0.1", lab[0].port))),
    "running_relays": lambda lab: labsock.running_relays(),
    "TCPSlicer": lambda lab: labsock.TCPSlicer(0, ("127.0.0.1", lab[1].port)),
    "slice_tcp": lambda lab: _stopped(labsock.slice_tcp(0, to=("127.0.0.1", lab[1].port))),
    "ping": _pinged,
    "preflight": lambda lab: labsock.preflight("127.0.0.1", lab[0].port, "udp", timeout=1),
    "find_my_ipv4": lambda lab: labsock.find_my_ipv4(),
    "watch": lambda lab: _stopped(labsock.watch(lab[0])),
    "message_box": lambda lab: labsock.message_box("udp", port=lab[0].port).send("hi"),
    "counting_view": lambda lab: _stopped(labsock.counting_view(lab[0])),
    "counting_report": lambda lab: labsock.counting_report(lab[0]).conclusion(),
    "ClientControls": lambda lab: labsock.ClientControls(labsock.CountingClient(bind_port=0)),
    "plot_pings": lambda lab: labsock.plot_pings(_pinged(lab)),
    "ping_flow": lambda lab: labsock.ping_flow(_pinged(lab), lab[0].log).text(),
    "relay_flow": lambda lab: _through_a_relay(
        lab, lambda relay, port: labsock.relay_flow(relay, port, lab[0]).text()
    ),
    "flow_from_logs": lambda lab: labsock.flow_from_logs([(0.0, "a")], [(0.001, "a")]),
    "try_reverse_words": lambda lab: labsock.try_reverse_words(lambda text: text),
    "server_panel": lambda lab: _stopped(labsock.server_panel(port=0)),
    "client_panel": lambda lab: labsock.client_panel(port=lab[0].port).send("hi"),
    "serve_for_partner": lambda lab: _stopped(labsock.serve_for_partner("udp", 0)),
    "sharing": lambda lab: str(labsock.sharing(lab[0], addresses=labsock.label_all(LOOPBACK))),
    "assess_destination": lambda lab: labsock.assess_destination("127.0.0.1", 12000),
    "send_to_partner": lambda lab: labsock.send_to_partner("hi", "127.0.0.1", lab[0].port),
    "compare_with_relay": lambda lab: _through_a_relay(
        lab, lambda relay, port: labsock.compare_with_relay(lab[0], relay).all_match
    ),
    "through_slicer": lambda lab: labsock.through_slicer(["a", "b"]),
    "udp_vs_tcp": lambda lab: labsock.udp_vs_tcp(["1", "2"], network="perfect", gap=0),
    "your_code_here": lambda lab: _stops_with_one_sentence(labsock.your_code_here),
    "Job": lambda lab: labsock.Job("print(1)", "face_job", folder=PROGRAMS).start().wait(5),
    "background": lambda lab: _stopped(_program()),
    "run_client": lambda lab: labsock.run_client("print(1)", "c", folder=PROGRAMS).output,
    "job": lambda lab: _stopped(labsock.job(_program().name)),
    "jobs": lambda lab: labsock.jobs(),
    "running_jobs": lambda lab: labsock.running_jobs(),
    "stop_jobs": lambda lab: (_program(), labsock.stop_jobs()),
    "check_server": lambda lab: labsock.check_server(lab[0].port, program=None).passed,
    "check_udp_server": lambda lab: labsock.check_udp_server(lab[0].port, program=None),
    "check_tcp_server": lambda lab: labsock.check_tcp_server(lab[1].port, program=None),
    "check_printing_server": lambda lab: labsock.check_printing_server(program="none", timeout=0.1),
    "check_counting_clients": lambda lab: labsock.check_counting_clients({"x": 1}),
    "check_counting_server": lambda lab: labsock.check_counting_server("none"),
    "check_pinger": lambda lab: labsock.check_pinger("none"),
    "check_framed_server": lambda lab: labsock.check_framed_server("none"),
    "check_typing_client": lambda lab: labsock.check_typing_client(program="none"),
    "check_web_server": lambda lab: labsock.check_web_server(program="none"),
    "check_two_at_once": lambda lab: labsock.check_two_at_once(program="none"),
    "WebServer": lambda lab: _stopped(labsock.WebServer(WEB, port=0).start()),
    "serve_web": lambda lab: _stopped(labsock.serve_web(WEB, port=0)),
    "http_get": lambda lab: _web_page(),
    "browse": lambda lab: repr(labsock.browse("/HelloWorld.html", port=1)),
    "web_link": lambda lab: str(labsock.web_link("/HelloWorld.html", 6789)),
    "web_exchanges": lambda lab: str(labsock.web_exchanges(_stopped(_program()))),
    "address_box": lambda lab: labsock.address_box("127.0.0.1").check().ok,
    "Checklist": lambda lab: labsock.Checklist("t").assert_passed().to_dict(),
    "Point": lambda lab: labsock.Point("what", True).to_dict(),
    "ChecklistFailed": lambda lab: str(labsock.ChecklistFailed("a checklist")),
}


def _stops_with_one_sentence(stub) -> str:
    with pytest.raises(labsock.LabsockError) as stopped:
        stub()
    return str(stopped.value)


@pytest.mark.fast
def test_every_public_name_has_a_call():
    assert sorted(CALLS) == labsock.__all__


@pytest.mark.parametrize("name", sorted(CALLS))
def test_calling_a_public_name_twice_leaves_it_in_place(name, lab):
    before = getattr(labsock, name)
    CALLS[name](lab)
    assert getattr(labsock, name) is before
    CALLS[name](lab)
    assert getattr(labsock, name) is before


@pytest.mark.fast
def test_names_stay_in_place_when_every_module_is_imported():
    before = {name: getattr(labsock, name) for name in labsock.__all__}
    for info in pkgutil.walk_packages(labsock.__path__, "labsock."):
        if not info.name.endswith("__main__"):
            __import__(info.name)
    assert {name: getattr(labsock, name) for name in labsock.__all__} == before
