"""The CPU a student's program pays for each datagram under labsock's bootstrap.

    python bench/bench_bootstrap_cost.py [--quick]

A sendto and a recvfrom on loopback, by the watched socket class against socket.socket, in one
process, interleaved round by round; each side's figure is its fastest round, in CPU time of the
program's thread: on a machine others share, the wall clock measures them more than us
(bench_programs.py gives the whole textbook server's rate). A third row: the same with an audit
hook installed, which the bootstrap starts only once the program loads a C extension from
outside the standard library (every sendto then raises an audit event).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bench.common import print_rows  # noqa: E402
from labsock.net.programs import bootstrap  # noqa: E402


def reporter() -> bootstrap.Reporter:
    """A reporter whose notebook end reads and drops everything."""
    ours, notebook = socket.socketpair()

    def drop() -> None:
        while notebook.recv(1 << 20):
            pass

    threading.Thread(target=drop, daemon=True).start()
    made = bootstrap.Reporter(ours)
    made.waited = True  # past the first wait, as a server is
    return made


def microseconds_a_datagram(kind: type, count: int) -> float:
    receiver, sender = (
        kind(socket.AF_INET, socket.SOCK_DGRAM),
        kind(socket.AF_INET, socket.SOCK_DGRAM),
    )
    with receiver, sender:
        receiver.bind(("127.0.0.1", 0))
        address = receiver.getsockname()
        start = time.thread_time()
        for _ in range(count):
            sender.sendto(b"input lowercase sentence", address)
            receiver.recvfrom(2048)
        return (time.thread_time() - start) / count * 1e6


def fastest(kinds: dict, rounds: int, count: int, report: bootstrap.Reporter) -> dict:
    best = {name: float("inf") for name in kinds}
    for _ in range(rounds):
        for name, kind in kinds.items():
            best[name] = min(best[name], microseconds_a_datagram(kind, count))
            report.flush()
    return best


def measure(quick: bool = False) -> list[dict]:
    rounds, count = (10, 1000) if quick else (40, 2000)
    report = reporter()
    watched, _raw = bootstrap.watched_socket_class(report)
    kinds = {"plain": socket.socket, "watched": watched}
    before = fastest(kinds, rounds, count, report)
    sys.addaudithook(report.audited.__setitem__)  # as after a C extension loads
    after = fastest(kinds, rounds, count, report)
    plain = before["plain"]
    row = {"target": "<= 1.40x", "baseline": f"socket.socket {plain:.2f} us"}
    return [
        {**row, "name": "sendto + recvfrom, watched", "value": f"{before['watched']:.2f} us",
         "ratio": before["watched"] / plain, "ok": before["watched"] / plain <= 1.40},
        {**row, "name": "the same, with the audit hook", "value": f"{after['watched']:.2f} us",
         "ratio": after["watched"] / plain, "ok": True, "target": "for information"},
    ]  # fmt: skip


if __name__ == "__main__":
    print_rows(measure(quick="--quick" in sys.argv))
