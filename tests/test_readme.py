"""The README's examples work: every ```python block runs, every `# -> value` holds, every
labsock.NAME it mentions exists, and its command-line synopsis matches the real parser.

The examples use the lab's ports (12000, 11000, ...), as a student would; here each such port is
replaced by a free one, the same within a block, so the test runs beside anything else.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
from pathlib import Path

import pytest

import labsock
from labsock.cli.commands import COMMANDS, build_parser
from tests.ports import free_port_for_both as free_port

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
IPYTHON_BLOCKS = re.findall(r"```ipython\n(.*?)```", README, re.S)  # cells with a magic
EXPECTED = re.compile(r"^(?P<expr>\S.*?)\s+# -> (?P<value>.+)$")


def runnable(block: str) -> str:
    """The block with free ports for the lab's, and each `expr  # -> value` an assert."""
    for port in sorted(set(re.findall(r"\b1[0-9]{4}\b", block))):
        block = re.sub(rf"\b{port}\b", str(free_port()), block)
    lines = []
    for line in block.splitlines():
        match = EXPECTED.match(line)
        if match:
            expr, value = match["expr"], match["value"]
            line = f"assert ({expr}) == {value}, {expr!r} + ' gave ' + repr({expr})"
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.fast
def test_the_readme_has_examples_with_results():
    assert len(PYTHON_BLOCKS) >= 4
    assert sum(len(re.findall(r"# -> ", block)) for block in PYTHON_BLOCKS) >= 10


@pytest.mark.fast
def test_an_expected_value_that_is_wrong_fails():
    with pytest.raises(AssertionError, match="gave 'HI'"):
        exec(runnable('import labsock\nlabsock.upper("hi")  # -> "hi"'), {})


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.splitlines()[2][:40])
def test_python_example_runs(block):
    pytest.importorskip("ipywidgets")
    code = runnable(block)
    ast.parse(code)  # a syntax error shows here, not half way through
    exec(compile(code, "README.md", "exec"), {})


def test_ipython_cells_run_in_order_as_a_notebook(capsys, tmp_path, monkeypatch):
    """The magic cells, one after the other in one IPython shell, the lab's ports swapped for
    the same free ones in every cell (the client must reach the server)."""
    from IPython.core.interactiveshell import InteractiveShell

    assert IPYTHON_BLOCKS, "the README shows a student's first cells"
    monkeypatch.chdir(tmp_path)  # programs/NAME.py are saved here
    ports = {p: free_port() for p in set(re.findall(r"\b1[0-9]{4}\b", "".join(IPYTHON_BLOCKS)))}
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "labsock")
        for block in IPYTHON_BLOCKS:
            for port, free in ports.items():
                block = re.sub(rf"\b{port}\b", str(free), block)
            result = shell.run_cell(block)
            assert result.success, result.error_in_exec or result.error_before_exec
        assert "Say something: hello\nHELLO\n" in capsys.readouterr().out
    finally:
        labsock.stop_all()
        InteractiveShell.clear_instance()


@pytest.mark.fast
def test_every_labsock_name_in_the_readme_exists():
    # folders, named as places
    layers = {"logic", "net", "show", "lessons", "cli", "handout", "grade"}
    for name in set(re.findall(r"(?<![/\w])labsock\.(\w+)", README)):
        assert name in labsock.__all__ or name in layers, f"labsock.{name} in the README"


def synopsis() -> dict[str, str]:
    """Command name -> its synopsis text (continuation lines included) from the README."""
    block = README.split("## The command line", 1)[1].split("```", 2)[1]
    commands: dict[str, str] = {}
    name = None
    for line in block.splitlines():
        words = line.split()
        if words[:3] == ["python", "-m", "labsock"]:
            name = words[3]
            commands[name] = line
        elif name and line.strip():
            commands[name] += " " + line
    return commands


def parser_options() -> dict[str, set[str]]:
    """Command -> the options its --help lists."""
    options = {}
    for name, module_name in COMMANDS.items():
        parser = argparse.ArgumentParser(prog=name)
        importlib.import_module(module_name).add_arguments(parser)
        options[name] = set(re.findall(r"--[a-z][a-z-]*", parser.format_help()))
    return options


@pytest.mark.fast
def test_the_command_line_synopsis_is_the_parser():
    documented = synopsis()
    real = parser_options()
    assert set(documented) == set(real)
    for name, text in documented.items():
        shown = set(re.findall(r"--[a-z-]+", text))
        assert shown == real[name] - {"--help"}, name


@pytest.mark.fast
@pytest.mark.parametrize("name", sorted(parser_options()))
def test_each_command_parses_its_documented_example(name):
    # The synopsis with its placeholders filled in parses: the options take what it says.
    text = synopsis()[name]
    fill = {"PORT": "12000", "HOST:PORT": "127.0.0.1:12000", "HOST": "127.0.0.1", "P": "0.1"}
    fill |= {"D": "5", "J": "2", "N": "3", "S": "1", "NAME": "mobile", "MESSAGE": "hi"}
    fill |= {"ADDRESS": "127.0.0.1"}
    words = []
    for word in re.sub(r"[\[\]]", " ", text).split()[3:]:
        if word.startswith("{"):
            word = word.strip("{}").split(",")[0]
        elif "|" in word:
            word = word.split("|")[0]
        words.append(fill.get(word, word))
    build_parser().parse_args(words)  # exits with status 2 on anything it does not take
