"""Issue 16, point 7, in the browser: Task 2's lan_server still holds the port when Task 3's
server cell runs. Two notebooks open in one JupyterLab (each its own kernel, named by
jupyter_server as it names every kernel); the failed cell names the other notebook's program,
its button stops it and runs the cell again, and the old red error goes.

The port is a free one, never the lab's 12000. Screenshots land in artifacts/browser/.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    ARTIFACTS,
    cell_output_text,
    cell_outputs,
    lab_and_chromium,
    run_cell,
    wait_for_kernel_idle,
    write_notebook,
)

from tests import textbook
from tests.ports import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def lab_and_browser(tmp_path):
    (tmp_path / "lab").mkdir()
    with lab_and_chromium(tmp_path / "lab", tmp_path / "home") as (lab, browser):
        yield lab, browser


def open_notebook(lab, browser, name: str, cells: list[str]):
    write_notebook(lab.root_dir / name, cells)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(lab.notebook_url(name))
    wait_for_kernel_idle(page)
    return page


def shot(page, cell: int, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = page.locator(".jp-Notebook .jp-Cell").nth(cell)
    target.scroll_into_view_if_needed()
    target.screenshot(path=str(ARTIFACTS / f"other-notebooks-{name}.png"))


def test_task3_names_task2s_program_stops_it_with_one_click_and_the_error_goes(lab_and_browser):
    lab, browser = lab_and_browser
    port = free_port()
    server = textbook.UDP_SERVER.format(port=port)
    task2 = open_notebook(
        lab,
        browser,
        "task2_two_laptops.ipynb",
        ["import labsock", f"%%background lan_server\n{server}"],
    )
    run_cell(task2, 0)
    run_cell(task2, 1)
    assert f"holds UDP 127.0.0.1:{port}" in cell_output_text(task2, 1, re.compile("holds UDP"))

    task3 = open_notebook(
        lab,
        browser,
        "task3_two_clients.ipynb",
        ["import labsock", f"%%background server\n{server}"],
    )
    run_cell(task3, 0)
    run_cell(task3, 1)
    named = f"task2_two_laptops.ipynb's lan_server holds port {port} (UDP)"
    said = cell_output_text(task3, 1, re.compile(re.escape(named)), 15_000)
    assert named in said and "Traceback" not in said
    shot(task3, 1, "named")
    stop = cell_outputs(task3, 1).locator(
        "button.jupyter-button:has-text('Stop lan_server (task2_two_laptops.ipynb)')"
    )
    assert stop.is_visible()

    stop.click()
    old_error = cell_outputs(task3, 1).get_by_text(named)
    old_error.wait_for(state="hidden", timeout=30_000)  # the old red error goes
    running = cell_output_text(task3, 1, re.compile(r"server: running"), 30_000)
    assert f"holds UDP 127.0.0.1:{port}" in running
    assert named not in running, "the old red error went once the cell ran again"
    assert "failed at line" not in running
    assert not stop.is_visible()
    shot(task3, 1, "after-stop")
    task2.bring_to_front()
    ended = cell_output_text(task2, 1, re.compile(r"lan_server: (exited|stopped)"), 15_000)
    assert "lan_server: running" not in ended
