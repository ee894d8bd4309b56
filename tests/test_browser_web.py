"""Task 5 in JupyterLab (headless Chromium): the student's web server, opened through the link
the notebook gives, shows its page and the picture (a second request); the exchange view then
shows the browser's own request. Twice: on a laptop (the link goes to 127.0.0.1:6789) and as on
a JupyterHub (JUPYTERHUB_SERVICE_PREFIX set: the link goes through jupyter-server-proxy).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM_ARGS,
    JupyterLab,
    browser_tools,
    cell_index,
    cell_output_text,
    run_all_cells,
    run_cell,
    run_rest,
    wait_for_kernel_idle,
)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "task5_web_server.ipynb"
SHOTS = Path(os.environ.get("LABSOCK_SHOTS", REPO / "artifacts" / "browser"))


@contextlib.contextmanager
def environment(**values):
    """os.environ with these values while JupyterLab starts (its kernels inherit them)."""
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def lab_with_task5(tmp_path: Path, **env) -> JupyterLab:
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    shutil.copytree(NOTEBOOK.parent / "web", root / "web")
    with environment(**env):
        return JupyterLab(root, tmp_path / "home").start()


def open_the_students_page(page, link_cell: int):
    """Click the notebook's link: a new tab opens the page; follow its link to the picture.
    (Waits on what the page shows: a tab the notebook opens may never report its load event.)"""
    from playwright.sync_api import expect

    link = page.locator(".jp-Notebook .jp-Cell").nth(link_cell).locator("a.labsock-web-link")
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    expect(tab.locator("h1")).to_have_text("Hello World", timeout=30_000)
    tab.locator("a:has-text('A page with a picture')").click()
    expect(tab.locator("h1")).to_have_text("A page with a picture", timeout=30_000)
    tab.wait_for_function(
        "() => { const i = document.querySelector('img'); return i && i.complete; }",
        timeout=30_000,
    )
    width = tab.evaluate("() => document.querySelector('img').naturalWidth")
    return tab, width


def drive(tmp_path, stem: str, **env):
    sync_playwright, executable = browser_tools()
    lab = lab_with_task5(tmp_path, **env)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(lab.notebook_url(NOTEBOOK.name))
            wait_for_kernel_idle(page)
            link_cell = cell_index(NOTEBOOK, "labsock.web_link(")
            state = run_all_cells(page, pause_at=link_cell + 1)
            errors = [
                o for c in state["cells"] for o in c["outputs"] if o["output_type"] == "error"
            ]
            assert not errors, errors
            where = cell_output_text(page, link_cell, re.compile("This notebook runs on"))
            tab, width = open_the_students_page(page, link_cell)
            picture_url = tab.url
            tab.screenshot(path=str(SHOTS / f"{stem}-browser-page.png"))
            tab.close()
            # The exchange view, run now, shows what Chromium itself sent.
            view_cell = cell_index(NOTEBOOK, 'labsock.web_exchanges("web_server")')
            run_cell(page, view_cell)
            view = cell_output_text(page, view_cell, re.compile("GET /picture.png"))
            outputs = page.locator(".jp-Notebook .jp-Cell").nth(view_cell)
            outputs.screenshot(path=str(SHOTS / f"{stem}-exchange-view.png"))
            plot_cell = cell_index(NOTEBOOK, 'labsock.web_exchanges("web_server").plot()')
            run_cell(page, plot_cell)
            page.locator(".jp-Notebook .jp-Cell").nth(plot_cell).locator("img").wait_for()
            page.locator(".jp-Notebook .jp-Cell").nth(plot_cell).screenshot(
                path=str(SHOTS / f"{stem}-exchange-picture.png")
            )
            rest = run_rest(page, link_cell + 1)  # every cell below the link, these two again
            errors = [o for c in rest["cells"] for o in c["outputs"] if o["output_type"] == "error"]
            assert not errors, errors
            two = cell_index(NOTEBOOK, "two.plot()")
            page.locator(".jp-Notebook .jp-Cell").nth(two).locator("img").wait_for()
            page.locator(".jp-Notebook .jp-Cell").nth(two).screenshot(
                path=str(SHOTS / f"{stem}-two-at-once.png")
            )
            context.close()
            browser.close()
    finally:
        lab.shutdown_kernels()
        lab.stop()
    return where, width, picture_url, view


@pytest.fixture(autouse=True)
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)


def test_the_students_page_opens_from_the_notebooks_link(tmp_path):
    where, width, url, view = drive(tmp_path, "web-laptop", JUPYTERHUB_SERVICE_PREFIX="")
    assert "runs on your laptop" in where
    assert url == "http://127.0.0.1:6789/picture.html"
    assert width > 0, "the picture came whole: the browser could decode it"
    # the browser's own request, as it sent it, escaped and line by line
    assert "User-Agent: Mozilla/5.0" in view and "GET /picture.png HTTP/1.1\\r\\n" in view


@pytest.mark.skipif(
    importlib.util.find_spec("jupyter_server_proxy") is None,
    reason="jupyter-server-proxy is not installed (pip install -r requirements.txt)",
)
def test_on_a_jupyterhub_the_link_goes_through_the_proxy(tmp_path):
    # JupyterLab serves at /, so the hub's prefix for this user is "/".
    where, width, url, view = drive(tmp_path, "web-hub", JUPYTERHUB_SERVICE_PREFIX="/")
    assert "runs on a JupyterHub" in where
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/proxy/6789/picture\.html", url), url
    assert width > 0
    assert "GET /picture.png HTTP/1.1\\r\\n" in view
