"""Which program of this notebook the student stopped where a client found nobody: named in a
%%client's gave-up paragraph (gave_up) and in a refused TCP connect's explanation (the program
asks the notebook, Job answers)."""

from __future__ import annotations

import time

from labsock.logic.holders import reaches
from labsock.net.ports_here import serving


def stopped_holder(job, proto: str, port: int, host: str | None, programs: list) -> str:
    """The program of this notebook that held the port and was stopped by the student (Stop,
    .stop(), stop_all), when nothing holds the port now; "" otherwise. A program that another
    one pushed off its port (stopped_because) is not this: its port is held. `host` is where the
    client sent or connected: a server of this laptop that it would not have reached (another
    laptop's address, another loopback address than it bound) is not named. programs: this
    notebook's programs (jobs()), given rather than imported: Job asks this too."""
    if serving(proto, port) is not None:
        return ""
    for other in reversed(programs):  # the newest first
        if other is job or other.running or other.stopped_at is None or other.stopped_because:
            continue
        held = [bound for p, bound, n in other.ports_used if p == proto and n == port]
        if any(reaches(bound, host, _my_addresses) for bound in held):
            when = time.strftime("%H:%M:%S", time.localtime(other.stopped_at))
            did = "sent" if proto == "udp" else "tried to connect"
            return (
                f"{other.name} was stopped (Stop button / .stop()) at {when}, and it held "
                f"{proto.upper()} port {port}, where this client {did}: nothing answers there "
                f"now. Run its cell again (%%background {other.name}), then this one."
            )
    return ""


def _my_addresses() -> list[str]:
    """This laptop's IPv4 addresses; none when they cannot be read (then nothing is named)."""
    try:
        from labsock.net.addresses import read_interfaces  # ifaddr: only on this rare path

        return [interface.ip for interface in read_interfaces()]
    except Exception:  # noqa: BLE001 (no ifaddr, or the system would not list them)
        return []
