"""What the benchmarks share: pinning to one CPU, and printing rows (see run_all.py)."""

from __future__ import annotations

import os
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
