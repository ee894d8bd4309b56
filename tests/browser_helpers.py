"""A throwaway JupyterLab server and the Playwright steps a student's clicks amount to.

Used by tests/test_browser.py. Run by hand to try one notebook and keep its screenshot:

    python tests/browser_helpers.py path/to/notebook.ipynb [artifacts-dir]
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Screenshots of the browser tests.
ARTIFACTS = Path(os.environ.get("LABSOCK_ARTIFACTS", REPO / "artifacts")) / "browser"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# The news pop-up ("Would you like to receive official Jupyter news?") covers the notebook.
ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def find_chromium() -> str | None:
    """Debian's chromium (Playwright's own browser download fails here); $LABSOCK_CHROMIUM wins."""
    if "LABSOCK_CHROMIUM" in os.environ:
        chosen = os.environ["LABSOCK_CHROMIUM"]
        return chosen if os.access(chosen, os.X_OK) else None
    candidates = ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def missing(reason: str):
    """Skip a browser test for want of its tools; under CI=true that is a failure instead."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true, so the browser tests must run (see .ci/run)")
    pytest.skip(reason)


def browser_tools():
    """(playwright's sync_playwright, Chromium's path), or the test is skipped (see missing)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -r requirements-dev.txt)")
    executable = find_chromium()
    if executable is None:
        missing("Chromium not found (Debian/Ubuntu: apt-get install chromium)")
    return sync_playwright, executable


@contextlib.contextmanager
def lab_and_chromium(root_dir: Path, home: Path, *, no_kernels_left: bool = False):
    """(lab, browser): JupyterLab serving root_dir, started, and headless Chromium (skipped as
    browser_tools says without the tools). Afterwards the browser is closed, the lab's kernels
    shut down (with no_kernels_left: none of their processes may be left) and the lab stopped."""
    sync_playwright, executable = browser_tools()
    lab = JupyterLab(root_dir, home).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                yield lab, browser
            finally:
                browser.close()
                lab.shutdown_kernels()
                if no_kernels_left:
                    assert lab.kernel_processes() == []
    finally:
        lab.stop()


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook of these code cells (Python 3 kernel) at path."""
    import nbformat

    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)"}
    nbformat.write(book, path)


