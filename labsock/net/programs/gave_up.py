"""Why a client was stopped when its time ran out, in one paragraph: a %%client cell's, and
labsock.run_client's (`in_cell` says which the student used, so the advice fits it). The server
the student stopped there is named by labsock.net.programs.stopped, as in a refused connect's."""

from __future__ import annotations

import re

from labsock.logic.errors import explain
from labsock.logic.student_code import endless_sending_loop
from labsock.net.programs.job import Job, jobs
from labsock.net.programs.stopped import stopped_holder


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
    stopped = stopped_holder(job, proto, port, host, jobs())
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
