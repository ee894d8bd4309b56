"""python -m labsock versions: does this environment have what labsock needs? Each package's
version against the lowest supported, and the one command that adds what is missing (after
`pip install --no-deps -e .` into an environment that already runs JupyterLab)."""

from __future__ import annotations

import sys

from labsock.logic.supported import FLOORS, verdicts
from labsock.logic.tables import text_table

HELP = "check this environment's Python and packages against the versions labsock supports"


def add_arguments(parser) -> None:
    pass


def installed_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in FLOORS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def run(args) -> int:
    rows = verdicts(installed_versions(), sys.version_info[:2])
    heading = ["", "installed", "lowest supported", ""]
    print("\n".join(text_table([heading, *rows])))
    wanting = [(what, lowest) for what, _, lowest, verdict in rows if verdict != "ok"]
    if not wanting:
        print("\nEverything labsock needs is here.")
        return 0
    packages = [f'"{what}>={lowest}"' for what, lowest in wanting if what != "Python"]
    print()
    if len(packages) < len(wanting):
        print(f"labsock needs Python {wanting[0][1]} or newer: use another environment.")
    if packages:
        print("To add (or raise) only these: python -m pip install " + " ".join(packages))
    return 1
