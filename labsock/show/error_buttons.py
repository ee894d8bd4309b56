"""Buttons under a labsock error in a notebook: the one-click way out the error names.

A LabsockError may carry way_out, (label, action) pairs (labsock.logic.errors): "Stop lan_server
(task2_two_laptops.ipynb), then run this cell again" when another notebook's program holds the
port a server cell wants. In IPython the error shows as its one paragraph in red and, below it,
one button per way out. A click runs the action, then the failed cell's code again (as
Shift+Enter would), and shows what that run printed under the buttons. The old red paragraph
and its buttons then go: what the cell says is what its latest run said, never an error that is
over (an error output, once sent, cannot be taken back; so the paragraph is shown by the widget).

A student's program whose bind failed the same way (program.way_out) gets the same row under its
view: offer_way_out(view, program).

A button's click runs in the kernel when no cell runs (ipywidgets), so the cell's code runs in
the notebook's own namespace: a `server = labsock.serve_udp(...)` that failed binds `server`
once it works.
"""

from __future__ import annotations

from html import escape

from labsock.logic.errors import LabsockError

ERROR_STYLE = (
    "color: #b00; background: #fdd; padding: 4px 8px; margin: 2px 0; white-space: pre-wrap; "
    "word-break: normal; overflow-wrap: break-word"
)


def register(shell) -> None:
    """Show LabsockErrors in this IPython shell with their way-out buttons."""
    shell.set_custom_exc((LabsockError,), _show_error)


def _show_error(shell, etype, value, tb, tb_offset=None):
    if value.way_out and getattr(shell, "kernel", None) is not None:  # a notebook, not a terminal
        try:
            from IPython.display import display

            source = shell.history_manager.input_hist_raw[-1]
            display(WayOut(value.way_out, source, shell, error=str(value)))
            return None
        except Exception:  # no widgets, no history: the paragraph alone says what to do
            pass
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)  # the one paragraph
    return None  # shown above: IPython must not show it again


def offer_way_out(view, program):
    """A failed program's view with its way-out buttons below it, when it has a way out (and
    this is a notebook); the view alone otherwise."""
    way_out = getattr(program, "way_out", ())
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if not way_out or getattr(shell, "kernel", None) is None:
            return view
        return WayOut(way_out, shell.history_manager.input_hist_raw[-1], shell, shown=view)
    except Exception:  # no widgets, no history: the view says what failed
        return view


class WayOut:
    """The error (a red paragraph, or a failed program's view), then a row of buttons; each runs
    its action, then the cell's code again, its output under the buttons."""

    def __init__(self, way_out, source: str, shell, *, error: str = "", shown=None):
        from labsock.show.optional import widgets
        from labsock.show.views import shown_as_text

        ui = widgets()
        self.source = source
        self.shell = shell
        self.error_text = error
        self.shown = shown  # the failed program's view, when it is one
        if shown is not None:
            self.error = shown.widget
            self._error_plain = shown.text()
        else:
            self.error = ui.HTML(
                f"<div style='{ERROR_STYLE}'><b>LabsockError</b>: {escape(error)}</div>"
            )
            self._error_plain = f"LabsockError: {error}"
        self.buttons = []
        for label, action in way_out:
            button = ui.Button(description=label, button_style="warning")
            button.layout.width = "auto"
            button.on_click(lambda _button, action=action: self.take(action))
            self.buttons.append(button)
        self.row = ui.HBox(self.buttons)
        self.output = ui.Output()
        self.widget = ui.VBox([self.error, self.row, self.output])
        self._shown_as_text = shown_as_text

    @property
    def error_shown(self) -> bool:
        return self.error.layout.display != "none"

    def take(self, action) -> None:
        """What a button does: its action, then the cell again, its output under the buttons;
        then the old error and its buttons go (the new run says for itself how it went)."""
        for button in self.buttons:
            button.disabled = True
        self.output.clear_output()
        ran = False
        with self.output:  # a click runs in the kernel's main thread: this captures its output
            try:
                if action is not None:
                    action()
            except LabsockError as exc:
                print(exc)
            else:
                self.shell.run_cell(self.source, store_history=False)
                ran = True
        for button in self.buttons:
            button.disabled = False
        if ran:
            self.error.layout.display = "none"
            self.row.layout.display = "none"
            if self.shown is not None:
                self.shown.stop()  # the old run's view: nothing more to follow

    def _repr_mimebundle_(self, **kwargs):
        labels = ", ".join(button.description for button in self.buttons)
        return self._shown_as_text(self.widget, f"{self._error_plain}\n<buttons: {labels}>")
