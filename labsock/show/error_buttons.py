"""Buttons under a labsock error in a notebook: the one-click way out the error names.

A LabsockError may carry way_out, (label, action) pairs (labsock.logic.errors): "Stop
udp_server, then run this cell again" when the student's own program holds the port a server
cell wants. In IPython the error still shows as its one paragraph; below it, one button per way
out. A click runs the action, then the failed cell's code again (as Shift+Enter would), and shows
what that run printed under the buttons.

A button's click runs in the kernel when no cell runs (ipywidgets), so the cell's code runs in
the notebook's own namespace: a `server = labsock.serve_udp(...)` that failed binds `server`
once it works.
"""

from __future__ import annotations

from labsock.logic.errors import LabsockError


def register(shell) -> None:
    """Show LabsockErrors in this IPython shell with their way-out buttons."""
    shell.set_custom_exc((LabsockError,), _show_error)


def _show_error(shell, etype, value, tb, tb_offset=None):
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)  # the one paragraph
    if value.way_out and getattr(shell, "kernel", None) is not None:  # a notebook, not a terminal
        try:
            source = shell.history_manager.input_hist_raw[-1]
            from IPython.display import display

            display(WayOut(value.way_out, source, shell))
        except Exception:  # no widgets, no history: the paragraph alone says what to do
            pass
    return None  # shown above: IPython must not show it again


class WayOut:
    """A row of buttons; each runs its action, then the cell's code again."""

    def __init__(self, way_out, source: str, shell):
        from labsock.show.optional import widgets

        ui = widgets()
        self.source = source
        self.shell = shell
        self.buttons = []
        for label, action in way_out:
            button = ui.Button(description=label, button_style="warning")
            button.layout.width = "auto"
            button.on_click(lambda _button, action=action: self.take(action))
            self.buttons.append(button)
        self.output = ui.Output()
        self.widget = ui.VBox([ui.HBox(self.buttons), self.output])

    def take(self, action) -> None:
        """What a button does: its action, then the cell again, its output under the buttons."""
        for button in self.buttons:
            button.disabled = True
        self.output.clear_output()
        result = None
        with self.output:  # a click runs in the kernel's main thread: this captures its output
            try:
                if action is not None:
                    action()
            except LabsockError as exc:
                print(exc)
            else:
                result = self.shell.run_cell(self.source, store_history=False)
        for button in self.buttons:
            button.disabled = False
        if result is not None and result.success:
            for button in self.buttons:
                button.layout.display = "none"

    def _repr_mimebundle_(self, **kwargs):
        from labsock.show.views import shown_as_text

        labels = ", ".join(button.description for button in self.buttons)
        return shown_as_text(self.widget, f"<buttons: {labels}>")