class JupyterLab:
    """JupyterLab on 127.0.0.1, a free port, a token, no outbound calls, private Jupyter dirs.

    The process started is the server itself (python -m jupyterlab, no launcher in between), so
    stopping it really stops it and the kernels it started.
    """

    def __init__(self, root_dir: Path, home: Path):
        self.root_dir = Path(root_dir)
        self.home = Path(home)
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> JupyterLab:
        dirs = {name: self.home / name for name in ("config", "runtime", "data", "ipython")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        settings = self.home / "settings"
        self._write_settings(dirs["config"], settings)
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            IPYTHONDIR=str(dirs["ipython"]),
            JUPYTER_PLATFORM_DIRS="0",
        )
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        self.log_path = self.home / "jupyterlab.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root_dir
            )
        try:
            self._wait_until_ready(dirs["runtime"], timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Shut every kernel down, then the server; nothing it started is left running."""
        if self.process is None:
            return
        if self.process.poll() is None:
            descendants = self._descendants()
            with contextlib.suppress(OSError):
                self.shutdown_kernels()
            self.process.send_signal(signal.SIGINT if os.name == "nt" else signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            _end_processes(descendants)
        self.process = None

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- REST API ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, timeout: float = 30.0):
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernels(self) -> list[dict]:
        return self.api("GET", "/api/kernels")

    def shutdown_kernels(self) -> None:
        """Delete every session and kernel; returns when the kernel processes have ended."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.kernels():
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def kernel_processes(self, wait: float = 10.0) -> list:
        """Processes the server started that are still alive after up to `wait` seconds."""
        children = self._descendants()
        if not children:
            return []
        import psutil

        _, alive = psutil.wait_procs(children, timeout=wait)
        return [p for p in alive if _alive(p)]

    def notebook_url(self, relative_path: str) -> str:
        # reset: start from an empty workspace, so a notebook from an earlier test is not reopened
        quoted = urllib.parse.quote(relative_path)
        return f"{self.base_url}/lab/tree/{quoted}?reset&token={self.token}"

    # -- internals --------------------------------------------------------------------------

    def _write_settings(self, config_dir: Path, settings_dir: Path) -> None:
        labconfig = config_dir / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        page_config = {"disabledExtensions": {ANNOUNCEMENTS_PLUGIN: True}}
        (labconfig / "page_config.json").write_text(json.dumps(page_config))
        # Windowing would leave off-screen cells out of the page; a student scrolls to them, a
        # test reads the page, so every cell is attached.
        tracker = settings_dir / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True, exist_ok=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))

    def _wait_until_ready(self, runtime_dir: Path, timeout: float) -> None:
        info_file = runtime_dir / f"jpserver-{self.process.pid}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with status {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.port is None and info_file.exists():
                # (ValueError, KeyError): the file is written but not complete yet
                with contextlib.suppress(ValueError, KeyError):
                    self.port = json.loads(info_file.read_text())["port"]
            if self.port is not None:
                try:
                    self.api("GET", "/api/status", timeout=2)
                    return
                except OSError:
                    pass
            time.sleep(0.2)  # polling a process we do not control; no event to wait on
        raise TimeoutError(f"JupyterLab not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _descendants(self) -> list:
        try:
            import psutil
        except ImportError:
            return []
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []


def _alive(process) -> bool:
    try:
        return process.is_running() and process.status() != "zombie"
    except Exception:
        return False


def _end_processes(processes: list) -> None:
    """Kernels outlive a killed server (they run in their own session): end the ones we started."""
    if not processes:
        return
    import psutil

    alive = [p for p in processes if _alive(p)]
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, still_alive = psutil.wait_procs(alive, timeout=10)
    for process in still_alive:
        with contextlib.suppress(psutil.Error):
            process.kill()


# -- what a student does in the browser ------------------------------------------------------

# Runs in the page: the notebook as the app holds it (cells, outputs, execution counts) plus the
# kernel status, read from the model rather than the DOM.
NOTEBOOK_STATE_JS = """
() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!widget || !widget.content || !widget.content.model || !widget.sessionContext) return null;
  const session = widget.sessionContext.session;
  const kernel = session && session.kernel;
  const cells = widget.content.model.toJSON().cells.map((cell) => ({
    type: cell.cell_type,
    source: Array.isArray(cell.source) ? cell.source.join('') : cell.source,
    count: cell.execution_count === undefined ? null : cell.execution_count,
    outputs: cell.outputs || [],
  }));
  return { status: kernel ? kernel.status : null, cells };
}
"""


@dataclass
class NotebookRun:
    """What a browser run of one notebook showed."""

    name: str
    seconds: dict = field(default_factory=dict)
    code_cells: int = 0
    executed_cells: int = 0
    errors: list = field(default_factory=list)  # "cell N: Ename: value"
    stderr: list = field(default_factory=list)
    widget_views: int = 0  # widget-view outputs in the model
    rendered_widgets: int = 0  # widget views attached in the page
    widget_errors: list = field(default_factory=list)  # "Error displaying widget ..." texts
    sends: list = field(default_factory=list)  # (message sent, text shown after the click)
    found: dict = field(default_factory=dict)  # selector -> how many the page shows
    shown: dict = field(default_factory=dict)  # cell marker -> its output text after the clicks
    clicked: dict = field(default_factory=dict)  # button text -> the cell's text after its click
    screenshots: list = field(default_factory=list)


def wait_for_kernel_idle(page, timeout_ms: int = 120_000) -> None:
    """The status bar names the kernel and says Idle: only then does Run All not hang."""
    from playwright.sync_api import expect

    statusbar = page.locator("#jp-main-statusbar")
    expect(statusbar).to_contain_text(re.compile(r"Python 3.*\|\s*Idle"), timeout=timeout_ms)


def notebook_state(page) -> dict | None:
    return page.evaluate(NOTEBOOK_STATE_JS)


WAIT_UNTIL_RAN_JS = """
(upto) => {
  const w = window.jupyterapp.shell.currentWidget;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const cells = w.content.model.toJSON().cells;
  const code = cells.slice(0, upto === null ? cells.length : upto)
    .filter((c) => c.cell_type === 'code');
  const failed = code.some((c) => (c.outputs || []).some((o) => o.output_type === 'error'));
  return failed || code.every((c) => c.execution_count !== null);
}
"""


def _run(page, command: str, active: int | None, upto: int | None, timeout_ms: int) -> dict:
    """Run a notebook command from cell `active`; wait until cells before `upto` ran, or one
    failed, and the kernel is idle."""
    page.evaluate(
        """([command, active]) => {
             const w = window.jupyterapp.shell.currentWidget;
             if (active !== null) w.content.activeCellIndex = active;
             // Not awaited: the command's promise settles only when every cell has run.
             window.jupyterapp.commands.execute(command);
           }""",
        [command, active],
    )
    page.wait_for_function(WAIT_UNTIL_RAN_JS, arg=upto, timeout=timeout_ms, polling=200)
    return notebook_state(page)


def run_all_cells(page, pause_at: int | None = None, timeout_ms: int = 180_000) -> dict:
    """Clear outputs, then Run All, or with pause_at run only the cells above that cell (a
    student who stops there to use the widgets before the clean-up cells)."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.wait_for_function(
        """() => {
             const w = window.jupyterapp.shell.currentWidget;
             return w.content.model.toJSON().cells
               .every((c) => c.cell_type !== 'code' || c.execution_count === null);
           }""",
        timeout=30_000,
    )
    if pause_at is None:
        return _run(page, "notebook:run-all-cells", None, None, timeout_ms)
    return _run(page, "notebook:run-all-above", pause_at, pause_at, timeout_ms)


def run_rest(page, pause_at: int, timeout_ms: int = 180_000) -> dict:
    """Run the cell at pause_at and every cell below it."""
    return _run(page, "notebook:run-all-below", pause_at, None, timeout_ms)


START_CELL_JS = """
(index) => {
  const w = window.jupyterapp.shell.currentWidget;
  const before = w.content.model.toJSON().cells[index].execution_count;
  w.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-cell');
  return before === undefined ? null : before;
}
"""

CELL_RAN_JS = """
([index, before]) => {
  const w = window.jupyterapp.shell.currentWidget;
  const count = w.content.model.toJSON().cells[index].execution_count;
  const kernel = w.sessionContext.session.kernel;
  return kernel.status === 'idle' && count !== null && count !== before;
}
"""


def start_cell(page, index: int):
    """Run one cell as Shift+Enter would, without waiting for it; its execution count before."""
    return page.evaluate(START_CELL_JS, index)


def wait_until_ran(page, index: int, before, timeout_ms: int = 30_000) -> None:
    """Until the cell has a new execution count (it ran, error or not) and the kernel is idle."""
    page.wait_for_function(CELL_RAN_JS, arg=[index, before], timeout=timeout_ms, polling=100)


def run_cell(page, index: int, timeout_ms: int = 30_000) -> None:
    """Run one cell (again, too) and wait until it has run and the kernel is idle."""
    wait_until_ran(page, index, start_cell(page, index), timeout_ms)


def interrupt_kernel(page) -> None:
    """What the toolbar's Interrupt button does."""
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.interrupt()"
    )


