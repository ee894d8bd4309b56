"""The versions labsock supports: one list (labsock/logic/supported.py), the same floors in
requirements.txt, the same versions pinned for CI's second environment (requirements-floors.txt)
and in the README's table; `python -m labsock versions` checks an existing environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labsock.cli import main
from labsock.cli import versions as versions_command
from labsock.logic.supported import FLOORS, PYTHON, at_least, verdicts, version_tuple

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]


def requirement_lines(name: str) -> dict[str, str]:
    """package -> the version after >= or == in a requirements file."""
    found = {}
    pattern = re.compile(r"([A-Za-z0-9_.-]+)\s*(>=|==)\s*([0-9][^\s;#]*)\s*(#.*)?")
    for line in (ROOT / name).read_text().splitlines():
        match = pattern.fullmatch(line.strip())
        if match:
            found[match[1].lower()] = match[3]
    return found


def same_version(a: str, b: str) -> bool:
    return at_least(a, b) and at_least(b, a)


def test_requirements_floors_are_the_supported_floors():
    floors = requirement_lines("requirements.txt")
    assert {name: floors.get(name) for name in FLOORS} == {
        name: lowest for name, (lowest, _) in FLOORS.items()
    }


def test_ci_pins_exactly_the_floors():
    pinned = requirement_lines("requirements-floors.txt")
    for name, (lowest, _) in FLOORS.items():
        assert name in pinned, f"requirements-floors.txt does not pin {name}"
        assert same_version(pinned[name], lowest), (name, pinned[name], lowest)


def test_the_readme_table_names_each_floor():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Supported versions", 1)[1].split("\n## ", 1)[0]
    assert f"| Python | {PYTHON[0]}.{PYTHON[1]} |" in table
    for name, (lowest, _) in FLOORS.items():
        assert f"| {name} | {lowest} |" in table, name


def test_pyproject_asks_python_and_widgets_at_the_floors():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'requires-python = ">={PYTHON[0]}.{PYTHON[1]}"' in pyproject
    assert f'"ipywidgets>={FLOORS["ipywidgets"][0]}"' in pyproject


def test_versions_compare_as_numbers():
    assert version_tuple("4.0.13") == (4, 0, 13)
    assert version_tuple("7.0.0rc1") == (7, 0, 0)
    assert at_least("4.0.13", "4.0.13") and at_least("4.10.0", "4.9")
    assert not at_least("4.0.9", "4.0.13")
    assert at_least("3.7.0", "3.7") and at_least("3.7", "3.7.0")


def test_the_verdicts_say_ok_too_old_or_missing():
    installed = {"jupyterlab": "4.6.6", "ipykernel": "6.28.0", "ipywidgets": "8.1.9"}
    rows = {row[0]: row[3] for row in verdicts(installed, (3, 11))}
    assert rows == {
        "Python": "ok",
        "jupyterlab": "ok",
        "ipykernel": "too old",
        "ipywidgets": "ok",
        "anywidget": "missing",
        "matplotlib": "missing",
        "ifaddr": "missing",
    }
    assert verdicts({}, (3, 9))[0][3] == "too old"


def test_the_command_says_what_to_add_and_nothing_else(monkeypatch, capsys):
    everything = {name: lowest for name, (lowest, _) in FLOORS.items()}
    monkeypatch.setattr(versions_command, "installed_versions", lambda: dict(everything))
    assert main(["versions"]) == 0
    assert "Everything labsock needs is here." in capsys.readouterr().out

    monkeypatch.setattr(
        versions_command, "installed_versions", lambda: {**everything, "ifaddr": None}
    )
    assert main(["versions"]) == 1
    said = capsys.readouterr().out
    assert re.search(r"ifaddr\s+-\s+0\.2\s+missing", said)
    assert said.rstrip().endswith('python -m pip install "ifaddr>=0.2"')
