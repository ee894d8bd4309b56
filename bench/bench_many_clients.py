"""Many counting clients, one labsock UDP server, loopback: is every message accounted for?

    python bench/bench_many_clients.py [--quick]

1,000 clients (and then 2,000) each send 1..100, 1, ... at 10 messages a second to one
UDPServer(reply="none") for a bounded time. Every number is then checked with the sequence
tracker: zero missing, zero duplicated, zero out of order. Also measured: the server's CPU
against a textbook recvfrom loop under the same load (the baseline), and what it costs to
simulate the clients with a thread each (CountingClient) against a few sender threads each
driving many bound sockets (the "fleet").

The clients run in a child process, so they don't share the server's interpreter lock; with two
CPUs or more the server is pinned to one and the clients to another. The server keeps every
message (a large log) so the check sees them all. Loopback only; bounded in time.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import labsock  # noqa: E402
from bench.common import print_rows  # noqa: E402
from labsock.logic.sequence import SequenceTracker, parse_number  # noqa: E402
from labsock.net.counting import CountingClient  # noqa: E402
from labsock.show.counting_view import CountingView  # noqa: E402

RATE = 10.0  # messages a second from each client


# The CPUs this process may use, read once: measure() then pins the server to the first.
_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def cpus() -> tuple[set[int] | None, set[int] | None]:
    """(server CPUs, client CPUs): one each when there are two or more."""
    if len(_CPUS) < 2:
        return None, None
    return {_CPUS[0]}, {_CPUS[1]}


def pin(which: set[int] | None) -> None:
    if which and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, which)


# -- the clients (child process) -----------------------------------------------------------------


def fleet(port, clients, seconds, threads, cpu, out, in_step=False) -> None:
    """`clients` bound sockets, driven by `threads` threads, each socket RATE messages a second.

    in_step: all clients send at the same moment of each period (bursts), instead of spread out.
    """
    pin(cpu)
    socks = []
    for _ in range(clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.connect(("127.0.0.1", port))
        socks.append(s)
    sent = [0] * clients
    period = 1.0 / RATE
    start = time.monotonic() + 0.2
    end = start + seconds
    late = [0.0] * threads

    def drive(k: int) -> None:
        mine = range(k, clients, threads)
        # Client i sends at start + i/clients of a period, so the load is spread evenly.
        phase = {i: 0.0 if in_step else i / clients * period for i in mine}
        tick = 0
        while True:
            base = start + tick * period
            if base >= end:
                return
            for i in mine:
                due = base + phase[i]
                wait = due - time.monotonic()
                if wait > 0.001:
                    time.sleep(wait)
                else:
                    late[k] = max(late[k], -wait)
                socks[i].send(str(sent[i] % 100 + 1).encode())
                sent[i] += 1
            tick += 1

    cpu_start = time.process_time()
    workers = [threading.Thread(target=drive, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.monotonic() - start
    out.send(
        {
            "ports": [s.getsockname()[1] for s in socks],
            "sent": sent,
            "cpu": (time.process_time() - cpu_start) / wall,
            "late_ms": max(late) * 1000,
        }
    )
    for s in socks:
        s.close()


def thread_per_client(port, clients, seconds, threads, cpu, out, in_step=False) -> None:
    """The same load from `clients` CountingClient objects: one thread each."""
    pin(cpu)
    count = int(seconds * RATE)
    made = [
        CountingClient(bind_port=0, port=port, delay=1.0 / RATE, count=count)
        for _ in range(clients)
    ]
    cpu_start = time.process_time()
    start = time.monotonic()
    for c in made:
        c.start()
    for c in made:
        c.wait(seconds * 3 + 10)
    wall = time.monotonic() - start
    out.send(
        {
            "ports": [c.bind_port for c in made],
            "sent": [c.sent for c in made],
            "cpu": (time.process_time() - cpu_start) / wall,
            "late_ms": (wall - seconds) * 1000,  # how far the slowest finished behind schedule
        }
    )


def run_clients(kind, port, clients, seconds, threads, cpu, in_step=False):
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=kind, args=(port, clients, seconds, threads, cpu, send, in_step))
    child.start()
    return child, receive


# -- the servers ---------------------------------------------------------------------------------


def labsock_run(kind, clients, seconds, threads=2, in_step=False, follow=False) -> dict:
    """follow: a Task 3 view counts along, 10 updates a second, with the default log size."""
    server_cpu, client_cpu = cpus()
    capacity = int(clients * RATE * (seconds + 2))
    log_size = 10_000 if follow else capacity
    with labsock.UDPServer(port=0, reply="none", log_size=log_size) as server:
        view = CountingView(server, widget=False) if follow else None
        updates: list[float] = []
        stop_view = threading.Event()

        def follow_log():
            while not stop_view.wait(0.1):
                began = time.perf_counter()
                view.update()
                view.html()  # what a redraw renders
                updates.append(time.perf_counter() - began)

        follower = threading.Thread(target=follow_log, daemon=True)
        if follow:
            follower.start()
        child, results = run_clients(
            kind, server.port, clients, seconds, threads, client_cpu, in_step
        )
        cpu_start, wall_start = time.process_time(), time.monotonic()
        report = results.recv()  # the clients are done
        cpu = (time.process_time() - cpu_start) / (time.monotonic() - wall_start)
        child.join()
        total = sum(report["sent"])
        server.log.wait_for(total, timeout=5)
        if follow:
            stop_view.set()
            follower.join()
            view.update()
            return {
                "sent": total,
                "received": server.log.message_count,
                "counted": sum(s.received for s in view.tracker.all_stats()),
                "missing": sum(s.missing for s in view.tracker.all_stats()),
                "skipped": view.skipped,
                "update_ms": sorted(updates)[len(updates) // 2] * 1000 if updates else 0.0,
                "update_max_ms": max(updates, default=0.0) * 1000,
                "server_cpu": cpu,
            }
        messages = server.log.messages()
        buffer = server.receive_buffer
    tracker = SequenceTracker()
    for m in messages:
        tracker.feed(m.port, parse_number(m.text))
    stats = [tracker.stats(p) for p in report["ports"] if p in tracker]
    return {
        "sent": total,
        "received": len(messages),
        "clients_heard": len(stats),
        "missing": sum(s.missing for s in stats),
        "duplicates": sum(s.duplicates for s in stats),
        "out_of_order": sum(s.out_of_order for s in stats),
        "server_cpu": cpu,
        "client_cpu": report["cpu"],
        "late_ms": report["late_ms"],
        "buffer": buffer,
        "pinned": server_cpu is not None,
    }


def raw_run(
    clients, seconds, threads=2, buffer: int | None = 4 * 1024 * 1024, in_step=False
) -> dict:
    """The baseline: a bare recvfrom loop that only counts, under the same load."""
    server_cpu, client_cpu = cpus()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)
    sock.bind(("127.0.0.1", 0))
    received = [0]

    def loop():
        while True:
            data, _ = sock.recvfrom(2048)
            if data == b"stop":
                return
            received[0] += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    child, results = run_clients(
        fleet, sock.getsockname()[1], clients, seconds, threads, client_cpu, in_step
    )
    cpu_start, wall_start = time.process_time(), time.monotonic()
    report = results.recv()
    cpu = (time.process_time() - cpu_start) / (time.monotonic() - wall_start)
    child.join()
    time.sleep(0.2)  # let the last datagrams in before the stop datagram
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as poke:
        poke.sendto(b"stop", sock.getsockname())
    thread.join(5)
    size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    sock.close()
    total = sum(report["sent"])
    return {"sent": total, "received": received[0], "server_cpu": cpu, "buffer": size}


# -- rows ----------------------------------------------------------------------------------------


def loss_row(name: str, r: dict, clients: int, aim: bool = False) -> dict:
    lost = r["sent"] - r["received"]
    clean = lost == 0 and not (r["missing"] or r["duplicates"] or r["out_of_order"])
    clean = clean and r["clients_heard"] == clients
    return {
        "name": name,
        "value": (
            f"{r['received']:,} of {r['sent']:,} received from {r['clients_heard']:,} ports; "
            f"missing {r['missing']}, duplicates {r['duplicates']}, "
            f"out of order {r['out_of_order']}; server CPU {r['server_cpu']:.0%}"
        ),
        "baseline": f"{r['sent']:,} sent",
        "ratio": r["received"] / r["sent"] if r["sent"] else None,
        "target": "= 1.00x, nothing missing" + (" (aim)" if aim else ""),
        "ok": clean,
    }


def measure(quick: bool = False) -> list[dict]:
    seconds = 2.0 if quick else 8.0
    pin(cpus()[0])  # the server here; each client process pins itself to another CPU
    rows = []

    ours = labsock_run(fleet, 1000, seconds)
    rows.append(loss_row(f"1,000 clients x 10 msg/s, {seconds:g} s", ours, 1000))

    raw = raw_run(1000, seconds)
    rows.append(
        {
            "name": "server CPU at 10,000 msg/s",
            "value": f"{ours['server_cpu']:.1%} of one CPU (log of every message)",
            "baseline": f"recvfrom loop that only counts: {raw['server_cpu']:.1%}",
            "ratio": ours["server_cpu"] / raw["server_cpu"] if raw["server_cpu"] else None,
            "target": "<= 3.0x",
            "ok": raw["server_cpu"] > 0 and ours["server_cpu"] <= 3.0 * raw["server_cpu"],
        }
    )

    big = labsock_run(fleet, 2000, seconds, threads=4)
    rows.append(loss_row(f"2,000 clients x 10 msg/s, {seconds:g} s", big, 2000, aim=True))

    threaded = labsock_run(thread_per_client, 1000, seconds)
    rows.append(loss_row("1,000 clients, one thread each (CountingClient)", threaded, 1000))
    rows.append(
        {
            "name": "client CPU: a thread per client vs 2 threads",
            "value": (
                f"{threaded['client_cpu']:.0%} of one CPU (finished "
                f"{threaded['late_ms']:.0f} ms behind schedule)"
            ),
            "baseline": f"fleet of 2 threads: {ours['client_cpu']:.0%} "
            f"(at most {ours['late_ms']:.1f} ms late)",
            "ratio": threaded["client_cpu"] / ours["client_cpu"] if ours["client_cpu"] else None,
            "target": "info",
            "ok": True,
        }
    )

    watched = labsock_run(fleet, 2000, seconds, threads=4, follow=True)
    rows.append(
        {
            "name": "Task 3 view following 2,000 clients (10 updates/s, log of 10,000)",
            "value": (
                f"counted {watched['counted']:,} of {watched['received']:,}, skipped "
                f"{watched['skipped']}, missing {watched['missing']}; an update takes "
                f"{watched['update_ms']:.1f} ms (max {watched['update_max_ms']:.1f}); "
                f"server + view CPU {watched['server_cpu']:.0%}"
            ),
            "baseline": f"{watched['sent']:,} sent",
            "ratio": watched["counted"] / watched["sent"] if watched["sent"] else None,
            "target": "= 1.00x, none skipped",
            "ok": watched["counted"] == watched["sent"] and not watched["skipped"],
        }
    )

    # In step: every client sends at the same moment, 1,000 datagrams in a burst each period.
    step = labsock_run(fleet, 1000, seconds, in_step=True)
    rows.append(loss_row("1,000 clients in step (bursts of 1,000)", step, 1000))
    small = raw_run(1000, seconds, buffer=None, in_step=True)
    rows.append(
        {
            "name": "why the core sets SO_RCVBUF: bursts, default buffer",
            "value": (
                f"recvfrom loop, default buffer ({small['buffer']:,} B): "
                f"{small['sent'] - small['received']:,} of {small['sent']:,} lost"
            ),
            "baseline": f"labsock, 4 MB asked ({step['buffer']:,} B): "
            f"{step['sent'] - step['received']:,} lost",
            "ratio": None,
            "target": "info",
            "ok": True,
        }
    )
    return rows


if __name__ == "__main__":
    print_rows(measure(quick="--quick" in sys.argv))
