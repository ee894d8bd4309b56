"""The versions labsock supports: the lowest of each, measured working (README "Supported
versions"). requirements.txt takes its floors from here, and CI pins exactly these in a second
environment (requirements-floors.txt); tests/test_versions.py keeps the three in step.
"""

from __future__ import annotations

PYTHON = (3, 10)

# package -> (lowest version supported, what labsock needs it for)
FLOORS = {
    "jupyterlab": ("4.0.13", "the notebooks"),
    "ipykernel": ("6.29.5", "runs the notebooks' cells"),
    "ipywidgets": ("8.0.7", "buttons, boxes and live views"),
    "anywidget": ("0.9", "a program's live view (its page side)"),
    "matplotlib": ("3.7", "plots"),
    "ifaddr": ("0.2", "this laptop's addresses (Task 2)"),
}


def version_tuple(version: str) -> tuple[int, ...]:
    """'4.0.13' -> (4, 0, 13); a part's leading digits count ('7.0.0rc1' -> (7, 0, 0))."""
    parts = []
    for part in version.split("."):
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def at_least(version: str, floor: str) -> bool:
    have, need = version_tuple(version), version_tuple(floor)
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def verdicts(installed: dict[str, str | None], python: tuple[int, int]) -> list[tuple]:
    """(what, installed, lowest supported, verdict) for Python and each package; verdict is
    "ok", "too old" or "missing"."""
    floor = ".".join(map(str, PYTHON))
    shown = ".".join(map(str, python))
    rows = [("Python", shown, floor, "ok" if tuple(python) >= PYTHON else "too old")]
    for name, (lowest, _why) in FLOORS.items():
        version = installed.get(name)
        if version is None:
            rows.append((name, "-", lowest, "missing"))
        else:
            rows.append((name, version, lowest, "ok" if at_least(version, lowest) else "too old"))
    return rows
