"""A student's own server and client, run from cells in JupyterLab (headless Chromium).

Run All; the server cell shows its program's output and status, the client cell its reply; Stop
in the server cell stops it; running the cell again starts it again; what the server prints for
each client lands in the server's cell, never in the client's; after a kernel restart the old
server cell stops claiming "running".
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    ARTIFACTS,
    LINE_BREAKS_JS,
    cell_output_text,
    cell_outputs,
    lab_and_chromium,
    mid_word,
    restart_kernel,
    run_all_cells,
    run_cell,
    wait_for_kernel_idle,
    write_notebook,
)

from tests import textbook
from tests.ports import free_port

pytestmark = pytest.mark.browser

# The textbook's UDP server, saying which client sent each message.
SERVER = "%%background udp_server\n" + textbook.UDP_SERVER.replace(
    "    modifiedMessage = message.decode().upper()\n",
    '    print("got", message.decode(), "from port", clientAddress[1])\n'
    "    modifiedMessage = message.decode().upper()\n",
)

CLIENT = """\
%%client udp_client --type "{message}"
from socket import *
clientSocket = socket(AF_INET, SOCK_DGRAM)
message = input('Input lowercase sentence:')
clientSocket.sendto(message.encode(), ('127.0.0.1', {port}))
modifiedMessage, serverAddress = clientSocket.recvfrom(2048)
print(modifiedMessage.decode())
clientSocket.close()
"""

# A prompt printed without a newline, as a terminal shows it before what is typed.
SAYER = """\
%%client sayer
said = input("Say something: ")
print("you said", said)
"""

# A sentence far wider than the cell, of words long enough that a break at the box's edge
# anywhere would land inside one.
SENTENCE = " ".join(
    ["the", "acknowledgement", "arrives", "after", "retransmission", "because", "congestion"] * 12
)
WORDY_CLIENT = f'%%client talker\nprint("{SENTENCE}")'
WORDY_PROGRAM = f'%%background speaker\nimport time\nprint("{SENTENCE}")\ntime.sleep(3600)'

# An exchange whose browser line is far wider than its column.
EXCHANGE = """\
from labsock.logic.exchanges import RECEIVED, SENT, Piece, exchanges
from labsock.show.web_view import WebExchanges
agent = " ".join(["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"] * 4)
accept = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
request = (
    f"GET /index.html HTTP/1.1\\r\\nHost: 127.0.0.1:6789\\r\\nUser-Agent: {agent}\\r\\n"
    f"Accept: {accept}\\r\\n\\r\\n"
)
answer = "HTTP/1.1 200 OK\\r\\nContent-Type: text/html\\r\\nContent-Length: 5\\r\\n\\r\\nhello"
peer = ("127.0.0.1", 50000)
pieces = [Piece(peer, 1.0, RECEIVED, request.encode()), Piece(peer, 1.1, SENT, answer.encode())]
WebExchanges(exchanges(pieces), "web_server")
"""

LAB: dict = {}


@pytest.fixture
def lab_url(page):
    return LAB["url"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    port = free_port()
    root = tmp_path_factory.mktemp("programs-lab")
    write_notebook(
        root / "programs.ipynb",
        [
            "import labsock",
            SERVER.format(port=port),
            CLIENT.format(port=port, message="first message"),
            CLIENT.format(port=port, message="second message"),
        ],
    )
    # No --type: the program's input() asks in the cell, in Jupyter's own input box (a notebook
    # of its own: Run All would wait there for someone to type).
    write_notebook(
        root / "asks.ipynb",
        [
            f"import labsock\nreference = labsock.serve_udp(port={port})",
            CLIENT.format(port=port, message="").replace(' --type ""', ""),
            SAYER,
        ],
    )
    write_notebook(root / "words.ipynb", ["import labsock", WORDY_CLIENT, WORDY_PROGRAM, EXCHANGE])
    home = tmp_path_factory.mktemp("programs-home")
    with lab_and_chromium(root, home, no_kernels_left=True) as (lab, browser):
        LAB["url"] = lab.notebook_url
        LAB["root"] = root
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(lab.notebook_url("programs.ipynb"))
        wait_for_kernel_idle(page)
        try:
            yield page
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "programs.png"))
            context.close()


def test_server_and_client_cells_stop_and_rerun(page):
    state = run_all_cells(page)
    errors = [o for c in state["cells"] for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors
    server = cell_output_text(page, 1, re.compile(r"got second message from port \d+"))
    assert "udp_server: running, waiting in recvfrom; holds UDP 127.0.0.1:" in server
    assert "The server is ready to receive" in server
    assert re.search(r"got first message from port \d+\s+got second message", server)
    first = cell_output_text(page, 2, re.compile("FIRST MESSAGE"))
    assert first.strip().endswith("FIRST MESSAGE")
    assert "got" not in first, "the server's output stays in the server's cell"

    # Stop, in the server's cell
    stop = page.locator(".jp-Notebook .jp-Cell").nth(1).locator("button:has-text('Stop')")
    stop.click()
    stopped = cell_output_text(page, 1, re.compile("udp_server: stopped"))
    assert "udp_server: stopped" in stopped
    assert stop.is_disabled()

    # Running the cell again starts it again; the client reaches the new run
    run_cell(page, 1)
    again = cell_output_text(page, 1, re.compile("udp_server: running"))
    assert "udp_server: running" in again
    assert "got first message" not in again, "a new run starts with new output"
    run_cell(page, 3)
    assert "SECOND MESSAGE" in cell_output_text(page, 3, re.compile("SECOND MESSAGE"))
    assert "got second message" in cell_output_text(page, 1, re.compile("got second message"))
    programs = LAB["root"] / "programs"
    assert (programs / "udp_server.py").exists(), "the program was saved as a file"


def _type_in_the_cells_box(page, index: int, line: str) -> None:
    """Run cell `index` (without waiting for it: it waits for the line) and type into the
    input box Jupyter shows in it."""
    page.evaluate(
        """(index) => {
             const w = window.jupyterapp.shell.currentWidget;
             w.content.activeCellIndex = index;
             window.jupyterapp.commands.execute('notebook:run-cell');
           }""",
        index,
    )
    box = page.locator(".jp-Notebook .jp-Cell").nth(index).locator("input.jp-Stdin-input")
    box.wait_for(timeout=15_000)
    box.fill(line)
    box.press("Enter")


def test_a_client_asks_for_its_input_in_the_cell(page, lab_url):
    page.goto(lab_url("asks.ipynb"))
    wait_for_kernel_idle(page)
    run_cell(page, 0)  # labsock's reference server
    _type_in_the_cells_box(page, 1, "typed in the cell")
    text = cell_output_text(page, 1, re.compile("TYPED IN THE CELL"), timeout_ms=15_000)
    assert "TYPED IN THE CELL" in text
    assert text.count("typed in the cell") == 1, "what was typed shows once"


def test_the_prompt_and_the_typed_line_read_as_one_line(page, lab_url):
    """As in a terminal: the program's prompt, then what was typed, on one line."""
    page.goto(lab_url("asks.ipynb"))
    wait_for_kernel_idle(page)
    run_cell(page, 0)  # import labsock
    _type_in_the_cells_box(page, 2, "hello from the box")
    cell_output_text(page, 2, re.compile("you said hello from the box"), timeout_ms=15_000)
    # JupyterLab keeps the answered box, hidden, for half a second after Enter.
    stdin = page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-Stdin")
    stdin.wait_for(state="detached", timeout=15_000)
    text = cell_outputs(page, 2).inner_text()
    assert [line for line in text.splitlines() if line.strip()] == [
        "Say something: hello from the box",
        "you said hello from the box",
    ]


