"""The packages presentation needs and the rest of labsock does not: imported on first use, so
`import labsock` and the command line stay light, with one paragraph on how to install each."""

from __future__ import annotations

from labsock.logic.errors import LabsockError


def _missing(package: str, what: str, meanwhile: str = "") -> LabsockError:
    return LabsockError(
        f"{what} need the {package} package: run `pip install -r requirements.txt` (or `pip "
        f"install {package}`), then restart the kernel.{meanwhile}"
    )


def widgets():
    """The ipywidgets module (about 150 ms to import)."""
    try:
        import ipywidgets
    except ImportError:
        raise _missing("ipywidgets", "Widgets") from None
    return ipywidgets


def anywidget():
    """The anywidget module: widgets whose page side is labsock's own (program_view.js)."""
    try:
        import anywidget
    except ImportError:
        raise _missing("anywidget", "Live program views") from None
    return anywidget


def pyplot():
    """matplotlib.pyplot (about half a second to import)."""
    try:
        import matplotlib.pyplot
    except ImportError:
        meanwhile = " Meanwhile, print() shows most pictures as text."
        raise _missing("matplotlib", "Pictures", meanwhile) from None
    _inline_pictures_now()
    return matplotlib.pyplot


def _inline_pictures_now() -> None:
    """Have Jupyter show this cell's pictures at its end, from the first picture on.

    With matplotlib before 3.9, the notebook's picture support, loaded with pyplot, cannot set
    itself up while pyplot is still being imported, and waits for the end of the cell: the first
    picture of a kernel then showed under the next cell (measured with the lowest supported
    versions, README "Supported versions"). pyplot is imported now, so it can set up at once.
    """
    try:
        import matplotlib
        from IPython import get_ipython

        shell = get_ipython()
        backend = matplotlib.get_backend()
        if shell is None or backend not in ("inline", "module://matplotlib_inline.backend_inline"):
            return
        from IPython.core.pylabtools import activate_matplotlib
        from matplotlib_inline.backend_inline import configure_inline_support, flush_figures

        if flush_figures in shell.events.callbacks.get("post_execute", ()):
            return  # set up already (matplotlib 3.9 and later do it on import)
        activate_matplotlib(backend)  # (switches the backend: only before any picture is shown)
        configure_inline_support(shell, backend)
    except Exception:  # noqa: BLE001 - at worst a picture shows a cell late, as before
        pass
