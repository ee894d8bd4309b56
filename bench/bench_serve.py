"""`python -m labsock serve udp` as a student runs it from a terminal, against the textbook
UDPServer.py run the same way: each a process of its own, request/response, one in flight.

    python bench/bench_serve.py [--quick]

Server and client processes are all pinned to one CPU (a wake-up across CPUs costs more than the
work measured), so the ratio shows every cost the command adds, its main thread's included: the
main thread of `serve --quiet` must not wake per message, and the printing one batches its
wake-ups and its writes (here into a file, as a terminal would take them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bench.bench_udp import CLIENT  # noqa: E402
from bench.common import Comparison, client_seconds, pin_to_one_cpu, print_rows  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# Kurose & Ross's UDPServer.py, on a free port it prints first.
TEXTBOOK_SERVER = """
from socket import *
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', 0))
print(serverSocket.getsockname()[1], flush=True)
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    modifiedMessage = message.decode().upper()
    serverSocket.sendto(modifiedMessage.encode(), clientAddress)
"""


def start(prefix: list[str], args: list[str], output) -> tuple[subprocess.Popen, int]:
    """Start a server process writing to output (a file); returns it and the port it printed."""
    process = subprocess.Popen(
        [*prefix, sys.executable, *args], stdout=output, stderr=subprocess.DEVNULL, cwd=REPO
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # start-up only: the timed part comes after
        with open(output.name) as seen:
            first = seen.readline()
        if first.endswith("\n"):
            digits = first.split(":")[1].split()[0] if ":" in first else first
            return process, int(digits)
        time.sleep(0.01)
    process.kill()
    raise RuntimeError(f"{args} printed no port")


def rate(prefix: list[str], args: list[str], count: int) -> tuple[float, int]:
    """Requests a second through one server process; and how many lines it printed."""
    with tempfile.NamedTemporaryFile("w+", suffix=".out") as output:
        process, port = start(prefix, args, output)
        try:
            seconds = client_seconds(prefix, CLIENT, port, count)
            if "--count" in args:
                process.wait(30)  # it ends by itself once it has printed them all
        finally:
            process.terminate()
            process.wait(30)
        with open(output.name) as seen:
            lines = sum(1 for _ in seen)
    return count / seconds, lines


def measure(quick: bool = False) -> list[dict]:
    prefix = pin_to_one_cpu()
    count, rounds = (5_000, 3) if quick else (20_000, 5)
    textbook = ["-c", TEXTBOOK_SERVER]
    quiet = ["-m", "labsock", "serve", "udp", "--port", "0", "--quiet"]
    # --count: the client's warm-up, then the timed ones; it ends once it has printed them all.
    printing = ["-m", "labsock", "serve", "udp", "--port", "0", "--count", str(count + 200)]

    def printing_rate() -> float:
        speed, lines = rate(prefix, printing, count)
        if lines < count + 200:  # the listening line, then one line per message
            raise RuntimeError(f"serve printed {lines} lines for {count + 200} messages")
        return speed

    sides = {
        "raw": lambda: rate(prefix, textbook, count)[0],
        "quiet": lambda: rate(prefix, quiet, count)[0],
        "printing": printing_rate,
    }
    measured: dict[str, list[float]] = {name: [] for name in sides}
    for round_number in range(rounds):
        # Each round runs all three back to back, in turn first and last, so that neither the
        # textbook server nor ours always meets the warmer (or busier) moment of the machine.
        order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
        for name in order:
            measured[name].append(sides[name]())
    rows = []
    for name, side, target in (
        ("serve udp --quiet (a process)", "quiet", 0.90),
        ("serve udp, a line per message (a process)", "printing", 0.75),
    ):
        compared = Comparison(measured["raw"], measured[side])
        raw_rate, our_rate = compared.medians()
        rows.append(
            {
                "name": name,
                "value": f"{our_rate:,.0f} req/s",
                "baseline": f"textbook UDPServer.py process {raw_rate:,.0f} req/s; "
                f"{compared.spread}",
                "ratio": compared.ratio,
                "target": f">= {target:.2f}x",
                "ok": compared.ratio >= target,
            }
        )
    return rows


if __name__ == "__main__":
    print_rows(measure(quick="--quick" in sys.argv))
