"""The impairment relay: what a perfect relay adds to a UDP round trip, and how closely it keeps
the delay it was asked for. Baselines measured in the same run.

    python bench/bench_relay.py [--quick]

Everything in one process on one CPU (pinned): the relay is a thread in the notebook's kernel,
so that is how students run it.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bench.common import pin_to_one_cpu  # noqa: E402
from labsock import UDPServer  # noqa: E402
from labsock.logic.impairment import Impairment  # noqa: E402
from labsock.net.relay import UDPRelay  # noqa: E402


def round_trips(port: int, count: int, pause: float = 0.0) -> list[float]:
    """RTTs in microseconds, one request in flight."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        for _ in range(min(100, count)):  # warm-up
            s.send(b"x" * 32)
            s.recv(2048)
        rtts = []
        for _ in range(count):
            start = time.perf_counter()
            s.send(b"x" * 32)
            s.recv(2048)
            rtts.append((time.perf_counter() - start) * 1e6)
            if pause:
                time.sleep(pause)
    return rtts


def measure(quick: bool = False) -> list[dict]:
    pin_to_one_cpu()
    count = 500 if quick else 3000
    rows = []
    with UDPServer(port=0, reply="echo") as server:
        direct = statistics.median(round_trips(server.port, count))
        with UDPRelay(0, ("127.0.0.1", server.port)) as relay:
            relayed = statistics.median(round_trips(relay.port, count))
        ratio = relayed / direct
        rows.append(
            {
                "name": "UDP RTT through a perfect relay (median)",
                "value": f"{relayed:.0f} µs",
                "baseline": f"{direct:.0f} µs direct to the server",
                "ratio": round(ratio, 2),
                "target": "adds < 1 ms (the ratio is for information: two extra hops)",
                "ok": relayed - direct < 1000,
            }
        )
        delay_ms = 20
        with UDPRelay(
            0, ("127.0.0.1", server.port), network=Impairment(delay_ms=delay_ms)
        ) as relay:
            n = 30 if quick else 150
            delayed = round_trips(relay.port, n, pause=0.002)
        # The delay is asked for twice (there and back); what is left over is the relay's error.
        extra = [rtt - 2 * delay_ms * 1000 - direct for rtt in delayed]
        error = statistics.median(extra)
        rows.append(
            {
                "name": f"delay kept: RTT with {delay_ms} ms each way, minus 2 x {delay_ms} ms",
                "value": f"{error:.0f} µs late (median), {max(extra):.0f} µs worst",
                "baseline": f"{2 * delay_ms * 1000} µs asked for",
                "ratio": round((error + 2 * delay_ms * 1000) / (2 * delay_ms * 1000), 4),
                "target": "<= 1.05x (late by under 2 ms)",
                "ok": error < 2000,
            }
        )
    return rows


if __name__ == "__main__":
    for row in measure(quick="--quick" in sys.argv):
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        mark = "ok" if row["ok"] else "MISSED"
        print(
            f"{row['name']}: {row['value']} (baseline {row['baseline']}) {ratio} "
            f"target {row['target']}: {mark}"
        )
