"""The package's folders are its layers, and imports only go down: cli -> lessons -> show -> net ->
logic (a layer may import any layer below it, never one above). labsock/__init__.py, the public
face, sits above them all, and nothing inside the layers imports it.

Every import counts: at the top of a module and inside a function (a lazy import is still an
arrow), read from the source with ast, so a module need not be imported to be checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast  # no sockets, threads or processes: pytest -m fast


PACKAGE = Path(__file__).resolve().parents[1] / "labsock"

# Lowest first: each layer may import itself and the layers before it. handout and grade are the
# instructors' tools (notebooks in; the student version, or grades, out), above everything a
# student runs.
LAYERS = ["logic", "net", "show", "lessons", "cli", "handout", "grade"]

# What a layer must not import from outside labsock, and why.
FORBIDDEN = {
    "logic": {
        "socket": "pure logic opens no sockets",
        "selectors": "pure logic waits for nothing",
        "threading": "pure logic runs no threads",
        "subprocess": "pure logic starts no programs",
        "ipywidgets": "widgets are presentation (show/)",
        "matplotlib": "plots are presentation (show/)",
        "IPython": "display is presentation (show/)",
        "ifaddr": "reading the system's adapters is the network layer's",
    },
    "net": {
        "ipywidgets": "widgets are presentation (show/)",
        "matplotlib": "plots are presentation (show/)",
        "IPython": "display is presentation (show/)",
        "html": "HTML is presentation (show/)",
    },
}
# (module, import) pairs allowed anyway, each with its reason.
EXCEPTIONS = {
    ("labsock.logic.errors", "socket"): "socket.gaierror, an exception type; nothing is opened",
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement in the file, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.append((target, node.lineno))
            # `from labsock.net import servers` imports the module labsock.net.servers
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def layer(module: str) -> str | None:
    """The layer a labsock module belongs to; None for the face (labsock, labsock.__main__)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def is_module(name: str) -> bool:
    if name == "labsock":
        return True
    path = PACKAGE.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


MODULES = modules()


def test_every_folder_is_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LAYERS)


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    source = tmp_path / "views.py"
    source.write_text(
        "import socket\n"
        "def later():\n"
        "    from labsock.lessons import partner\n"
        "    from ..cli.commands import main\n"
    )
    found = {target for target, _ in imports("labsock.show.views", source)}
    assert {"socket", "labsock.lessons.partner", "labsock.cli.commands"} <= found


@pytest.mark.parametrize("name, path", MODULES, ids=[name for name, _ in MODULES])
def test_imports_go_downward_only(name, path):
    own = layer(name)
    wrong = []
    for target, line in imports(name, path):
        top = target.split(".")[0]
        if top == "labsock":
            if not is_module(target):
                continue  # a name imported from a module, listed with the module itself
            if own is None:
                continue  # the face and __main__ may import any layer
            theirs = layer(target)
            if theirs is None:
                wrong.append(f"line {line}: {target} (the public face, above every layer)")
            elif LAYERS.index(theirs) > LAYERS.index(own):
                wrong.append(f"line {line}: {target} ({theirs} is above {own})")
        elif own in FORBIDDEN and top in FORBIDDEN[own] and (name, top) not in EXCEPTIONS:
            wrong.append(f"line {line}: {target} ({FORBIDDEN[own][top]})")
    assert not wrong, f"{name} imports upward or outside its layer:\n" + "\n".join(wrong)


def test_no_two_modules_import_each_other_even_inside_functions():
    """A cycle (servers importing tcp_server, which imports servers) makes the import order
    matter: whichever loads first sees the other half-made."""
    graph = {
        name: {target for target, _ in imports(name, path) if is_module(target)}
        for name, path in modules()
    }
    cycles = sorted(
        (a, b) for a, targets in graph.items() for b in targets if a < b and a in graph.get(b, ())
    )
    assert cycles == []
