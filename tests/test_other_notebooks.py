"""One notebook's program blocks the next notebook: Task 2's lan_server still holds port 12000
when Task 3's server cell runs. Each kernel records what it runs in the student's own state
folder, so the failed cell names the notebook and the program, with a button that stops it.

Two real kernels (jupyter_client), each told its notebook's name as jupyter_server tells it
(JPY_SESSION_NAME), sharing one state folder. Ports are free ones, never the lab's 12000.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from html import unescape

import pytest

from labsock.logic.errors import LabsockError
from labsock.logic.holders import Holder, holders_in, notebook_name
from labsock.net import other_notebooks
from tests import textbook
from tests.kernel_session import KernelSession
from tests.ports import free_port, held_by_another_process

TASK2 = "task2_two_laptops.ipynb"
TASK3 = "task3_two_clients.ipynb"


# -- the words (pure) -----------------------------------------------------------------------


def program_record(port: int) -> dict:
    return {
        "pid": 10,
        "started": "100",
        "notebook": TASK2,
        "things": [
            {"kind": "server", "name": "the UDP server", "ports": [["udp", "127.0.0.1", port]]},
            {
                "kind": "program",
                "name": "lan_server",
                "pid": 11,
                "started": "200",
                "ports": [["udp", "0.0.0.0", port]],
            },  # fmt: skip
            {
                "kind": "program",
                "name": "other",
                "pid": 12,
                "started": "300",
                "ports": [["udp", "0.0.0.0", port + 1]],
            },  # fmt: skip
        ],
    }


@pytest.mark.fast
def test_a_record_names_the_program_that_holds_the_port_first():
    found = holders_in(program_record(12000), "udp", 12000)
    assert [(h.kind, h.name, h.pid, h.started) for h in found] == [
        ("program", "lan_server", 11, "200"),
        ("server", "the UDP server", 10, "100"),  # a server is the kernel's own process
    ]
    assert holders_in(program_record(12000), "tcp", 12000) == []


@pytest.mark.fast
def test_the_sentence_says_which_notebook_holds_the_port_and_the_way_out():
    program, server = holders_in(program_record(12000), "udp", 12000)
    assert program.sentence().startswith(f"{TASK2}'s lan_server holds port 12000 (UDP)")
    assert "The button below stops it" in program.sentence()
    assert program.button() == f"Stop lan_server ({TASK2}), then run this cell again"
    assert server.sentence().startswith(f"{TASK2}'s labsock UDP server holds port 12000 (UDP)")
    assert "Running panel" in server.sentence() and not server.stoppable


@pytest.mark.fast
def test_a_holder_outside_any_notebook_is_named_with_its_command_and_pid():
    terminal = "a Python program (python -m labsock, pid 77)"
    record = {**program_record(12000), "notebook": terminal, "pid": 77}
    program, server = holders_in(record, "udp", 12000)
    assert server.sentence().startswith(
        f"labsock's UDP server in {terminal} holds port 12000 (UDP). Stop it there (Ctrl+C"
    )
    assert program.sentence().startswith(
        f"lan_server holds port 12000 (UDP), a program that {terminal} started that still runs."
    )
    assert program.button() == "Stop lan_server (pid 11), then run this cell again"


@pytest.mark.fast
def test_a_notebook_is_named_by_its_file_name():
    assert notebook_name("/home/ada/lab/notebooks/task2_two_laptops.ipynb", 7, "x") == TASK2
    assert notebook_name("C:\\Users\\ada\\task2_two_laptops.ipynb", 7, "x") == TASK2
    named = notebook_name(None, 7, "python -m labsock")
    assert named == "a Python program (python -m labsock, pid 7)"


# -- the records on disk --------------------------------------------------------------------


@pytest.fixture
def state(tmp_path, monkeypatch):
    folder = tmp_path / "state"
    monkeypatch.setenv("LABSOCK_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def squatter():
    """Another process (not labsock's program) holding a UDP port, as a record could claim."""
    with held_by_another_process(socket.SOCK_DGRAM) as held:
        yield held


def write_record(folder, pid: int, started: str, things: list) -> None:
    folder.mkdir(mode=0o700, exist_ok=True)
    record = {"pid": pid, "started": started, "notebook": TASK2, "things": things}
    (folder / f"kernel-{pid}.json").write_text(json.dumps(record))


def test_the_folder_and_the_records_are_the_users_own(state):
    import labsock

    with labsock.serve_udp(port=0):
        pass
    assert oct(state.stat().st_mode & 0o777) == "0o700"
    (record,) = state.glob("kernel-*.json")
    assert oct(record.stat().st_mode & 0o777) == "0o600"
    data = json.loads(record.read_text())
    assert data["pid"] == os.getpid()
    assert data["started"] == other_notebooks.process_started(os.getpid())


def test_a_record_lists_what_runs_with_its_ports(state):
    import labsock

    with labsock.serve_udp(port=0) as server:
        data = json.loads((state / f"kernel-{os.getpid()}.json").read_text())
        assert {"kind": "server", "name": "the UDP server",
                "ports": [["udp", "127.0.0.1", server.port]]} in data["things"]  # fmt: skip


def test_a_live_holder_is_found_and_a_record_of_an_ended_process_is_removed(state, squatter):
    process, port = squatter
    started = other_notebooks.process_started(process.pid)
    things = [{"kind": "program", "name": "lan_server", "pid": process.pid, "started": started,
               "ports": [["udp", "127.0.0.1", port]]}]  # fmt: skip
    write_record(state, process.pid, started, things)
    holder = other_notebooks.holder_of("udp", port)
    assert (holder.notebook, holder.name, holder.pid) == (TASK2, "lan_server", process.pid)
    assert other_notebooks.holder_of("udp", free_port()) is None
    assert other_notebooks.holder_of("tcp", port) is None

    # The same pid with another start time is another process: its record is dropped.
    write_record(state, process.pid, "1", things)
    assert other_notebooks.holder_of("udp", port) is None
    assert not (state / f"kernel-{process.pid}.json").exists()


def test_a_record_whose_process_does_not_hold_the_port_blames_nobody(state, squatter):
    process, port = squatter
    started = other_notebooks.process_started(process.pid)
    elsewhere = free_port()  # recorded, but the process holds `port`, not this one
    write_record(state, process.pid, started, [
        {"kind": "program", "name": "lan_server", "pid": process.pid, "started": started,
         "ports": [["udp", "127.0.0.1", elsewhere]]}])  # fmt: skip
    assert other_notebooks.holds_port(process.pid, "udp", port) is True
    assert other_notebooks.holds_port(process.pid, "udp", elsewhere) is False
    assert other_notebooks.holder_of("udp", elsewhere) is None


def test_stop_refuses_a_process_that_is_not_a_labsock_program(state, squatter):
    process, port = squatter
    started = other_notebooks.process_started(process.pid)
    holder = Holder(TASK2, "program", "lan_server", process.pid, started, "udp", port)
    with pytest.raises(LabsockError, match="did not stop process"):
        other_notebooks.stop(holder)
    assert process.poll() is None, "a process that is not labsock's program goes on"
    gone = Holder(TASK2, "program", "lan_server", process.pid, "1", "udp", port)
    other_notebooks.stop(gone)  # another start time: another process, left alone
    assert process.poll() is None


def test_a_folder_open_to_others_is_closed_and_someone_elses_is_not_used(state, monkeypatch):
    state.mkdir(mode=0o777)
    state.chmod(0o777)
    assert other_notebooks.state_folder() == state
    assert oct(state.stat().st_mode & 0o777) == "0o700"
    monkeypatch.setattr(os, "getuid", lambda: state.stat().st_uid + 1)
    assert other_notebooks.state_folder() is None


# -- two real kernels -------------------------------------------------------------------------


@pytest.fixture
def two_notebooks(tmp_path):
    """Task 2's kernel and Task 3's, as JupyterLab starts them, sharing the state folder."""
    state = tmp_path / "state"
    kernels = []
    try:
        for notebook in (TASK2, TASK3):
            folder = tmp_path / notebook.removesuffix(".ipynb")
            folder.mkdir()
            env = {"LABSOCK_STATE_DIR": str(state), "JPY_SESSION_NAME": str(folder / notebook)}
            kernels.append(KernelSession(folder, extra_env=env))
            kernels[-1].run("import labsock")
        yield kernels
    finally:
        for kernel in kernels:
            kernel.shutdown()


def way_out_of(kernel: KernelSession, cell) -> tuple[str, list[str]]:
    """(the error part's model id, the buttons' labels) of a cell's way-out row."""
    error = kernel.child_widget(cell.widget_id, 0)
    row = kernel.child_widget(cell.widget_id, 1)
    labels = [
        kernel.widget_state(child.removeprefix("IPY_MODEL_"))["description"]
        for child in kernel.widget_state(row)["children"]
    ]
    return error, labels


def click_and_wait_until_the_old_error_goes(kernel: KernelSession, cell, label: str) -> None:
    row = kernel.child_widget(cell.widget_id, 1)
    for index, child in enumerate(kernel.widget_state(row)["children"]):
        if kernel.widget_state(child.removeprefix("IPY_MODEL_"))["description"] == label:
            kernel.click(kernel.child_widget(row, index))
            break
    else:
        raise AssertionError(f"no button {label!r}")
    error = kernel.child_widget(cell.widget_id, 0)
    layout = kernel.widget_state(error)["layout"].removeprefix("IPY_MODEL_")
    kernel.wait_for_widget(layout, lambda s: s.get("display") == "none", timeout=30)


def said_after_the_click(kernel: KernelSession) -> str:
    """What the cell's second run printed and showed (a click's messages belong to no cell: the
    output widget under the buttons takes them, in the browser)."""
    said = []
    for msg in kernel.stray:
        content = msg["content"]
        said.append(content.get("text") or content.get("data", {}).get("text/plain", ""))
    return "".join(said)


def test_a_program_of_another_notebook_is_named_and_its_button_stops_it(two_notebooks):
    task2, task3 = two_notebooks
    port = free_port()
    held = task2.run(f"%%background lan_server\n{textbook.UDP_SERVER.format(port=port)}")
    assert f"holds UDP 127.0.0.1:{port}" in held.text

    failed = task3.run(f"%%background server\n{textbook.UDP_SERVER.format(port=port)}")
    assert "server: failed at line 4" in failed.text
    # The program view (above the buttons): the program's own explanation names the notebook
    # and its program, once (no note repeats it).
    explained = task3.value("labsock.job('server').output")
    assert f"{TASK2}'s lan_server holds port {port} (UDP)" in explained
    assert "Running panel" not in explained and "port=12001" not in explained, "it is known"
    view = task3.widget_state(task3.child_widget(failed.widget_id, 0))
    assert "lan_server" not in " ".join(view["notes"]), "said once"
    _, labels = way_out_of(task3, failed)
    assert labels == [f"Stop lan_server ({TASK2}), then run this cell again", "Run this cell again"]
    assert task2.value("labsock.job('lan_server').running") is True

    click_and_wait_until_the_old_error_goes(task3, failed, labels[0])
    assert task2.value("labsock.job('lan_server').running") is False
    assert task3.value("labsock.job('server').running") is True
    assert task3.value("labsock.job('server').ports") == [("udp", "127.0.0.1", port)]
    row_layout = task3.widget_state(task3.child_widget(failed.widget_id, 1))["layout"]
    assert task3.widget_state(row_layout.removeprefix("IPY_MODEL_"))["display"] == "none"
    task3.run("labsock.stop_all()")


def test_a_client_answered_by_another_notebooks_program_is_told_which(two_notebooks):
    """Task 1's server still runs when Task 2's own failed: the reply Task 2's client gets is
    that program's, and the client's cell names it rather than "a notebook or a terminal"."""
    task2, task3 = two_notebooks
    port = free_port()
    task2.run(f"%%background lan_server\n{textbook.UDP_SERVER.format(port=port)}")
    client = task3.run(
        f'%%client udp_client --type "hello"\n{textbook.UDP_CLIENT.format(port=port)}'
    )
    assert "HELLO" in client.stdout
    assert f"which {TASK2}'s lan_server holds" in client.stdout
    assert "a terminal" not in client.stdout
    task2.run("labsock.stop_all()")


def test_a_server_cell_names_the_other_notebooks_program_and_stops_it(two_notebooks):
    task2, task3 = two_notebooks
    port = free_port()
    task2.run(f"%%background lan_server\n{textbook.UDP_SERVER.format(port=port)}")

    failed = task3.run(f"server = labsock.serve_udp(port={port})\nprint('serving', server.port)")
    assert failed.errors == [], "the error is shown by the way-out widget, so it can go"
    error, labels = way_out_of(task3, failed)
    said = unescape(task3.widget_state(error)["value"])
    assert f"Port {port} (UDP) is already in use: {TASK2}'s lan_server holds port {port}" in said
    assert "Running panel" not in said
    assert f"{TASK2}'s lan_server holds port {port}" in failed.text  # the text/plain copy too
    assert labels[0] == f"Stop lan_server ({TASK2}), then run this cell again"

    click_and_wait_until_the_old_error_goes(task3, failed, labels[0])
    assert f"serving {port}" in said_after_the_click(task3)
    assert task3.value("server.port") == port, "the cell ran again, in the notebook's namespace"
    assert task2.value("labsock.job('lan_server').running") is False
    task3.run("labsock.stop_all()")


def test_a_server_inside_another_notebooks_kernel_is_named_without_a_stop_button(two_notebooks):
    task2, task3 = two_notebooks
    port = free_port()
    task2.run(f"server = labsock.serve_udp(port={port})")
    failed = task3.run(f"%%background server\n{textbook.UDP_SERVER.format(port=port)}")
    said = task3.value("labsock.job('server').output")  # the program's own explanation
    assert f"{TASK2}'s labsock UDP server holds port {port} (UDP)" in said
    assert way_out_of(task3, failed)[1] == ["Run this cell again"]

    task2.run("server.stop()")  # stopped there: its record lists it until that kernel's next
    # start, but the kernel no longer holds the port, so the cell runs again without blame
    click_and_wait_until_the_old_error_goes(task3, failed, "Run this cell again")
    assert task3.value("labsock.job('server').running") is True
    task3.run("labsock.stop_all()")
    task2.run("labsock.stop_all()")


def test_run_this_cell_again_removes_the_old_error_even_when_it_fails_again(two_notebooks):
    _, task3 = two_notebooks
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as outside:  # no notebook's
        outside.bind(("127.0.0.1", 0))
        port = outside.getsockname()[1]
        failed = task3.run(f"server = labsock.serve_udp(port={port})")
        error, labels = way_out_of(task3, failed)
        assert "Running panel" in task3.widget_state(error)["value"]
        assert labels == ["Run this cell again"]
        click_and_wait_until_the_old_error_goes(task3, failed, "Run this cell again")
    # The second run's own error (with its own buttons) was shown before the old one went.
    assert "already in use" in said_after_the_click(task3)


def test_a_terminals_labsock_server_is_named_with_its_command(state):
    import labsock

    port = free_port()
    terminal = subprocess.Popen(
        [sys.executable, "-m", "labsock", "serve", "udp", "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(terminal.stdout.readline())["event"] == "listening"
        with pytest.raises(LabsockError) as failed:
            labsock.serve_udp(port=port)
    finally:
        terminal.terminate()
        terminal.wait()
    said = str(failed.value)
    assert said.startswith(
        f"Port {port} (UDP) is already in use: labsock's UDP server in a Python program "
        f"(python -m labsock, pid {terminal.pid}) holds port {port} (UDP). Stop it there (Ctrl+C"
    )
    assert failed.value.way_out == (("Run this cell again", None),)
