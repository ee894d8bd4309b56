"""Students' own programs run from cells of a real kernel: %%background, %%client, Stop, re-run.

The programs are the textbook's (tests/textbook.py), unchanged but for the port: each test picks a
free port, never the lab's 12000.
"""

from __future__ import annotations

import os
import re
import socket

import psutil
import pytest

from tests import textbook
from tests.kernel_session import KernelSession
from tests.ports import free_port


def cell(magic: str, program: str, **values) -> str:
    return f"{magic}\n{program.format(**values)}"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebook")
    with KernelSession(folder) as session:
        session.run("import labsock")
        yield session


@pytest.fixture(autouse=True)
def stop_programs(kernel):
    yield
    kernel.run("labsock.stop_all()")


def page_output(kernel: KernelSession, model_id: str, messages=None) -> str:
    """The output a background cell's view shows, put together as its page side does: the
    tail it was made with, then each piece that follows on (a "tail" message starts over)."""
    state = kernel.widget_state(model_id)
    if messages is None:
        messages = kernel.custom_messages(model_id)
    return _put_together(state, messages)


def _put_together(state: dict, messages: list[dict]) -> str:
    text, cursor = state["tail"], state["tail_end"]
    for message in messages:
        if message["kind"] == "tail":
            text, cursor = message["text"], message["end"]
        elif message["kind"] == "output" and message["start"] == cursor:
            text, cursor = text + message["text"], message["end"]
    return text


def wait_for_output(kernel: KernelSession, model_id: str, wanted: str, timeout=10) -> str:
    state = kernel.widget_state(model_id)  # (read outside the wait: it takes the same lock)
    kernel.wait_for_custom(model_id, lambda m: wanted in _put_together(state, m), timeout=timeout)
    return page_output(kernel, model_id)


def test_udp_server_in_background_answers_the_client_cell(kernel):
    port = free_port()
    server = kernel.run(cell("%%background udp_server", textbook.UDP_SERVER, port=port))
    assert not server.errors
    assert server.widget_id, "the background cell shows its program's view"
    assert f"udp_server: running, waiting in recvfrom; holds UDP 127.0.0.1:{port}" in server.text
    assert "The server is ready to receive" in server.text
    client = kernel.run(
        cell(
            '%%client udp_client --type "input lowercase sentence"', textbook.UDP_CLIENT, port=port
        )
    )
    assert (
        client.stdout
        == "Input lowercase sentence:input lowercase sentence\nINPUT LOWERCASE SENTENCE\n"
    )
    # labsock saw the datagram arrive at the student's server, with its reply
    kernel.run("labsock.job('udp_server').catch_up()")
    messages = kernel.value("[(m.text, m.reply) for m in labsock.job('udp_server').log.messages()]")
    assert messages == [("input lowercase sentence", "INPUT LOWERCASE SENTENCE")]


def test_tcp_gives_the_same_output(kernel):
    port = free_port(socket.SOCK_STREAM)
    kernel.run(cell("%%background tcp_server", textbook.TCP_SERVER, port=port))
    client = kernel.run(
        cell(
            '%%client tcp_client --type "input lowercase sentence"', textbook.TCP_CLIENT, port=port
        )
    )
    assert client.stdout.endswith("From Server:  INPUT LOWERCASE SENTENCE\n")


def test_function_twin_runs_the_same_programs(kernel, tmp_path):
    port = free_port()
    code = f"""
server = labsock.background({textbook.UDP_SERVER.format(port=port)!r}, name="twin_server")
client = labsock.run_client({textbook.UDP_CLIENT.format(port=port)!r}, name="twin_client",
                            typed=["twin"])
print(client.output, client.exit_code, server.running, server.ports)
"""
    out = kernel.run(code)
    assert not out.errors, out.errors
    assert out.stdout == (
        f"Input lowercase sentence:twin\nTWIN\n 0 True [('udp', '127.0.0.1', {port})]\n"
    )


