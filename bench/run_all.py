"""Run every bench/bench_*.py and print one table of ratios against baselines from the same run.

    python bench/run_all.py [--quick] [--only NAME ...]

Each benchmark runs in its own fresh interpreter (they pin CPUs and start servers), and prints
its rows as JSON for this script. Exit status 1 when a row misses its target or a benchmark fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUN_ONE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("bench_module", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("ROWS " + json.dumps(module.measure(quick=sys.argv[2] == "quick")))
"""


def run_one(path: Path, quick: bool) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-c", RUN_ONE, str(path), "quick" if quick else "full"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    for line in out.stdout.splitlines():
        if line.startswith("ROWS "):
            return json.loads(line[5:])
    reason = (out.stderr.strip().splitlines() or ["no output"])[-1]
    return [
        {
            "name": f"{path.stem}: FAILED",
            "value": "-",
            "baseline": reason[:80],
            "ratio": None,
            "target": "runs",
            "ok": False,
        }
    ]


def table(rows: list[dict]) -> str:
    header = ("benchmark", "labsock", "ratio", "target", "ok", "baseline")
    lines = [
        (
            row["name"],
            row["value"],
            "" if row["ratio"] is None else f"{row['ratio']:.2f}x",
            row["target"],
            "ok" if row["ok"] else "MISS",
            row["baseline"],
        )
        for row in rows
    ]
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header) - 1)]
    out = []
    for index, line in enumerate([header, *lines]):
        cells = [str(cell).ljust(width) for cell, width in zip(line[:-1], widths, strict=True)]
        cells.append(line[-1])
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths) + "  " + "-" * 8)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about a minute)")
    parser.add_argument("--only", nargs="*", help="topics to run, e.g. udp import")
    args = parser.parse_args(argv)
    paths = sorted(HERE.glob("bench_*.py"))
    if args.only:
        paths = [p for p in paths if p.stem.removeprefix("bench_") in args.only]
    rows = []
    for path in paths:
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        rows.extend(run_one(path, args.quick))
    print(table(rows))
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
