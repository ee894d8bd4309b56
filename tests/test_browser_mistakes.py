"""What a student sees in JupyterLab (headless Chromium) after two mistakes of tests/mistakes.py:

- a server written in a plain cell: before it blocks, the cell says the notebook will freeze
  and to put %%background on top; after Interrupt, the %%background cell says this notebook's
  own kernel holds the port, and the way out (closing the socket) works;
- a client answered by a server from an earlier cell: the client's cell says which.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    ARTIFACTS,
    cell_output_text,
    interrupt_kernel,
    lab_and_chromium,
    run_cell,
    start_cell,
    wait_for_kernel_idle,
    wait_until_ran,
    write_notebook,
)

from labsock.lessons.exercises import STUB
from tests import textbook
from tests.ports import free_port

pytestmark = pytest.mark.browser

# The student version's cell: the solution replaced by the stub.
ALNUM_STUB = f"%%background alnum_server\nfrom socket import *\n{STUB}\n"
ALNUM_CLIENT = '%%client alnum_client --type "Hello, World 42!"\n'


def test_a_plain_server_cell_and_an_earlier_server_answering(tmp_path_factory):
    port = free_port()
    server = textbook.UDP_SERVER.format(port=port)
    root = tmp_path_factory.mktemp("mistakes-lab")
    write_notebook(
        root / "mistakes.ipynb",
        [
            "import labsock",
            server,  # 1: no magic
            f"%%background udp_server\n{server}",  # 2
            "serverSocket.close()",  # 3: the way out
            f"%%background udp_server\n{server}",  # 4
            ALNUM_STUB,  # 5
            ALNUM_CLIENT + textbook.UDP_CLIENT.format(port=port),  # 6
        ],
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path_factory.mktemp("mistakes-home")
    with lab_and_chromium(root, home) as (lab, browser):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(lab.notebook_url("mistakes.ipynb"))
        wait_for_kernel_idle(page)
        run_cell(page, 0)

        before = start_cell(page, 1)
        warned = cell_output_text(page, 1, re.compile("freezes with it"), 30_000)
        assert "Put `%%background udp_server` on the first line of this cell" in warned
        page.screenshot(path=str(ARTIFACTS / "mistakes_plain_cell.png"))
        # Press Interrupt until the cell ends, as a student would.
        for _ in range(20):
            interrupt_kernel(page)
            try:
                wait_until_ran(page, 1, before, 1_000)
                break
            except Exception:  # playwright's TimeoutError: not yet
                continue

        run_cell(page, 2)
        held = cell_output_text(page, 2, re.compile("own kernel holds it"), 10_000)
        assert "run `serverSocket.close()` in a cell" in held
        assert "another notebook" not in held
        page.locator(".jp-Notebook .jp-Cell").nth(2).scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "mistakes_kernel_holds_port.png"))

        run_cell(page, 3)
        run_cell(page, 4)
        running = cell_output_text(page, 4, re.compile("udp_server: running"), 10_000)
        assert "udp_server: running" in running

        run_cell(page, 5)
        run_cell(page, 6)
        answered = cell_output_text(page, 6, re.compile("This reply came from"), 10_000)
        assert "HELLO, WORLD 42!" in answered
        assert "not from alnum_server" in answered
        page.locator(".jp-Notebook .jp-Cell").nth(6).scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "mistakes_who_answered.png"))
