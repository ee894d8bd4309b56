"""What labsock adds before each plain cell runs: warn_plain_server reads the cell (is it a server
that would freeze the kernel?), against parsing the cell once, measured in the same run.

    python bench/bench_cell_check.py [--quick]

The cell is 100 lines of calls and no server, the case where every call is looked at. Each side's
fastest of several rounds counts (timeit's rule: other work on the machine only ever adds time).
"""

from __future__ import annotations

import ast
import os
import sys
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bench.common import print_rows  # noqa: E402
from labsock.logic.student_code import _source_lines, blocking_server  # noqa: E402

CELL = "\n".join(f"value{i} = labsock.thing{i}(data.get({i}), other.call({i}))" for i in range(100))


def measure(quick: bool = False) -> list[dict]:
    rounds, number = (3, 5) if quick else (7, 20)

    def check():
        _source_lines.cache_clear()  # each cell is new to it
        blocking_server(CELL)

    parse = min(timeit.repeat(lambda: ast.parse(CELL), number=number, repeat=rounds)) / number
    ours = min(timeit.repeat(check, number=number, repeat=rounds)) / number
    ratio = ours / parse
    return [
        {
            "name": "plain-cell server check (100 lines of calls)",
            "value": f"{ours * 1e3:.1f} ms",
            "baseline": f"ast.parse of the cell {parse * 1e3:.2f} ms",
            "ratio": ratio,
            "target": "<= 15x (was about 1,800x, 2.8 s: the source split again per call)",
            "ok": ratio <= 15,
        }
    ]


if __name__ == "__main__":
    print_rows(measure(quick="--quick" in sys.argv))
