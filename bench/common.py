"""What the benchmarks share: pinning to one CPU, interleaved rounds judged by their median, and
printing rows (see run_all.py)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys


def pin_to_one_cpu() -> list[str]:
    """Pin this process to one CPU (a wake-up across CPUs costs more than the work measured);
    return the command prefix that pins a client process to the same CPU."""
    if not hasattr(os, "sched_setaffinity"):
        return []
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    has_taskset = any(os.access(os.path.join(d, "taskset"), os.X_OK) for d in os.get_exec_path())
    return ["taskset", "-c", str(cpu)] if has_taskset else []


def print_rows(rows: list[dict]) -> None:
    for row in rows:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        flag = "ok" if row["ok"] else "BELOW TARGET"
        print(
            f"{row['name']:<40} {row['value']:>16}  {ratio:>7}  "
            f"({row['target']}; {row['baseline']})  {flag}"
        )


def client_seconds(prefix: list[str], script: str, port: int, count: int) -> float:
    """Run a client script in its own process (its own interpreter lock); the seconds it prints."""
    out = subprocess.run(
        [*prefix, sys.executable, "-c", script, str(port), str(count)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(out.stdout)


class Comparison:
    """Two sides measured over the same rounds: per side its figures, per round their ratio.

    The ratio judged is the median of the per-round ratios (ours / baseline): each round's two
    sides ran back to back, so a slow moment of the machine hits both; the spread (lowest and
    highest round) says how far one run could have been misled.
    """

    def __init__(self, baseline: list[float], ours: list[float]):
        self.baseline, self.ours = baseline, ours
        self.ratios = [o / b for o, b in zip(ours, baseline, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def spread(self) -> str:
        return f"rounds {min(self.ratios):.2f}-{max(self.ratios):.2f}x of {len(self.ratios)}"

    def medians(self) -> tuple[float, float]:
        return statistics.median(self.baseline), statistics.median(self.ours)


def interleaved(baseline, ours, rounds: int) -> Comparison:
    """Measure baseline() and ours() `rounds` times each, interleaved, the first of each round
    alternating (A B, B A, A B, ...) so that neither side always runs on a warmer machine."""
    base, mine = [], []
    for round_number in range(rounds):
        if round_number % 2:
            mine.append(ours())
            base.append(baseline())
        else:
            base.append(baseline())
            mine.append(ours())
    return Comparison(base, mine)
