"""Every notebook as a student meets it: JupyterLab in headless Chromium, Run All, click Send.

pytest -m browser runs only these. They need Debian's chromium (/usr/bin/chromium) and the
playwright package; without them they skip, except under CI=true, where that is a failure.
Screenshots land in artifacts/browser/ (or $LABSOCK_ARTIFACTS/browser/).

The notebooks start servers on the lab's fixed ports, as nbval does; pytest runs tests/ before
notebooks/, one test at a time, and every test here ends with all kernels shut down, so the two
never hold a port at the same time.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM_ARGS, JupyterLab, browser_tools, drive_notebook

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
ARTIFACTS = Path(os.environ.get("LABSOCK_ARTIFACTS", REPO / "artifacts")) / "browser"

SEND_MESSAGE = "hello from the browser {n}"


@dataclass
class Expect:
    """What one notebook must show in the browser beyond 'runs, no errors, widgets render'."""

    sends: int = 0  # at least this many Text + Send pairs answer a click
    reply: str = "(?i){message}"  # regex (after formatting) the cell shows after a click
    selectors: tuple = ()  # CSS selectors that must each match at least once
    # Text from the first clean-up cell: the cells above it run, the buttons are clicked, then
    # the rest runs (Run All first would stop the servers before anyone clicks Send).
    pause_before: str | None = None
    # {text from a cell: regex (after formatting)} that cell's output must show after the clicks
    shown: dict = field(default_factory=dict)
    # (button text, text from a cell, regex): other buttons to click after Send, and what that
    # cell's output must show afterwards
    clicks: tuple = ()


PLOT = ".jp-RenderedImage img"
LIVE_VIEW_TABLE = ".widget-html table"

# Per-notebook expectations; a notebook not listed gets the defaults above, and any Text + Send
# pair it has is still clicked and must show the message back.
EXPECTATIONS: dict[str, Expect] = {
    # The typing client (a student's program waiting in input()) gets a line through the text
    # box under its cell: it echoes it after its prompt, and the printing server shows it.
    "task1_udp_tcp.ipynb": Expect(
        sends=1,
        reply="Message: {message}",
        selectors=("input.labsock-typed",),
        pause_before="labsock.stop_all()",
        shown={"%%background print_server": "says: {message}"},
    ),
    # The student's LAN server printed the probe and the client's message; the address box shows.
    "task2_two_laptops.ipynb": Expect(
        selectors=(".widget-text input",),
        pause_before="labsock.stop_all()",
        shown={"%%background lan_server": "says: hello from the client laptop"},
    ),
    # The student's server names both clients as their numbers arrive, and labsock's counting
    # view counts both; the report's plot renders.
    "task3_two_clients.ipynb": Expect(
        selectors=(PLOT,),
        pause_before="labsock.stop_all()",
        shown={
            "%%background server": r"c1 11000 \d+",
            "labsock.counting_view(": r"c2 \(127\.0\.0\.1:13000\)",
        },
    ),
    # Relay, ping and TCP lessons: the plots render (no widgets to click).
    "task4_network_misbehaves.ipynb": Expect(selectors=(PLOT,)),
}


@pytest.fixture(scope="module")
def browser():
    sync_playwright, executable = browser_tools()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    """JupyterLab serving a copy of notebooks/ (autosave must not rewrite the stored outputs)."""
    root = tmp_path_factory.mktemp("pf-lab-root")
    if NOTEBOOK_DIR.is_dir():
        shutil.copytree(
            NOTEBOOK_DIR, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".ipynb_*")
        )
    server = JupyterLab(root, tmp_path_factory.mktemp("pf-lab-home")).start()
    process = server.process
    yield server
    server.stop()
    assert process.poll() is not None, "JupyterLab still running after stop()"


def _shut_down_kernels(lab: JupyterLab) -> None:
    lab.shutdown_kernels()
    assert lab.kernels() == [], "a kernel is still listed after shutdown"
    leftovers = lab.kernel_processes()
    assert leftovers == [], f"kernel processes still alive: {leftovers}"


def _pattern(template: str, message: str) -> re.Pattern:
    text = template.format(message=re.escape(message), upper=re.escape(message.upper()))
    return re.compile(text)


def _send_messages(expect: Expect):
    def message_for(index: int):
        message = SEND_MESSAGE.format(n=index + 1)
        return message, _pattern(expect.reply, message)

    return message_for


def _shown_patterns(expect: Expect) -> dict:
    message = SEND_MESSAGE.format(n=1)
    return {marker: _pattern(template, message) for marker, template in expect.shown.items()}


def _check(run, expect: Expect) -> None:
    assert run.code_cells > 0, f"{run.name}: no code cells seen; did the notebook open?"
    assert not run.errors, f"{run.name}: error outputs: {run.errors}"
    assert run.executed_cells == run.code_cells, (
        f"{run.name}: Run All executed {run.executed_cells} of {run.code_cells} code cells"
    )
    assert not run.widget_errors, f"{run.name}: {run.widget_errors}"
    assert run.rendered_widgets >= run.widget_views, (
        f"{run.name}: {run.widget_views} widget outputs, only {run.rendered_widgets} rendered"
    )
    for selector, count in run.found.items():
        assert count > 0, f"{run.name}: nothing in the page matches {selector!r}"
    answered = 0
    for index, (message, shown) in enumerate(run.sends):
        message_for = _send_messages(expect)
        _, pattern = message_for(index)
        assert pattern.search(shown), (
            f"{run.name}: after sending {message!r} the cell shows {shown[-300:]!r}, "
            f"no match for {pattern.pattern!r}"
        )
        answered += 1
    assert answered >= expect.sends, (
        f"{run.name}: expected {expect.sends} Text + Send pairs answering, got {answered}"
    )
    for label, _, regex in expect.clicks:
        shown = run.clicked.get(label, "")
        assert re.search(regex, shown), (
            f"{run.name}: after a click on {label!r} the cell shows {shown[-300:]!r}, "
            f"no match for {regex!r}"
        )
    for marker, pattern in _shown_patterns(expect).items():
        shown = run.shown.get(marker, "")
        assert pattern.search(shown), (
            f"{run.name}: the cell with {marker!r} shows {shown[-300:]!r}, "
            f"no match for {pattern.pattern!r}"
        )
    assert run.screenshots and run.screenshots[0].stat().st_size > 10_000, "no screenshot"


@pytest.mark.parametrize(
    "notebook",
    NOTEBOOKS or [pytest.param(None, marks=pytest.mark.skip(reason="notebooks/ has no notebooks"))],
    ids=lambda path: path.name if path else "none",
)
def test_notebook_in_browser(lab, browser, notebook):
    expect = EXPECTATIONS.get(notebook.name, Expect())
    try:
        run = drive_notebook(
            browser,
            lab,
            notebook.name,
            ARTIFACTS,
            expect_send=_send_messages(expect),
            selectors=expect.selectors,
            pause_before=expect.pause_before,
            shown_after_send=_shown_patterns(expect),
            clicks=[(label, marker, re.compile(regex)) for label, marker, regex in expect.clicks],
        )
    finally:
        _shut_down_kernels(lab)
    _check(run, expect)


# -- the harness itself catches what it is meant to catch ------------------------------------

HARNESS_CELLS = [
    # A Text + Send that answers in upper case, like a server would.
    "import ipywidgets as w\n"
    "box, send, shown = w.Text(), w.Button(description='Send'), w.HTML()\n"
    "send.on_click(lambda _: setattr(shown, 'value', 'Reply: ' + box.value.upper()))\n"
    "w.VBox([w.HBox([box, send]), shown])",
    # A widget view whose model does not exist: the page says "Error displaying widget".
    "display({'application/vnd.jupyter.widget-view+json': "
    "{'model_id': 'no-such-model', 'version_major': 2, 'version_minor': 0}}, raw=True)",
    "raise ValueError('the harness must see this')",
    "print('never runs: Run All stops at the error')",
]


def test_harness_sees_replies_widget_errors_and_failures(lab, browser):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in HARNESS_CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)"}
    nbformat.write(notebook, lab.root_dir / "pf-harness-check.ipynb")
    expect = Expect(reply="Reply: {upper}", pause_before="raise ValueError")
    try:
        run = drive_notebook(
            browser,
            lab,
            "pf-harness-check.ipynb",
            ARTIFACTS,
            expect_send=_send_messages(expect),
            selectors=(".widget-text input", ".no-such-thing"),
            pause_before=expect.pause_before,
        )
    finally:
        _shut_down_kernels(lab)
    assert run.sends and "Reply: HELLO FROM THE BROWSER 1" in run.sends[0][1]
    assert run.widget_errors, "the missing widget model went unnoticed"
    assert [e for e in run.errors if "ValueError: the harness must see this" in e]
    assert run.executed_cells == 3 and run.code_cells == 4
    assert run.found == {".widget-text input": 1, ".no-such-thing": 0}
    with pytest.raises(AssertionError):
        _check(run, expect)
