"""A background program's view in JupyterLab (headless Chromium), judged against a terminal.

- The newest line is visible at the bottom while lines flood in and after; scrolled up with the
  mouse wheel, the box stays where the student put it; back at the bottom, it follows again; the
  count of lines not shown is exact.
- A line typed in the box reaches the program exactly as it was on Enter: with another cell busy,
  typed at 10 ms a key, and pasted.
- A failed program shows its explanation once, its lines kept, wrapped at words; Stop is grey.
- After a kernel restart the view says the program stopped with it and greys its controls.

What the student sees is read from the page: bounding boxes against the box's visible rectangle,
line boxes of the rendered text. Screenshots land in artifacts/browser/view-*.png.
"""

from __future__ import annotations

import contextlib
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
    run_cell,
    start_cell,
    wait_for_kernel_idle,
    wait_until_ran,
    write_notebook,
)

from tests.ports import free_port

pytestmark = pytest.mark.browser

FLOOD_LINES = 60_000
FLOOD = f"""\
%%background flood
import time
for n in range({FLOOD_LINES}):
    print("line", n)
    if n % 200 == 0:
        time.sleep(0.02)
print("the end")
time.sleep(3600)
"""
TICKER = """\
%%background ticker
import time
n = 0
while True:
    print("tick", n)
    n += 1
    time.sleep(0.01)
"""
PARROT = """\
%%background parrot
while True:
    name = input("name: ")
    print("hello [" + name + "]")
"""
BUSY = "import time\nprint('busy now', flush=True)\ntime.sleep(6)\nprint('busy cell done')"
SHORT_BUSY = "import time\nprint('busy now', flush=True)\ntime.sleep(2)"
CHECKLIST = """\
from labsock.lessons.self_check import Checklist
checklist = Checklist("UDP server")
checklist.add("it answers a client", True)
checklist.add("it listens on UDP port 12000", False, "It holds no port: bind it to 12000.")
checklist
"""
FAILED = """\
%%background failing
from socket import *
first = socket(AF_INET, SOCK_DGRAM)
first.bind(('0.0.0.0', {port}))
second = socket(AF_INET, SOCK_DGRAM)
second.bind(('0.0.0.0', {port}))
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """One notebook holding every program of these tests; a page showing it, kernel idle."""
    root = tmp_path_factory.mktemp("view-lab")
    sources = [
        "import labsock",
        FLOOD,
        TICKER,
        PARROT,
        BUSY,
        FAILED.format(port=free_port()),
        SHORT_BUSY,
        CHECKLIST,
    ]
    write_notebook(root / "view.ipynb", sources)
    home = tmp_path_factory.mktemp("view-home")
    with lab_and_chromium(root, home, no_kernels_left=True) as (lab, browser):
        # narrow enough that an explanation wraps over several lines
        context = browser.new_context(viewport={"width": 900, "height": 1000})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(lab.notebook_url("view.ipynb"))
        wait_for_kernel_idle(page)
        run_cell(page, 0)
        try:
            yield page
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "view-notebook.png"), full_page=True)
            context.close()


def shot(page, cell: int, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = page.locator(".jp-Notebook .jp-Cell").nth(cell)
    target.scroll_into_view_if_needed()
    target.screenshot(path=str(ARTIFACTS / f"view-{name}.png"))


# Runs in the page: the cell's output box (the scrolled <pre>) and where its last line is.
LAST_LINE_JS = """
(cellIndex) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[cellIndex];
  const box = Array.from(cell.querySelectorAll('.jp-Cell-outputWrapper pre'))
    .find((pre) => pre.textContent.includes('line ') || pre.textContent.includes('tick '));
  if (!box) return null;
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  let last = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.data.trim()) last = node;
  }
  if (!last) return null;
  const text = last.data.replace(/\\n+$/, '');
  const start = text.lastIndexOf('\\n') + 1;
  const range = document.createRange();
  range.setStart(last, start);
  range.setEnd(last, text.length);
  const line = range.getBoundingClientRect();
  const shown = box.getBoundingClientRect();
  return {
    text: text.slice(start),
    inside: line.height > 0 && line.top >= shown.top - 1 && line.bottom <= shown.bottom + 1,
    scrollTop: box.scrollTop,
    scrollHeight: box.scrollHeight,
    clientHeight: box.clientHeight,
    lineTop: line.top, lineBottom: line.bottom, boxTop: shown.top, boxBottom: shown.bottom,
    atBottom: box.scrollHeight - box.scrollTop - box.clientHeight <= 2,
    lines: (box.textContent.match(/\\n/g) || []).length,
    boxText: box.textContent,
  };
}
"""

# The line at the top of the box's visible part, as the student reads it.
TOP_LINE_JS = """
(cellIndex) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[cellIndex];
  const box = Array.from(cell.querySelectorAll('.jp-Cell-outputWrapper pre'))
    .find((pre) => pre.textContent.includes('tick '));
  const shown = box.getBoundingClientRect();
  const at = document.caretRangeFromPoint(shown.left + 8, shown.top + 8);
  const data = at.startContainer.data || '';
  const from = data.lastIndexOf('\\n', at.startOffset - 1) + 1;
  const to = data.indexOf('\\n', at.startOffset);
  return data.slice(from, to === -1 ? undefined : to);
}
"""


def last_line(page, cell: int) -> dict:
    found = page.evaluate(LAST_LINE_JS, cell)
    assert found is not None, cell_outputs(page, cell).inner_text()
    return found


def number(text: str) -> int:
    return int(re.search(r"\d+", text).group())


def test_the_newest_line_stays_in_view_during_and_after_a_flood(page):
    start_cell(page, 1)
    cell_output_text(page, 1, re.compile(r"line \d+"), timeout_ms=20_000)
    seen = []
    deadline_text = re.compile("the end")
    for _ in range(200):  # samples while the flood goes on (each one a page round trip)
        found = last_line(page, 1)
        seen.append(found)
        where = {key: value for key, value in found.items() if key != "boxText"}
        assert found["inside"], f"the last printed line is out of sight: {where}"
        if len(seen) == 5:
            shot(page, 1, "flood-during")
        if deadline_text.search(found["text"]):
            break
        page.wait_for_timeout(50)
    during = [f for f in seen if f["text"].startswith("line ")]
    assert len({f["text"] for f in during}) >= 3, "it was looked at while lines came"
    shot(page, 1, "flood")
    text = cell_output_text(page, 1, re.compile("the end"), timeout_ms=60_000)
    after = last_line(page, 1)
    assert after["text"] == "the end" and after["inside"]
    # FLOOD_LINES + 1 lines were printed; the box shows some, the count says the rest
    said = re.search(r"\(([\d,]+) earlier lines are not shown", text).group(1)
    hidden = int(said.replace(",", ""))
    assert hidden + after["lines"] == FLOOD_LINES + 1
    assert after["boxText"].startswith(f"line {hidden}\n"), "the count names what is hidden"


def test_scrolled_up_the_box_stays_until_the_student_scrolls_back(page):
    start_cell(page, 2)
    cell_output_text(page, 2, re.compile(r"tick 1\d\d\b"), timeout_ms=20_000)
    box = page.locator(".jp-Notebook .jp-Cell").nth(2).locator("pre").first
    box.scroll_into_view_if_needed()
    assert last_line(page, 2)["inside"]
    area = box.bounding_box()
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    page.mouse.wheel(0, -300)
    page.wait_for_function(
        """(i) => {
             const pre = document.querySelectorAll('.jp-Notebook .jp-Cell')[i].querySelector('pre');
             return pre.scrollHeight - pre.scrollTop - pre.clientHeight > 100;
           }""",
        arg=2,
    )
    top = page.evaluate(TOP_LINE_JS, 2)
    newest = number(last_line(page, 2)["boxText"].rstrip().rsplit("\n", 1)[-1])
    # more lines arrive; the student's place does not move
    page.wait_for_function(
        """([i, wanted]) => {
             const pre = document.querySelectorAll('.jp-Notebook .jp-Cell')[i].querySelector('pre');
             const lines = pre.textContent.trim().split('\\n');
             return Number(lines[lines.length - 1].split(' ')[1]) >= wanted;
           }""",
        arg=[2, newest + 50],
        timeout=20_000,
    )
    assert page.evaluate(TOP_LINE_JS, 2) == top, "the box moved away from where it was put"
    assert not last_line(page, 2)["inside"], "scrolled up: the newest line is below, unseen"
    # back to the bottom: it follows again
    page.mouse.wheel(0, 100_000)
    page.wait_for_function(
        """(i) => {
             const pre = document.querySelectorAll('.jp-Notebook .jp-Cell')[i].querySelector('pre');
             return pre.scrollHeight - pre.scrollTop - pre.clientHeight <= 2;
           }""",
        arg=2,
    )
    before = number(last_line(page, 2)["text"])
    page.wait_for_function(
        """([i, wanted]) => {
             const pre = document.querySelectorAll('.jp-Notebook .jp-Cell')[i].querySelector('pre');
             const lines = pre.textContent.trim().split('\\n');
             return Number(lines[lines.length - 1].split(' ')[1]) >= wanted;
           }""",
        arg=[2, before + 50],
        timeout=20_000,
    )
    following = last_line(page, 2)
    assert following["inside"] and number(following["text"]) >= before + 50


def typing_box(page):
    box = page.locator(".jp-Notebook .jp-Cell").nth(3).locator("input[type='text']").first
    box.wait_for(state="visible", timeout=15_000)
    box.fill("")  # whatever an earlier test left there
    return box


def heard(page, expected: str) -> list[str]:
    pattern = re.compile(re.escape(f"hello [{expected}]"))
    text = cell_output_text(page, 3, pattern, timeout_ms=20_000)
    return re.findall(r"hello \[(.*)\]", text)


def test_a_line_typed_while_another_cell_is_busy_arrives_whole(page):
    run_cell(page, 3)
    before = start_cell(page, 4)  # time.sleep(6)
    cell_output_text(page, 4, re.compile("busy now"), timeout_ms=15_000)  # the kernel is busy
    box = typing_box(page)
    box.click()
    box.press_sequentially("Grace", delay=60)
    box.press("Enter")
    # Until the kernel passes the line on, the page says it waits (ipykernel 7.4 may pass it on
    # during the busy cell, between two of its steps: then it is simply there).
    waiting = "sent, waiting for the kernel to pass it on (it is busy): Grace"
    shown = cell_output_text(page, 3, re.compile(re.escape(waiting) + r"|hello \[Grace\]"))
    assert waiting in shown or "hello [Grace]" in shown
    shot(page, 3, "typed-busy-kernel")
    wait_until_ran(page, 4, before, timeout_ms=30_000)
    assert heard(page, "Grace")[-1] == "Grace"


@contextlib.contextmanager
def kernel_busy(page, busy: bool):
    """With busy: another cell (time.sleep(2)) keeps the kernel busy meanwhile."""
    if not busy:
        yield
        return
    before = start_cell(page, 6)
    cell_output_text(page, 6, re.compile("busy now"), timeout_ms=15_000)
    yield
    wait_until_ran(page, 6, before, timeout_ms=30_000)


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_a_line_typed_at_ten_ms_a_key_arrives_whole(page, busy):
    box = typing_box(page)
    box.click()
    with kernel_busy(page, busy):
        box.press_sequentially("Ada Lovelace, 1815", delay=10)
        box.press("Enter")
    assert heard(page, "Ada Lovelace, 1815")[-1] == "Ada Lovelace, 1815"


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_a_pasted_line_arrives_whole(page, busy):
    box = typing_box(page)
    box.click()
    page.evaluate("() => navigator.clipboard.writeText('Grüße, Señor Turing')")
    with kernel_busy(page, busy):
        box.press_sequentially("pasted: ", delay=10)  # the start typed, the rest pasted
        box.press("Control+V")
        box.press("Enter")
    assert heard(page, "pasted: Grüße, Señor Turing")[-1] == "pasted: Grüße, Señor Turing"


def test_a_failed_program_explains_once_wrapped_at_words_with_stop_grey(page):
    run_cell(page, 5)
    pattern = re.compile(r"is already in use")
    text = cell_output_text(page, 5, pattern, timeout_ms=15_000)
    shot(page, 5, "failed-program")
    assert text.count("is already in use") == 1, "said once, not beside Stop and again below"
    assert "stopped at line 5:\n" in text, "the explanation keeps its lines"
    assert re.search(r"\n\s*second\.bind\(\('0\.0\.0\.0', \d+\)\)\n", text)
    breaks = page.evaluate(LINE_BREAKS_JS, 5)
    assert breaks, "narrow enough that the explanation wraps"
    assert not mid_word(breaks), f"broken inside a word: {mid_word(breaks)}"
    stop = page.locator(".jp-Notebook .jp-Cell").nth(5).locator("button:has-text('Stop')")
    assert stop.is_disabled()
    red, green, _blue = map(
        int, re.findall(r"\d+", stop.evaluate("(b) => getComputedStyle(b).backgroundColor"))[:3]
    )
    assert not (red > 150 and green < 120), "a Stop that can do nothing is not red"


def test_after_a_kernel_restart_the_view_says_stopped_and_greys_its_controls(page):
    run_cell(page, 3)  # the parrot, waiting for a line
    typing_box(page)
    restart_kernel(page)
    text = cell_output_text(
        page, 3, re.compile("stopped: the kernel was restarted"), timeout_ms=15_000
    )
    assert "parrot: stopped: the kernel was restarted" in text
    assert "running" not in text.split("stopped: the kernel was restarted")[0]
    cell = page.locator(".jp-Notebook .jp-Cell").nth(3)
    assert cell.locator("button:has-text('Stop')").is_disabled()
    assert not cell.locator("input[type='text']").first.is_visible(), "nothing to type to"
    shot(page, 3, "after-restart")
    wait_for_kernel_idle(page)


def test_a_checklist_reads_left_to_right_with_each_hint_beside_its_point(page):
    run_cell(page, 7)
    table = page.locator(".jp-Notebook .jp-Cell").nth(7).locator("table")
    table.wait_for(timeout=15_000)
    aligned = table.evaluate(
        "(t) => Array.from(t.querySelectorAll('td')).map((td) => getComputedStyle(td).textAlign)"
    )
    assert set(aligned) <= {"left", "start"}, aligned
    point, hint = table.evaluate(
        """(t) => {
             const row = t.querySelectorAll('tr')[1];
             const cell = row.querySelectorAll('td')[1];
             const range = document.createRange();
             range.selectNodeContents(cell.firstChild);
             return [range.getClientRects()[0].top,
                     cell.querySelector('i').getClientRects()[0].top];
           }"""
    )
    assert abs(point - hint) < 2, "the hint starts on its point's line"
    shot(page, 7, "checklist")
