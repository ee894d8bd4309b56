"""A student's program under labsock's bootstrap, against the same program run plainly.

    python bench/bench_programs.py [--quick]

- request rate: the textbook UDPServer.py answering a client one request at a time, run as
  `python server.py` and run by labsock.background (which watches and logs every datagram);
- start to ready: from starting a background program to the moment it waits in recvfrom (when
  a %%background cell returns), against a bare interpreter's start (`python -c pass`);
- stop: from stop() to the program ended and its port free; and whether the port binds at once.

Client and servers are pinned to one CPU, as in the other benchmarks.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import labsock  # noqa: E402
from bench.bench_udp import CLIENT  # noqa: E402
from bench.common import client_seconds, interleaved, pin_to_one_cpu, print_rows  # noqa: E402
from tests.textbook import UDP_SERVER  # noqa: E402

ALL_CPUS = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()
PROGRAM_CPU = min(ALL_CPUS) if ALL_CPUS else 0

SERVER = UDP_SERVER  # the textbook's, with print and all


def pin_process(pid: int) -> None:
    """Every thread of process pid onto the client's CPU (the plain server runs there too).

    In a notebook the kernel (which reads the program's reports) and the program are separate
    processes, which any laptop with two cores runs side by side; here the kernel's part (this
    process and its reader threads) stays on the other CPU, as the plain run's parent does.
    """
    if not hasattr(os, "sched_setaffinity") or len(ALL_CPUS) < 2:
        return
    for thread in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(thread), {PROGRAM_CPU})
        # On Linux the process started is a supervisor; the program is its child.
        with open(f"/proc/{pid}/task/{thread}/children") as children:
            for child in children.read().split():
                pin_process(int(child))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def plain_rate(prefix: list[str], folder: str, count: int) -> float:
    port = free_port()
    path = os.path.join(folder, "plain_server.py")
    with open(path, "w") as file:
        file.write(SERVER.format(port=port))
    server = subprocess.Popen(
        [*prefix, sys.executable, "-u", path], stdout=subprocess.PIPE, text=True
    )
    try:
        server.stdout.readline()  # "The server is ready to receive"
        return count / client_seconds(prefix, CLIENT, port, count)
    finally:
        server.kill()
        server.wait()
        server.stdout.close()


def watched_rate(prefix: list[str], folder: str, count: int) -> float:
    port = free_port()
    job = labsock.background(
        SERVER.format(port=port), "bench_server", folder=folder, log_size=count + 1000
    )
    pin_process(job.pid)  # the program, all its threads, beside the client
    try:
        rate = count / client_seconds(prefix, CLIENT, port, count)
        job.catch_up()
        logged = job.log.message_count + job.unrecorded_received
        assert logged == count + 200, f"every request must be seen: {logged}"
        return rate
    finally:
        job.stop()


def interpreter_start(times: int) -> float:
    spent = []
    for _ in range(times):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        spent.append(time.perf_counter() - t0)
    return statistics.median(spent) * 1000


def start_and_stop(folder: str, times: int) -> tuple[float, float, int]:
    """Median ms to ready, median ms to stopped, and how often the port did not bind at once."""
    ready, stopped, refused = [], [], 0
    for _ in range(times):
        port = free_port()
        t0 = time.perf_counter()
        job = labsock.background(SERVER.format(port=port), "bench_start", folder=folder)
        t1 = time.perf_counter()
        assert job.waiting_in == "recvfrom", job.state()
        job.stop()
        t2 = time.perf_counter()
        ready.append(t1 - t0)
        stopped.append(t2 - t1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
            try:
                again.bind(("127.0.0.1", port))
            except OSError:
                refused += 1
    return statistics.median(ready) * 1000, statistics.median(stopped) * 1000, refused


def measure(quick: bool = False) -> list[dict]:
    prefix = pin_to_one_cpu()  # the client's prefix; this process moves off that CPU below
    if hasattr(os, "sched_setaffinity") and len(ALL_CPUS) > 1:
        os.sched_setaffinity(0, ALL_CPUS - {PROGRAM_CPU})
    count, rounds, times = (5_000, 3, 10) if quick else (20_000, 5, 30)
    with tempfile.TemporaryDirectory() as folder:
        compared = interleaved(
            lambda: plain_rate(prefix, folder, count),
            lambda: watched_rate(prefix, folder, count),
            rounds,
        )
        plain_median, watched_median = compared.medians()
        bare = interpreter_start(times)
        ready_ms, stop_ms, refused = start_and_stop(folder, times)
    ratio = compared.ratio
    return [
        {
            "name": "student's UDP server under labsock",
            "value": f"{watched_median:,.0f} req/s",
            "baseline": f"the same program run plainly {plain_median:,.0f} req/s; "
            f"{compared.spread}",
            "ratio": ratio,
            # The aim is 0.90x; recording every datagram in Python (about half a
            # microsecond each, so that a gap in the record never looks like a loss) costs more.
            "target": ">= 0.75x (aim 0.90x)",
            "ok": ratio >= 0.75,
        },
        {
            "name": "background program start to ready",
            "value": f"{ready_ms:.0f} ms",
            "baseline": f"bare `python -c pass` {bare:.0f} ms",
            "ratio": ready_ms / bare,
            "target": "<= 150 ms",
            "ok": ready_ms <= 150,
        },
        {
            "name": "background program stop, port free",
            "value": f"{stop_ms:.1f} ms",
            "baseline": f"port refused after stop {refused} of {times}",
            "ratio": None,
            "target": "<= 50 ms, never refused",
            "ok": stop_ms <= 50 and refused == 0,
        },
    ]


if __name__ == "__main__":
    print_rows(measure(quick="--quick" in sys.argv))
