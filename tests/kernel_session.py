"""A real IPython kernel for tests: run cells, see each cell's outputs and the widgets' state.

    with KernelSession(tmp_path) as kernel:
        cell = kernel.run("%%background udp_server\\n...")
        cell.text            # what the cell printed (streams and text/plain results)
        kernel.widget_state(cell.widget_id)

Every message from the kernel is collected by one thread and filed under the cell (execute
request) it belongs to, so a test can tell which cell an output went to, also after that cell
finished. Widget state is kept per model, as the browser would see it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass
class Cell:
    msg_id: str
    streams: list[str] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # display_data / execute_result data
    errors: list[dict] = field(default_factory=list)
    busy: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def stdout(self) -> str:
        return "".join(self.streams)

    @property
    def text(self) -> str:
        plain = [r.get("text/plain", "") for r in self.results]
        return "".join(self.streams) + "\n".join(plain)

    @property
    def widget_id(self) -> str | None:
        for data in self.results:
            if WIDGET_VIEW in data:
                return data[WIDGET_VIEW]["model_id"]
        return None


class KernelSession:
    """An ipykernel running this interpreter (the venv under test), in folder cwd."""

    def __init__(self, cwd: Path, *, extra_env: dict | None = None):
        self.cwd = Path(cwd)
        spec_dir = self.cwd / ".kernelspec" / "labsock-test"
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "labsock test",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        specs = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
        self.manager = KernelManager(kernel_name="labsock-test", kernel_spec_manager=specs)
        self.manager.start_kernel(cwd=str(self.cwd), env={**_env(), **(extra_env or {})})
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.cells: dict[str, Cell] = {}
        self.widgets: dict[str, dict] = {}  # model id -> state, updated as messages come
        self.updates: dict[str, list[dict]] = {}  # model id -> every state message, in order
        self.customs: dict[str, list[dict]] = {}  # model id -> its custom messages, in order
        self.stray: list[dict] = []  # messages for no cell of ours
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._closing = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closing:
            try:
                msg = self.client.get_iopub_msg(timeout=0.2)
            except Exception:  # queue.Empty, or the channel closing at the end
                continue
            with self._changed:
                self._file(msg)
                self._changed.notify_all()

    def _file(self, msg: dict) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("comm_open", "comm_msg"):
            data = content.get("data", {})
            if data.get("method") == "custom":
                self.customs.setdefault(content["comm_id"], []).append(data["content"])
            state = data.get("state")
            if state:
                self.widgets.setdefault(content["comm_id"], {}).update(state)
                self.updates.setdefault(content["comm_id"], []).append(state)
            return
        cell = self.cells.get(msg["parent_header"].get("msg_id"))
        if cell is None:
            self.stray.append(msg)
            return
        if kind == "stream":
            cell.streams.append(content["text"])
        elif kind in ("display_data", "execute_result"):
            cell.results.append(content["data"])
        elif kind == "error":
            cell.errors.append(content)
        elif kind == "status" and content["execution_state"] == "busy":
            cell.busy.set()
        elif kind == "status" and content["execution_state"] == "idle":
            cell.done.set()

    def start(self, code: str) -> Cell:
        """Send a cell to run and return at once (the kernel runs one cell at a time)."""
        with self._lock:
            msg_id = self.client.execute(code, allow_stdin=False)
            cell = self.cells[msg_id] = Cell(msg_id)
        return cell

    def run(self, code: str, timeout: float = 60) -> Cell:
        cell = self.start(code)
        if not cell.done.wait(timeout):
            raise TimeoutError(f"the cell did not finish in {timeout} s:\n{code}")
        return cell

    def value(self, expression: str):
        """Evaluate an expression in the kernel; its repr, read back as a Python value."""
        cell = self.run(f"print(repr({expression}))")
        assert not cell.errors, cell.errors
        import ast

        return ast.literal_eval(cell.stdout.strip())

    def widget_state(self, model_id: str) -> dict:
        with self._lock:
            return dict(self.widgets.get(model_id, {}))

    def widget_updates(self, model_id: str) -> list[dict]:
        """Every state message the kernel sent for this widget so far (what the browser got)."""
        with self._lock:
            return list(self.updates.get(model_id, []))

    def custom_messages(self, model_id: str) -> list[dict]:
        """Every custom message the kernel sent to this widget so far, in order."""
        with self._lock:
            return list(self.customs.get(model_id, []))

    def wait_for_custom(self, model_id: str, predicate, timeout: float = 10) -> list[dict]:
        """Block until the widget's custom messages (the list so far) satisfy predicate."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                messages = list(self.customs.get(model_id, []))
                if predicate(messages):
                    return messages
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"widget {model_id} never matched; got {messages[-3:]}")
                self._changed.wait(left)

    def send_custom(self, model_id: str, content: dict) -> None:
        """A custom message from the 'browser' to a widget (what a widget's page side sends)."""
        self._to_widget(model_id, {"method": "custom", "content": content})

    def child_widget(self, model_id: str, *path: int) -> str:
        """The model id of a child of a box widget, following child indexes."""
        for index in path:
            children = self.widget_state(model_id)["children"]
            model_id = children[index].removeprefix("IPY_MODEL_")
        return model_id

    def wait_for_widget(self, model_id: str, predicate, timeout: float = 10) -> dict:
        """Block until the model's state satisfies predicate (as messages arrive)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                state = dict(self.widgets.get(model_id, {}))
                if state and predicate(state):
                    return state
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"widget {model_id} never matched; last state: {state}")
                self._changed.wait(left)

    def layout_of(self, model_id: str) -> dict:
        return self.widget_state(self.widget_state(model_id)["layout"].removeprefix("IPY_MODEL_"))

    def _to_widget(self, model_id: str, data: dict) -> None:
        """A message from the 'browser' to a widget, as JupyterLab sends it."""
        content = {"comm_id": model_id, "data": data}
        msg = self.client.session.msg("comm_msg", content)
        self.client.shell_channel.send(msg)

    def click(self, model_id: str) -> None:
        self._to_widget(model_id, {"method": "custom", "content": {"event": "click"}})

    def type_and_enter(self, model_id: str, text: str) -> None:
        self._to_widget(
            model_id, {"method": "update", "state": {"value": text}, "buffer_paths": []}
        )
        self._to_widget(model_id, {"method": "custom", "content": {"event": "submit"}})

    @property
    def pid(self) -> int:
        return self.manager.provisioner.pid

    def shutdown(self) -> None:
        self._closing = True
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self._reader.join(2)

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()


def _env() -> dict:
    import os

    env = dict(os.environ)
    env.pop("JPY_PARENT_PID", None)
    return env