def restart_kernel(page) -> None:
    """What Kernel > Restart Kernel does, without its dialog."""
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()"
    )


def cell_outputs(page, index: int):
    """The locator of one cell's output area."""
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-Cell-outputWrapper")


def cell_index(notebook_path: Path, marker: str) -> int:
    """Index of the first cell whose source contains marker."""
    cells = json.loads(Path(notebook_path).read_text())["cells"]
    for index, cell in enumerate(cells):
        source = cell["source"]
        if marker in ("".join(source) if isinstance(source, list) else source):
            return index
    raise LookupError(f"no cell in {notebook_path} contains {marker!r}")


def summarise(state: dict, run: NotebookRun) -> None:
    code = [c for c in state["cells"] if c["type"] == "code"]
    run.code_cells = len(code)
    run.executed_cells = sum(1 for c in code if c["count"] is not None)
    run.widget_views = 0
    for index, cell in enumerate(state["cells"]):
        for output in cell["outputs"]:
            kind = output.get("output_type")
            if kind == "error":
                run.errors.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
            elif kind == "stream" and output.get("name") == "stderr":
                text = output.get("text", "")
                text = "".join(text) if isinstance(text, list) else text
                run.stderr.append(f"cell {index}: {text}")
            if WIDGET_VIEW in output.get("data", {}):
                run.widget_views += 1


# (a program's view is an anywidget: its element has no jupyter-widgets class)
RENDERED_WIDGET = (
    ".jp-OutputArea-output > .jupyter-widgets, .jp-OutputArea-output > * > .labsock-program"
)
HAS_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"  # XPath: a class


