"""UDP request/response through a labsock server (logging on) against the textbook raw loop, and
server start/stop latency. Ratios against a baseline measured in the same run.

    python bench/bench_udp.py [--quick]

The client runs in a separate process so it does not share the server's interpreter lock; both
are pinned to one CPU, because a wake-up across CPUs costs more than the work being measured.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import labsock  # noqa: E402
from bench.common import (  # noqa: E402
    Comparison,
    client_seconds,
    interleaved,
    pin_to_one_cpu,
    print_rows,
)

CLIENT = r"""
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(("127.0.0.1", port))
message = b"a sentence of about thirty-two b"
for _ in range(200):  # warm-up
    s.send(message); s.recv(2048)
start = time.perf_counter()
for _ in range(count):
    s.send(message); s.recv(2048)
print(time.perf_counter() - start)
"""


def raw_server() -> tuple[int, threading.Thread]:
    """The Kurose & Ross UDPServer.py loop: recvfrom, decode, upper, encode, sendto."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def loop():
        while True:
            message, client = sock.recvfrom(2048)
            if message == b"stop":
                break
            sock.sendto(message.decode().upper().encode(), client)
        sock.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return sock.getsockname()[1], thread


def stop_raw(port: int, thread: threading.Thread) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"stop", ("127.0.0.1", port))
    thread.join()


def request_response(prefix: list[str], count: int, rounds: int) -> Comparison:
    """Requests a second, raw and labsock, over interleaved rounds."""

    def raw() -> float:
        port, thread = raw_server()
        rate = count / client_seconds(prefix, CLIENT, port, count)
        stop_raw(port, thread)
        return rate

    def ours() -> float:
        server = labsock.UDPServer(port=0, reply="upper", log_size=count + 1000).start()
        rate = count / client_seconds(prefix, CLIENT, server.port, count)
        logged = server.log.message_count
        server.stop()
        assert logged == count + 200, "every request must be in the log"
        return rate

    return interleaved(raw, ours, rounds)


def start_stop(kind, times: int) -> tuple[float, float]:
    starts, stops = [], []
    for _ in range(times):
        t0 = time.perf_counter()
        server = kind(port=0).start()
        t1 = time.perf_counter()
        server.stop()
        t2 = time.perf_counter()
        starts.append(t1 - t0)
        stops.append(t2 - t1)
    return statistics.median(starts) * 1000, statistics.median(stops) * 1000


def measure(quick: bool = False) -> list[dict]:
    prefix = pin_to_one_cpu()
    count, rounds = (5_000, 3) if quick else (20_000, 5)
    compared = request_response(prefix, count, rounds)
    raw, ours = compared.medians()
    ratio = compared.ratio
    rows = [
        {
            "name": "UDP request/response (upper, logged)",
            "value": f"{ours:,.0f} req/s",
            "baseline": f"raw recvfrom/sendto loop {raw:,.0f} req/s; {compared.spread}",
            "ratio": ratio,
            "target": ">= 0.90x",
            "ok": ratio >= 0.90,
        }
    ]
    for kind in (labsock.UDPServer, labsock.TCPServer):
        start_ms, stop_ms = start_stop(kind, 50 if quick else 200)
        for what, ms in (("start", start_ms), ("stop", stop_ms)):
            rows.append(
                {
                    "name": f"{kind.protocol.upper()} server {what}, median",
                    "value": f"{ms:.3f} ms",
                    "baseline": "target 1 ms",
                    "ratio": ms / 1.0,
                    "target": "<= 1 ms",
                    "ok": ms <= 1.0,
                }
            )
    return rows


if __name__ == "__main__":
    print_rows(measure(quick="--quick" in sys.argv))
