"""`import labsock` against `import socket, selectors, threading`, each in a fresh interpreter.

    python bench/bench_import.py [--quick]

Only the import is timed (inside the child, with perf_counter), not the interpreter start-up,
which would hide the difference. Rounds alternate between the two so drift hits both alike, and
each side's fastest round counts (as timeit does): on a busy machine other work only ever adds
time, so the minimum is the import's own cost. A second row checks that the heavy packages
(ipywidgets, matplotlib) stay out until used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench.common import print_rows  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

TIMED_IMPORT = """
import sys, time
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(elapsed)
"""

WHAT_GETS_LOADED = """
import json, sys
before = set(sys.modules)
import labsock
print(json.dumps(sorted(set(sys.modules) - before)))
"""

FIRST_CELL = "import labsock\nlabsock.serve_udp"

HEAVY = ("ipywidgets", "matplotlib", "IPython", "numpy", "ifaddr", "argparse", "json")


def _python(code: str) -> str:
    # Byte-code caching on, as on a student's laptop (a sandbox may turn it off globally): the
    # warm-up import writes labsock's .pyc files, as a first notebook run would.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = REPO
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


def import_seconds(statement: str) -> float:
    return float(_python(TIMED_IMPORT.format(statement=statement)))


def measure(quick: bool = False) -> list[dict]:
    if hasattr(os, "sched_setaffinity"):  # the children inherit it: one CPU, less jitter
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rounds = 11 if quick else 31
    # Warm the file system cache and byte-code files once, as a second notebook start would.
    import_seconds("import labsock")
    import_seconds("import socket, selectors, threading")
    import_seconds(FIRST_CELL)
    ours, base, first = [], [], []
    for _ in range(rounds):
        ours.append(import_seconds("import labsock"))
        base.append(import_seconds("import socket, selectors, threading"))
        first.append(import_seconds(FIRST_CELL))
    ours_ms, base_ms, first_ms = min(ours) * 1000, min(base) * 1000, min(first) * 1000
    ratio = ours_ms / base_ms
    loaded = json.loads(_python(WHAT_GETS_LOADED))
    heavy = sorted({name.split(".")[0] for name in loaded if name.split(".")[0] in HEAVY})
    return [
        {
            "name": "import labsock (fresh interpreter, best)",
            "value": f"{ours_ms:.1f} ms",
            "baseline": f"import socket, selectors, threading {base_ms:.1f} ms",
            "ratio": ratio,
            "target": "<= 1.5x",
            "ok": ratio <= 1.5,
        },
        {
            # Names load on first use: this is what a notebook's first server cell pays.
            "name": "import labsock, then labsock.serve_udp",
            "value": f"{first_ms:.1f} ms",
            "baseline": f"import socket, selectors, threading {base_ms:.1f} ms",
            "ratio": first_ms / base_ms,
            "target": "(reported)",
            "ok": True,
        },
        {
            "name": "heavy modules loaded by import labsock",
            "value": ", ".join(heavy) or "none",
            "baseline": f"{len(loaded)} modules in all; checked: {', '.join(HEAVY)}",
            "ratio": None,
            "target": "none",
            "ok": not heavy,
        },
    ]


if __name__ == "__main__":
    print_rows(measure(quick="--quick" in sys.argv))