def wait_for_widgets(page, expected: int, timeout_ms: int = 30_000) -> None:
    """Widget views render after their output arrives; wait until each rendered or failed."""
    if expected == 0:
        return
    # On a timeout the caller counts what rendered and reports it.
    with contextlib.suppress(Exception):
        page.wait_for_function(
            """([selector, n]) => {
                 const shown = document.querySelectorAll(selector).length;
                 const failed = Array.from(document.querySelectorAll('.jp-OutputArea-output'))
                   .filter((node) => node.innerText.includes('Error displaying widget')).length;
                 return shown + failed >= n;
               }""",
            arg=[RENDERED_WIDGET, expected],
            timeout=timeout_ms,
        )


def count_rendered_widgets(page) -> int:
    return page.locator(RENDERED_WIDGET).count()


def widget_error_texts(page) -> list[str]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
             .map((node) => node.innerText)
             .filter((text) => text.includes('Error displaying widget'))"""
    )


def click_each_send(page, message_for, timeout_ms: int = 10_000) -> list[tuple[str, str]]:
    """For every Send button with a text box beside it: type, click, wait for the reply text in
    that cell. message_for(index) -> (message, reply pattern). Returns (message, cell text) pairs;
    the text says so when a Send button stayed disabled.
    """
    from playwright.sync_api import expect

    results = []
    buttons = page.locator("button.jupyter-button:has-text('Send')")
    for index in range(buttons.count()):
        button = buttons.nth(index)
        if not button.is_visible():
            continue  # e.g. a program's "Send line" while it does not wait for input
        text_input = None
        # The message box is the text box in the Send button's own row (or the row's box).
        for ancestor in ("xpath=..", "xpath=../.."):
            candidates = button.locator(ancestor).locator(
                ".widget-text input[type='text'], input.labsock-typed"  # (a program's own box)
            )
            if candidates.count():
                text_input = candidates.last
                break
        if text_input is None:
            continue
        # The cell around this button (a filter with has=button would look for the n-th Send
        # button inside each cell).
        cell = button.locator(f"xpath=ancestor::div[{HAS_CLASS.format('jp-Cell')}][1]")
        outputs = cell.locator(".jp-Cell-outputWrapper")
        message, expected = message_for(len(results))  # the n-th box that can be used
        button.scroll_into_view_if_needed()
        text_input.fill(message)
        text_input.press("Tab")  # a student leaves the box before clicking: the value is synced
        try:
            expect(button).to_be_enabled(timeout=timeout_ms)
        except AssertionError:
            results.append((message, f"Send stayed disabled: {outputs.inner_text()}"))
            continue
        button.click()
        # No reply in time: the caller asserts on the text the cell shows.
        results.append((message, wait_for_match(page, outputs, expected, timeout_ms)))
    return results


# Every visual line break in the cell's output text: (the text before it, the text after it).
LINE_BREAKS_JS = """
(cellIndex) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[cellIndex];
  const area = cell.querySelector('.jp-Cell-outputWrapper');
  const walker = document.createTreeWalker(area, NodeFilter.SHOW_TEXT);
  const breaks = [];
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('style, script, button')) continue;
    let top = null;
    for (let i = 0; i < node.data.length; i += 1) {
      if (node.data[i] === '\\n') { top = null; continue; }
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (top !== null && rect.top > top + 2) {
        breaks.push([node.data.slice(Math.max(0, i - 12), i), node.data.slice(i, i + 12)]);
      }
      top = rect.top;
    }
  }
  return breaks;
}
"""


def mid_word(breaks: list) -> list:
    """The line breaks (from LINE_BREAKS_JS) inside a word ("o / r"). A line may end at a space
    or after a hyphen ("square-in-a- / circle"), as text wraps anywhere."""
    return [
        (a, b)
        for a, b in breaks
        if a and b and not a[-1].isspace() and a[-1] != "-" and not b[0].isspace()
    ]


def wait_for_match(page, locator, pattern, timeout_ms: int = 5_000) -> str:
    """The locator's text as the student sees it (innerText, one line per block), once the
    Python regex `pattern` matches it or the timeout has passed.

    Not Playwright's to_contain_text: it matches textContent, where "last 30" and "390 messages"
    from two lines run together into "last 30390 messages".
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        text = locator.inner_text()
        if pattern.search(text) or time.monotonic() > deadline:
            return text
        page.wait_for_timeout(100)  # lets the page run; the widgets redraw up to 10 times a second