def test_rerunning_a_tcp_server_cell_ten_times_never_says_in_use(kernel):
    """Each run serves a client first, so the port has a connection in TIME_WAIT."""
    port = free_port(socket.SOCK_STREAM)
    for run in range(10):
        server = kernel.run(cell("%%background tcp_server", textbook.TCP_SERVER, port=port))
        assert "running, waiting in accept" in server.text, (run, server.text)
        client = kernel.run(
            cell(f'%%client tcp_client --type "run {run}"', textbook.TCP_CLIENT, port=port)
        )
        assert client.stdout.endswith(f"From Server:  RUN {run}\n"), (run, client.stdout)
    assert "SO_REUSEADDR" in kernel.value("labsock.show.program_view.REUSE_NOTE")


def test_rerunning_a_udp_server_cell_ten_times(kernel):
    port = free_port()
    for run in range(10):
        server = kernel.run(cell("%%background udp_server", textbook.UDP_SERVER, port=port))
        assert "already in use" not in server.text
        client = kernel.run(
            cell(f'%%client udp_client --type "run {run}"', textbook.UDP_CLIENT, port=port)
        )
        assert client.stdout.endswith(f"RUN {run}\n")
    # one program of that name runs, not ten
    assert kernel.value("[j.name for j in labsock.jobs() if j.running]") == ["udp_server"]


@pytest.mark.parametrize(
    "program, kind, waits_in",
    [
        (textbook.BLOCKED_IN_RECVFROM, socket.SOCK_DGRAM, "recvfrom"),
        (textbook.BLOCKED_IN_ACCEPT, socket.SOCK_STREAM, "accept"),
        (textbook.SLEEPING, socket.SOCK_DGRAM, "sleep"),
        (textbook.BARE_EXCEPT_LOOP, socket.SOCK_DGRAM, "recvfrom"),
    ],
    ids=["recvfrom", "accept", "sleep", "bare-except-loop"],
)
def test_stop_frees_the_port_whatever_the_program_does(kernel, program, kind, waits_in):
    port = free_port(kind)
    started = kernel.run(cell("%%background stubborn", program, port=port))
    assert f"waiting in {waits_in}" in started.text
    stopped = kernel.run("job = labsock.job('stubborn'); job.stop(); print(job.state())")
    assert stopped.stdout == "stubborn: stopped\n"
    # the port binds at once (a TCP socket with SO_REUSEADDR, as a re-run server would)
    with socket.socket(socket.AF_INET, kind) as again:
        if kind == socket.SOCK_STREAM:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_the_stop_button_stops_the_program(kernel):
    port = free_port()
    server = kernel.run(cell("%%background button_server", textbook.UDP_SERVER, port=port))
    view = server.widget_id
    assert kernel.widget_state(view)["running"] is True
    kernel.send_custom(view, {"kind": "stop"})  # what the page sends for a click on Stop
    kernel.wait_for_widget(view, lambda s: s["state_line"] == "button_server: stopped")
    kernel.wait_for_widget(view, lambda s: s["running"] is False)  # the page greys Stop
    assert kernel.value("labsock.job('button_server').running") is False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))


def test_output_lands_in_its_own_cell_while_another_cell_runs(kernel):
    ports = free_port(), free_port()
    talker = """\
import time
from socket import *
s = socket(AF_INET, SOCK_DGRAM)
s.bind(('127.0.0.1', {port}))
print("{who} ready")
s.settimeout(0.05)
for n in range(40):
    try:
        s.recvfrom(10)
    except OSError:
        pass
    print("{who} line", n)
"""
    first = kernel.run(cell("%%background first", talker, port=ports[0], who="first"))
    second = kernel.run(cell("%%background second", talker, port=ports[1], who="second"))
    third = kernel.run("import time\nfor _ in range(20):\n    time.sleep(0.1)\nprint('third done')")
    assert third.stdout == "third done\n", "no program output may land in the running cell"
    assert not [m for m in kernel.stray if m["msg_type"] == "stream"]
    for view, who, other in ((first, "first", "second"), (second, "second", "first")):
        shown = wait_for_output(kernel, view.widget_id, f"{who} line 39")
        lines = re.findall(r"(\w+) line (\d+)", shown)
        assert lines == [(who, str(n)) for n in range(40)], "in order, and only its own"
        assert other not in shown