def test_after_a_kernel_restart_the_view_stops_claiming_running(page, lab_url):
    page.goto(lab_url("programs.ipynb"))
    wait_for_kernel_idle(page)
    run_cell(page, 0)
    run_cell(page, 1)
    restart_kernel(page)
    said = re.compile("stopped: the kernel was restarted")
    text = cell_output_text(page, 1, said, timeout_ms=15_000)
    assert "udp_server: stopped: the kernel was restarted" in text


def test_long_lines_wrap_between_words(page, lab_url):
    """A %%client cell's output (a plain stream, which JupyterLab breaks anywhere) and a
    background program's view wrap a long line at its spaces, like a paragraph."""
    page.goto(lab_url("words.ipynb"))
    wait_for_kernel_idle(page)
    for index in range(3):
        run_cell(page, index)
    for index in (1, 2):
        cell_output_text(page, index, re.compile("congestion"), timeout_ms=15_000)
        breaks = page.evaluate(LINE_BREAKS_JS, index)
        assert len(breaks) >= 2, "the sentence is wider than the cell"
        assert not mid_word(breaks), f"cell {index} broke inside a word: {mid_word(breaks)}"


def test_the_exchange_view_reads_left_aligned_wrapped_between_words(page, lab_url):
    """labsock.web_exchanges(...): headers at the left of their columns, like the request and
    response below them; a long header line wraps at its spaces, and Chromium's Accept (one
    long token) after its commas and semicolons, never inside "application"."""
    page.goto(lab_url("words.ipynb"))
    wait_for_kernel_idle(page)
    run_cell(page, 0)
    run_cell(page, 3)
    cell_output_text(page, 3, re.compile("what the server answered"), timeout_ms=15_000)
    table = page.locator(".jp-Notebook .jp-Cell").nth(3).locator("table")
    aligned = table.evaluate(
        "(t) => Array.from(t.querySelectorAll('th, td')).map((c) => getComputedStyle(c).textAlign)"
    )
    assert set(aligned) <= {"left", "start"}, aligned
    tops = table.evaluate(
        "(t) => Array.from(t.querySelectorAll('td')).map((c) => getComputedStyle(c).verticalAlign)"
    )
    assert set(tops) == {"top"}, "a row's cells start at its top, like a request and response"
    breaks = page.evaluate(LINE_BREAKS_JS, 3)
    assert breaks, "the browser's line is wider than its column"
    assert not mid_word(breaks), f"broken inside a word: {mid_word(breaks)}"
