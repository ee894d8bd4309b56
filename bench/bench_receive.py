"""Receive rate of a labsock UDP server (reply='none', every datagram timestamped and logged)
against a raw recvfrom loop, both draining the same burst of datagrams. Ratio of the two rates,
measured in the same run.

    python bench/bench_receive.py [--quick]

Each round first fills the socket's receive buffer while the receiver is held back, then lets it
go and times how long it takes to take every datagram in: that is the receiving side's own speed,
not the sender's. The labsock server is held back by holding its log's lock (it then waits in its
first append); the raw loop by an Event after its first datagram.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import labsock  # noqa: E402
from bench.common import interleaved, pin_to_one_cpu, print_rows  # noqa: E402
from labsock.net.sockets import UDP_RECEIVE_BUFFER  # noqa: E402

PAYLOAD = b"a sentence of about thirty-two b"
GATE = b"gate"


def fill(port: int, count: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.connect(("127.0.0.1", port))
        sender.send(GATE)
        for _ in range(count):
            sender.send(PAYLOAD)


def burst_size() -> int:
    """How many datagrams the receive buffer holds with room to spare (none may be dropped)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
        buffer = probe.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    # A small datagram takes about 1 KB of buffer on Linux (its bookkeeping, not its bytes).
    return max(200, min(8000, buffer // 2048))


def raw_seconds(count: int) -> float:
    """The textbook loop: recvfrom(2048) and nothing else."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
    sock.bind(("127.0.0.1", 0))
    go, done = threading.Event(), []

    def loop():
        sock.recvfrom(2048)  # the gate
        go.wait()
        start = time.perf_counter()
        for _ in range(count):
            sock.recvfrom(2048)
        done.append(time.perf_counter() - start)

    thread = threading.Thread(target=loop)
    thread.start()
    fill(sock.getsockname()[1], count)
    go.set()
    thread.join(30)
    sock.close()
    if not done:
        raise RuntimeError("raw loop did not receive the whole burst (datagrams dropped?)")
    return done[0]


class HeldUDPServer(labsock.UDPServer):
    """A labsock UDP server whose thread waits for go before it takes its first datagram."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.go = threading.Event()

    def _serve(self):
        self.go.wait()
        super()._serve()


def labsock_seconds(count: int) -> float:
    server = HeldUDPServer(port=0, reply="none", log_size=count + 10).start()
    fill(server.port, count)
    start = time.time()
    server.go.set()
    # Polled, not log.wait_for, so that no waiting reader shares the CPU with the server; the time
    # comes from the server's own stamp on the last datagram, not from this loop.
    deadline = time.monotonic() + 30
    while server.log.message_count < count + 1 and time.monotonic() < deadline:
        time.sleep(0.002)
    entries = server.log.messages()
    server.stop()
    if len(entries) != count + 1:
        raise RuntimeError(f"labsock logged {len(entries)} of {count + 1} datagrams (dropped?)")
    return entries[-1].time - start


def measure(quick: bool = False) -> list[dict]:
    pin_to_one_cpu()
    count = burst_size()
    rounds = 5 if quick else 15
    compared = interleaved(
        lambda: count / raw_seconds(count), lambda: count / labsock_seconds(count), rounds
    )
    raw_rate, our_rate = compared.medians()
    ratio = compared.ratio
    return [
        {
            "name": "UDP receive rate (logged, no reply)",
            "value": f"{our_rate:,.0f} msg/s",
            "baseline": f"raw recvfrom loop {raw_rate:,.0f} msg/s, bursts of {count}; "
            f"{compared.spread}",
            "ratio": ratio,
            "target": ">= 0.75x",
            "ok": ratio >= 0.75,
        }
    ]


if __name__ == "__main__":
    print_rows(measure(quick="--quick" in sys.argv))