def test_a_syntax_error_is_explained_with_the_students_line(kernel):
    broken = kernel.run("%%background broken\nx = 1\nwhile True\n    x += 1\n")
    assert not broken.errors
    assert "broken: failed at line 2 (exit code 1)" in broken.text
    assert "line 2 is not valid Python (expected ':')" in broken.text
    assert "    while True" in broken.text
    assert "Traceback" not in broken.text


def test_a_taken_port_is_explained(kernel):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        port = squatter.getsockname()[1]
        taken = kernel.run(cell("%%background late_server", textbook.UDP_SERVER, port=port))
    assert "late_server: failed at line 4" in taken.text
    assert "serverSocket.bind(('127.0.0.1', serverPort))" in taken.text
    assert f"Port {port} (UDP) is already in use, so serverSocket cannot bind it." in taken.text
    assert f"(process {os.getpid()}) holds it" in taken.text  # this test's process
    assert "Traceback" not in taken.text


def test_cells_below_a_server_that_could_not_bind_say_so(kernel):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        port = squatter.getsockname()[1]
        kernel.run(cell("%%background blocked_server", textbook.UDP_SERVER, port=port))
        counting = kernel.run(f"labsock.start_counting(bind_port=0, port={port}, count=3)")
    assert counting.errors and counting.errors[0]["ename"] == "LabsockError"
    assert "The server cell above failed" in counting.errors[0]["evalue"]


def test_a_port_held_by_an_earlier_program_of_this_notebook_is_freed(kernel):
    port = free_port()
    kernel.run(cell("%%background old_name", textbook.UDP_SERVER, port=port))
    new = kernel.run(cell("%%background new_name", textbook.UDP_SERVER, port=port))
    assert f"holds UDP 127.0.0.1:{port}" in new.text
    assert f"labsock stopped your program 'old_name': it held UDP port {port}" in new.text
    assert kernel.value("labsock.job('old_name').running") is False


def test_a_client_waiting_for_nobody_ends_with_advice(kernel):
    port = free_port()  # nothing listens there
    waiting = kernel.run(
        cell('%%client lonely --type "hello" --timeout 0.5', textbook.UDP_CLIENT, port=port)
    )
    assert "lonely waited 0.5 s and was stopped." in waiting.stdout
    assert f"No reply from 127.0.0.1:{port} (UDP) in time. Is the server running" in waiting.stdout


def test_a_tcp_client_cell_of_a_server_stopped_with_its_button_names_the_server(kernel):
    """The client's connect is refused: its cell says which server of this notebook was
    stopped, and what to run again, not "Is the server running?"."""
    port = free_port(socket.SOCK_STREAM)
    server = kernel.run(cell("%%background tcp_server", textbook.TCP_SERVER, port=port))
    kernel.send_custom(server.widget_id, {"kind": "stop"})  # a click on its Stop
    kernel.wait_for_widget(server.widget_id, lambda s: s["state_line"] == "tcp_server: stopped")
    client = kernel.run(cell('%%client tcp_client --type "hello"', textbook.TCP_CLIENT, port=port))
    said = (
        rf"Nothing is listening on 127\.0\.0\.1:{port} \(TCP\): tcp_server was stopped \(Stop "
        rf"button / \.stop\(\)\) at \d\d:\d\d:\d\d, and it held TCP port {port}, where this "
        r"client tried to connect: nothing answers there now\. Run its cell again "
        r"\(%%background tcp_server\), then this one\.\n$"
    )
    assert re.search(said, client.stdout), client.stdout
    assert "Is the server running" not in client.stdout


