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
    return matplotlib.pyplot