def cell_output_text(page, index: int, pattern, timeout_ms: int = 5_000) -> str:
    """The output text of cell `index`, once it matches pattern (or the timeout passed)."""
    return wait_for_match(page, cell_outputs(page, index), pattern, timeout_ms)


def drive_notebook(
    browser,
    lab: JupyterLab,
    relative_path: str,
    artifacts: Path,
    expect_send=None,
    selectors=(),
    pause_before: str | None = None,
    shown_after_send: dict | None = None,
    clicks: tuple = (),
):
    """Open one notebook as a student would, run it, use its Send buttons, take screenshots.

    expect_send(index) -> (message, reply pattern) for the index-th Send button, or None to leave
    the buttons alone; selectors: CSS selectors whose matches are counted into run.found;
    pause_before: a text from the first clean-up cell (say "stop_all()"): the cells above it run,
    then the buttons are clicked, then the rest runs, as a student working down the page would;
    shown_after_send: {text from a cell: pattern} that cell must show after the clicks (a
    server's live view, say); the texts it showed go into run.shown;
    clicks: (button text, text from a cell, pattern) for other buttons, clicked in turn after
    Send; the text the cell showed afterwards goes into run.clicked[button text].
    """
    run = NotebookRun(name=relative_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    stem = Path(relative_path).stem
    notebook_path = lab.root_dir / relative_path
    pause_at = None if pause_before is None else cell_index(notebook_path, pause_before)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        started = time.monotonic()
        page.goto(lab.notebook_url(relative_path))
        wait_for_kernel_idle(page)
        run.seconds["kernel idle"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        state = run_all_cells(page, pause_at)
        run.seconds["run"] = round(time.monotonic() - started, 1)
        summarise(state, run)

        wait_for_widgets(page, run.widget_views)
        run.rendered_widgets = count_rendered_widgets(page)
        run.widget_errors = widget_error_texts(page)
        run.found = {selector: page.locator(selector).count() for selector in selectors}

        if expect_send is not None and not run.errors:
            started = time.monotonic()
            run.sends = click_each_send(page, expect_send)
            run.seconds["send"] = round(time.monotonic() - started, 1)
            for marker, pattern in (shown_after_send or {}).items():
                index = cell_index(notebook_path, marker)
                run.shown[marker] = cell_output_text(page, index, pattern)
            for label, marker, pattern in clicks:
                button = page.locator(f"button.jupyter-button:has-text('{label}')").first
                button.scroll_into_view_if_needed()
                button.click()
                index = cell_index(notebook_path, marker)
                run.clicked[label] = cell_output_text(page, index, pattern, timeout_ms=15_000)
        run.screenshots.extend(_screenshot_cells(page, artifacts, stem))

        if pause_at is not None and not run.errors:
            started = time.monotonic()
            run_rest(page, pause_at)
            run.seconds["rest"] = round(time.monotonic() - started, 1)
        # Clicks and the rest ran code in the kernel too: their outputs count as well.
        run.errors, run.stderr = [], []
        summarise(notebook_state(page), run)
        run.widget_errors = widget_error_texts(page)
    finally:
        shot = artifacts / f"{stem}.png"
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shot))
            run.screenshots.insert(0, shot)
        context.close()
    return run


def _screenshot_cells(page, artifacts: Path, stem: str) -> list[Path]:
    """One picture of every cell holding a widget, so the widgets can be looked at later."""
    shots = []
    cells = page.locator(".jp-CodeCell").filter(
        has=page.locator(".jupyter-widgets, .labsock-program")
    )
    for index in range(min(cells.count(), 12)):
        path = artifacts / f"{stem}-widget-{index + 1}.png"
        cells.nth(index).scroll_into_view_if_needed()
        cells.nth(index).screenshot(path=str(path))
        shots.append(path)
    return shots


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    from playwright.sync_api import sync_playwright

    notebook = Path(argv[0]).resolve()
    artifacts = Path(argv[1] if len(argv) > 1 else "artifacts/browser").resolve()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pf-lab-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        shutil.copy(notebook, root / notebook.name)
        with JupyterLab(root, Path(tmp) / "home") as lab, sync_playwright() as playwright:
            chromium = find_chromium()
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            run = drive_notebook(
                browser,
                lab,
                notebook.name,
                artifacts,
                expect_send=lambda i: (f"hello {i}", re.compile(f"hello {i}", re.IGNORECASE)),
            )
            browser.close()
            lab.shutdown_kernels()
    for key, value in run.__dict__.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