def test_a_client_that_asks_for_input_without_lines_says_how_to_give_them(kernel):
    asked = kernel.run(cell("%%client asker", textbook.UDP_CLIENT, port=free_port()))
    assert asked.stdout.startswith("Input lowercase sentence:\n")
    assert '%%client asker --type "your message"' in asked.stdout


def test_typing_to_a_background_program(kernel):
    echo = "while True:\n    line = input('say: ')\n    print('heard', line)\n"
    started = kernel.run(f"%%background parrot\n{echo}")
    assert "parrot: waiting for you to type a line" in started.text
    view = started.widget_id
    assert kernel.widget_state(view)["waiting"] is True, "the text box shows while it waits"
    # what the page sends on Enter: the line itself, with an id the answer names
    kernel.send_custom(view, {"kind": "line", "id": "v-1", "text": "polly"})
    kernel.wait_for_custom(view, lambda m: {"kind": "delivered", "id": "v-1", "refused": None} in m)
    wait_for_output(kernel, view, "say: polly\nheard polly\nsay: ")
    kernel.run("labsock.job('parrot').type('cracker')")  # the function twin
    wait_for_output(kernel, view, "heard cracker")


def test_interrupting_the_kernel_leaves_background_programs_running(kernel):
    port = free_port()
    kernel.run(cell("%%background survivor", textbook.UDP_SERVER, port=port))
    busy = kernel.start("import time\ntime.sleep(30)")
    assert busy.busy.wait(10)
    # "busy" is sent just before the cell's code runs; an interrupt that comes earlier is lost,
    # so press Interrupt again until the cell ends, as a student would.
    for _ in range(20):
        kernel.manager.interrupt_kernel()
        if busy.done.wait(0.5):
            break
    assert busy.done.is_set(), "the interrupted cell ended"
    assert kernel.value("labsock.job('survivor').running") is True
    answer = kernel.run(cell('%%client ask --type "still there"', textbook.UDP_CLIENT, port=port))
    assert answer.stdout.endswith("STILL THERE\n")


def test_no_program_outlives_its_kernel(tmp_path):
    session = KernelSession(tmp_path)
    session.run("import labsock")
    session.run(cell("%%background orphan", textbook.UDP_SERVER, port=free_port()))
    pid = session.value("labsock.job('orphan').pid")
    child = psutil.Process(pid)
    assert child.is_running()
    session.shutdown()  # the kernel is killed, as a restart or a crash would
    child.wait(timeout=10)  # raises TimeoutExpired if the program is left behind
    assert not psutil.pid_exists(pid) or child.status() == psutil.STATUS_ZOMBIE


def test_a_flood_of_output_reaches_the_browser_bounded(kernel):
    """A program printing as fast as it can: pieces go out about ten a second, each bounded,
    every line reaches the page once and in order, and the count of printed lines is exact;
    the job keeps the newest output up to its limit."""
    flood = kernel.run(
        "%%background flood\nimport time\ntime.sleep(0.01)\n"
        "for n in range(200_000):\n    print('line', n)\n"
    )
    view = flood.widget_id
    first = len(kernel.custom_messages(view))
    messages = kernel.wait_for_custom(
        # The last piece, or (when the flood outran the view, as on a busy machine) a fresh tail
        view,
        lambda m: m and m[-1]["lines"] == 200_000 and m[-1]["kind"] in ("output", "tail"),
        timeout=60,
    )
    pieces = messages[first:]
    assert all(len(p["text"]) <= 100_000 for p in pieces), "each piece is bounded"
    shown = page_output(kernel, view)
    numbers = [int(n) for n in re.findall(r"line (\d+)", shown)]
    assert numbers == list(range(numbers[0], 200_000)), "whole lines, in order, none twice"
    seconds = kernel.value("labsock.job('flood').seconds_run")
    assert len(pieces) <= 12 * seconds + 5, (len(pieces), seconds)
    assert kernel.value("len(labsock.job('flood').output)") <= 1_000_000
    assert kernel.value("labsock.job('flood').output.endswith('line 199999\\n')")
