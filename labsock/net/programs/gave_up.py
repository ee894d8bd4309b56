"""Why a client was stopped when its time ran out, in one paragraph: a %%client cell's, and
labsock.run_client's (`in_cell` says which the student used, so the advice fits it).

stopped_holder also answers a program whose TCP connect was refused (Job asks it for the
program's own explanation): the server the student stopped there is named the same way."""

from __future__ import annotations

import re
import time

from labsock.logic.errors import explain
from labsock.logic.holders import reaches
from labsock.logic.student_code import endless_sending_loop
from labsock.net.ports_here import serving
from labsock.net.programs.job import Job, jobs


def gave_up(job: Job, timeout: float, *, in_cell: bool) -> str:
    loop = endless_sending_loop(job.code)
    sent = job.sent + job.unrecorded_sent
    if loop is not None and sent > 1:
        return _sends_for_ever(job, timeout, loop, sent, in_cell)
    to = job.last_sent_to
    if to is not None:  # it sent, and is still there: waiting for the answer
        proto, (host, port) = to
        reason = _what_a_server_did(job, proto, host, port) or str(
            explain(TimeoutError(), action="receive", proto=proto, host=host, port=port)
        )
        return f"{job.name} waited {timeout:g} s and was stopped. {reason}"
    doing = f" (it was waiting in {job.waiting_in})" if job.waiting_in else ""
    slower = (
        f"%%client {job.name} --timeout 30"
        if in_cell
        else f"labsock.run_client(code, name={job.name!r}, timeout=30)"
    )
    return (
        f"{job.name} did not end within {timeout:g} s{doing}, so it was stopped. A client "
        "should end once it has its reply: does it wait for something that never comes? "
        f"For a slower program: {slower}"
    )


def _sends_for_ever(job: Job, timeout: float, loop, sent: int, in_cell: bool) -> str:
    """A client in an endless loop was stopped: say so, and that the server did answer."""
    received = [
        f"{other.name} received {other.log.message_count + other.unrecorded_received:,}"
        for other in receivers(job)
    ]
    servers = (
        f"; meanwhile {' and '.join(received)} messages, so the server is running"
        if received
        else ""
    )
    pace = (
        "it pauses, but nothing in it ends it"
        if loop.pauses
        else "nothing in it pauses, so it sends as fast as Python can"
    )
    waits, background = (
        ("a %%client cell", f"`%%background {job.name}`, with Stop under it")
        if in_cell
        else ("labsock.run_client", f"`labsock.background(code, name={job.name!r})`, then .stop()")
    )
    return (
        f"{job.name} was still sending when it was stopped after {timeout:g} s: it sent "
        f"{sent:,} messages{servers}. At line {loop.line.number}, `{loop.line.text}` never ends "
        f"({pace}), and {waits} waits for its program to end. A client that sends for "
        f"ever runs in the background ({background}); or end "
        "the loop (`for n in range(10):`), with a pause in it (`time.sleep(0.5)`)."
    )


def receivers(job: Job) -> list[Job]:
    """This notebook's other programs whose log holds a message from this client's ports."""
    ports = {port for _, _, port in job.ports_used}
    found = []
    for other in reversed(jobs()):  # the newest first
        if other is not job and any(m.port in ports for m in other.log.messages()):
            found.append(other)
    return found


# The textbook's lines, for the names a hint uses: "message, clientAddress = s.recvfrom(2048)",
# "connectionSocket, addr = serverSocket.accept()".
RECVFROM_LINE = re.compile(r"^\s*\w+\s*,\s*(\w+)\s*=\s*(\w+)\.recvfrom\(", re.MULTILINE)
ACCEPT_LINE = re.compile(r"^\s*(\w+)\s*,\s*\w+\s*=\s*\w+\.accept\(", re.MULTILINE)


def _what_a_server_did(job: Job, proto: str, host: str, port: int) -> str:
    """Why no reply came, from this notebook's programs: one got the message and ended, or got
    it and did not answer; or one waits in recvfrom unbound (no port: nothing reaches it).
    "" when they do not tell (the general advice then stands)."""
    for other in receivers(job):
        if not other.running:
            state = other.state().split(": ", 1)[-1]
            return (
                f"{other.name} received it, then {state}: its cell says why. Fix it, run its "
                "cell again, then this one."
            )
        if proto == "udp":
            found = RECVFROM_LINE.search(other.code)
            sock, address = (
                (found.group(2), found.group(1)) if found else ("serverSocket", "clientAddress")
            )
            fix = "send the reply to the address recvfrom gave, "
            fix += f"`{sock}.sendto(reply.encode(), {address})`"
        else:
            found = ACCEPT_LINE.search(other.code)
            connection = found.group(1) if found else "connectionSocket"
            fix = f"send the reply on the connection accept gave, `{connection}.send(...)`"
        return f"{other.name} received it (labsock saw it arrive), but no reply came back: {fix}."
    stopped = stopped_holder(job, proto, port, host)
    if stopped:
        return stopped
    if proto != "udp":
        return ""
    for other in reversed(jobs()):
        if (
            other is not job
            and other.running
            and other.waiting_in == "recvfrom"
            and not other.ports
        ):
            found = RECVFROM_LINE.search(other.code)
            sock = found.group(2) if found else "serverSocket"
            return (
                f"{other.name} waits in recvfrom on a socket it never bound, so it has no port "
                f"and no client can reach it: bind it before recvfrom, "
                f"`{sock}.bind(('127.0.0.1', {port}))`."
            )
    return ""


def stopped_holder(job: Job, proto: str, port: int, host: str | None = None) -> str:
    """The program of this notebook that held the port and was stopped by the student (Stop,
    .stop(), stop_all), when nothing holds the port now; "" otherwise. A program that another
    one pushed off its port (stopped_because) is not this: its port is held. `host` is where the
    client sent or connected: a server of this laptop that it would not have reached (another
    laptop's address, another loopback address than it bound) is not named."""
    if serving(proto, port) is not None:
        return ""
    for other in reversed(jobs()):  # the newest first
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
