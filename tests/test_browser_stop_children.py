"""What a student sees when a program started processes of its own: Stop ends them too, and the
cell says so; a program that exits leaving one behind reads as ended, with what labsock ended.

JupyterLab in headless Chromium, as tests/test_browser_programs.py (skips without the tools;
under CI=true that is a failure). Run inside a network namespace of its own.
"""

from __future__ import annotations

import os
import re

import pytest
from browser_helpers import (
    ARTIFACTS,
    cell_output_text,
    lab_and_chromium,
    run_cell,
    wait_for_kernel_idle,
    write_notebook,
)

pytestmark = pytest.mark.browser

STARTER = """\
%%background starter
import subprocess, sys, time
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                          start_new_session=True)
print("started a helper process", helper.pid)
time.sleep(300)
"""

LEAVER = """\
%%background leaver
import subprocess, sys
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                          start_new_session=True)
print("started a helper process and ends")
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("children-lab")
    write_notebook(root / "children.ipynb", ["import labsock", STARTER, LEAVER])
    home = tmp_path_factory.mktemp("children-home")
    with lab_and_chromium(root, home) as (lab, browser):
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        page = context.new_page()
        page.goto(lab.notebook_url("children.ipynb"))
        wait_for_kernel_idle(page)
        try:
            yield page
        finally:
            context.close()


def test_stop_ends_the_programs_helper_and_the_cell_says_so(page):
    run_cell(page, 0)
    run_cell(page, 1)
    started = cell_output_text(page, 1, re.compile(r"started a helper process \d+"))
    helper = int(re.search(r"started a helper process (\d+)", started).group(1))
    assert alive(helper)
    page.locator(".jp-Notebook .jp-Cell").nth(1).locator("button:has-text('Stop')").click()
    stopped = cell_output_text(
        page, 1, re.compile(r"starter: stopped \(and 1 process it had started\)")
    )
    assert "starter: stopped (and 1 process it had started)" in stopped
    assert not alive(helper), "the helper the program started survived Stop"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "stop_children.png"))


def test_a_program_that_ends_leaving_a_helper_reads_as_ended(page):
    run_cell(page, 2)
    said = "leaver: exited with code 0; labsock ended 1 process it had started and left running"
    text = cell_output_text(page, 2, re.compile(re.escape(said)))
    assert said in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "left_running.png"))
