"""Self-checks: labsock tries the student's running programs from outside and says what works.

    labsock.check_udp_server(port=12000, program="udp_server")

Each check sends real messages to the student's program (on this laptop), reads what labsock's
bootstrap saw the program do, and answers with a checklist: each point passes or fails, and a
failing point says what to look at. A check never changes the program; it can run again any time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from html import escape

from labsock.logic.errors import LabsockError
from labsock.logic.replies import reply_function
from labsock.logic.sequence import LAP, SequenceTracker, parse_number
from labsock.net.clients import send_tcp, send_udp
from labsock.net.interrupts import interruptible
from labsock.net.programs.job import Job, job

# Sent by every server check: plain words, a second client, and text beyond ASCII.
FIRST, SECOND, BEYOND_ASCII = "input lowercase sentence", "another client here", "grüße, señor"


@dataclass
class Point:
    """One point of a checklist: what was checked, whether it holds, and what to look at."""

    what: str
    ok: bool | None  # None: could not be checked yet
    hint: str = ""

    @property
    def mark(self) -> str:
        return {True: "ok", False: "NO", None: "--"}[self.ok]


@dataclass
class Checklist:
    title: str
    points: list[Point] = field(default_factory=list)

    def add(self, what: str, ok: bool | None, hint: str = "") -> bool:
        self.points.append(Point(what, ok, "" if ok else hint))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return all(point.ok for point in self.points)

    def summary(self) -> str:
        good = sum(1 for point in self.points if point.ok)
        if self.passed:
            return f"{self.title}: all {len(self.points)} checks pass."
        return f"{self.title}: {good} of {len(self.points)} checks pass."

    def __str__(self) -> str:
        lines = [self.summary()]
        for point in self.points:
            lines.append(f"  {point.mark:<2}  {point.what}")
            if point.hint:
                lines.append(f"        {point.hint}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {True: "#080", False: "#b00", None: "#888"}
        # Left-aligned, top-aligned (JupyterLab aligns table cells right): the mark, the point,
        # and a NO's hint right after its point, so each row reads left to right.
        cell = "style='text-align: left; vertical-align: top'"
        rows = "".join(
            f"<tr><td {cell[:-1]}; color:{colour[p.ok]}; font-weight: bold'>{p.mark}</td>"
            f"<td {cell}>{escape(p.what)}"
            + (f" — <i>{escape(p.hint)}</i>" if p.hint else "")
            + "</td></tr>"
            for p in self.points
        )
        return f"<div><b>{escape(self.summary())}</b><table>{rows}</table></div>"


def _program(name: str | None, checklist: Checklist) -> Job | None:
    """The student's program of that name, noted in the checklist."""
    if name is None:
        return None
    try:
        found = job(name)
    except LabsockError as exc:
        checklist.add(f"a program called {name} runs", False, str(exc))
        return None
    checklist.add(
        f"a program called {name} runs",
        found.running,
        f"{found.state()}. Run its cell again; if it failed, its cell says at which line.",
    )
    return found if found.running else None


def _listens(program: Job | None, proto: str, port: int, checklist: Checklist) -> None:
    if program is None:
        return
    ports = [p for kind, _, p in program.ports if kind == proto]
    checklist.add(
        f"it listens on {proto.upper()} port {port}",
        port in ports,
        f"It holds {', '.join(f'{kind.upper()} {p}' for kind, _, p in program.ports) or 'no port'}"
        f": bind the server's socket to port {port} (serverPort = {port}), and use "
        + ("SOCK_DGRAM for UDP." if proto == "udp" else "SOCK_STREAM for TCP."),
    )


def _exchange(proto: str, text: str, host: str, port: int, timeout: float) -> str | LabsockError:
    try:
        if proto == "udp":
            return str(send_udp(text, host, port, timeout=timeout))
        return str(send_tcp(text, host, port, timeout=timeout)).rstrip("\n")
    except LabsockError as exc:
        return exc


def _replies(
    checklist: Checklist, proto: str, host: str, port: int, expected, timeout: float
) -> list[str]:
    """The three messages every server check sends, each from a new client port."""
    sent = []
    for text, what in (
        (FIRST, f"{FIRST!r} comes back as {expected(FIRST)!r}"),
        (SECOND, "a second client, from another port, gets its own reply"),
        (
            BEYOND_ASCII,
            f"text beyond ASCII: {BEYOND_ASCII!r} comes back as {expected(BEYOND_ASCII)!r}",
        ),  # fmt: skip
    ):
        got = _exchange(proto, text, host, port, timeout)
        if isinstance(got, LabsockError):
            checklist.add(what, False, str(got))
            continue
        sent.append(text)
        checklist.add(
            what,
            got == expected(text),
            f"The reply was {got!r}. The server must decode the bytes (message.decode()), change "
            "the text, encode the reply, and send it to the address recvfrom gave"
            + (" (clientAddress)." if proto == "udp" else " back on the connection."),
        )
    return sent


def _saw_arrive(program: Job | None, texts: list[str], checklist: Checklist) -> None:
    if program is None or not texts:
        return
    arrived = [m.text.rstrip("\n") for m in program.log.messages()]
    missing = [t for t in texts if t not in arrived]
    checklist.add(
        "labsock saw each message arrive at your program",
        not missing,
        f"Not seen: {missing}. Is the reply coming from this program, or from another server on "
        "the same port (labsock.jobs() lists yours)?",
    )


def check_server(
    port: int = 12000,
    *,
    proto: str = "udp",
    program: str | None = "udp_server",
    reply="upper",
    host: str = "127.0.0.1",
    timeout: float = 2.0,
) -> Checklist:
    """Check a student's server: it runs, listens, and answers each client as `reply` would."""
    expected = reply_function(reply)
    checklist = Checklist(f"Your {proto.upper()} server on port {port}")
    found = _program(program, checklist)
    if program is not None and found is None:
        return checklist  # the rest follows from that first point: its hint says what to do
    _listens(found, proto, port, checklist)
    sent = _replies(checklist, proto, host, port, expected, timeout)
    _saw_arrive(found, sent, checklist)
    return checklist


def check_udp_server(port: int = 12000, *, program: str | None = "udp_server", **options):
    return check_server(port, proto="udp", program=program, **options)


def check_tcp_server(port: int = 12000, *, program: str | None = "tcp_server", **options):
    """As the UDP check; each message comes on a new connection, so a server that ends after its
    first client fails the second point."""
    return check_server(port, proto="tcp", program=program, **options)


def check_printing_server(
    port: int = 12000,
    *,
    program: str = "print_server",
    proto: str = "udp",
    host: str = "127.0.0.1",
    timeout: float = 2.0,
) -> Checklist:
    """The "type a message" variant: what a client sends shows in the server's output."""
    checklist = Checklist(f"Your server that prints what arrives ({program})")
    found = _program(program, checklist)
    _listens(found, proto, port, checklist)
    if found is None:
        return checklist
    message = "a message from the self-check"
    try:
        send = send_udp if proto == "udp" else send_tcp
        send(message, host, port, timeout=timeout, expect_reply=False)
    except LabsockError as exc:
        checklist.add("a message can be sent to it", False, str(exc))
        return checklist
    printed = _wait_for_output(found, message, timeout)
    checklist.add(
        f"{message!r} shows in its output",
        printed,
        "Print what arrives: print(message.decode()) after recvfrom.",
    )
    return checklist


def _wait_for_output(program: Job, text: str, timeout: float) -> bool:
    with interruptible(f"{text!r} in the output of {program.name}"):
        return _until_printed(program, text, timeout)


def _until_printed(program: Job, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    version = -1
    while text not in program.output:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        version = program.wait_for_change(version, left)
    return True


def check_counting_clients(
    clients: dict[str, int] | None = None,
    *,
    server: str | None = None,
    numbers: int = 5,
    timeout: float = 5.0,
) -> Checklist:
    """Task 3's clients: bound to their ports, counting 1, 2, 3 ... with a delay, to port 12000.

    clients: program name -> the port it must bind (default c1 -> 11000, c2 -> 13000).
    server: the student's server program, whose log shows what each client sent.
    """
    clients = clients or {"c1": 11000, "c2": 13000}
    checklist = Checklist("Your counting clients")
    found = {name: _program(name, checklist) for name in clients}
    for name, port in clients.items():
        program = found[name]
        if program is not None:
            ports = [p for kind, _, p in program.ports if kind == "udp"]
            checklist.add(
                f"{name} sends from UDP port {port}",
                port in ports,
                f"{name} holds {ports or 'no UDP port'}: bind its socket first, "
                f"clientSocket.bind(('', {port})), then send.",
            )
    source = _program(server, checklist) if server else None
    if source is None:
        return checklist
    arrived = _numbers_by_port(source, clients.values(), numbers, timeout)
    for name, port in clients.items():
        got = arrived.get(port, [])
        counted = got[:numbers] == list(range(1, numbers + 1))[: len(got)] and len(got) >= numbers
        checklist.add(
            f"{name}'s first numbers arrive as 1, 2, 3, ... in order",
            counted,
            f"Arrived from port {port}: {got[:10]}. Start at 1, add 1 each time, and send the "
            "number as text: str(n).encode().",
        )
    gaps = _gaps(source, clients.values())
    checklist.add(
        "each client waits between two numbers (time.sleep)",
        bool(gaps) and min(gaps) >= 0.01,
        "The numbers come all at once: add time.sleep(0.2) in the loop, after each send.",
    )
    return checklist


def _numbers_by_port(program: Job, ports, numbers: int, timeout: float) -> dict[int, list[int]]:
    with interruptible(f"numbers to arrive at {program.name}"):
        return _until_numbers(program, ports, numbers, timeout)


def _until_numbers(program: Job, ports, numbers: int, timeout: float) -> dict[int, list[int]]:
    deadline = time.monotonic() + timeout
    while True:
        arrived: dict[int, list[int]] = {}
        for message in program.log.messages():
            number = parse_number(message.text)
            if message.port in ports and number is not None:
                arrived.setdefault(message.port, []).append(number)
        if all(len(arrived.get(p, [])) >= numbers for p in ports):
            return arrived
        if time.monotonic() > deadline:
            return arrived
        program.wait_for_change(program.version, 0.2)


def _gaps(program: Job, ports) -> list[float]:
    """Median time between two datagrams from each client port."""
    medians = []
    for port in ports:
        times = [m.time for m in program.log.messages() if m.port == port]
        gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
        if gaps:
            medians.append(gaps[len(gaps) // 2])
    return medians


def check_counting_server(
    program: str = "server",
    names: dict[int, str] | None = None,
    *,
    port: int = 12000,
    lap: int = LAP,
) -> Checklist:
    """Task 3's server: it prints, in the order received, which client sent each number."""
    names = names or {11000: "c1", 13000: "c2"}
    checklist = Checklist(f"Your Task 3 server ({program})")
    found = _program(program, checklist)
    _listens(found, "udp", port, checklist)
    if found is None:
        return checklist
    arrived = [
        (m.port, parse_number(m.text))
        for m in found.log.messages()
        if m.port in names and parse_number(m.text) is not None
    ]
    checklist.add(
        "numbers arrive from both clients",
        {port for port, _ in arrived} == set(names),
        f"From: {sorted({port for port, _ in arrived}) or 'nobody yet'}; expected ports "
        f"{sorted(names)}. Are both clients running?",
    )
    printed = _printed_pairs(found.output, names)
    # The output may lag a few lines behind what the log saw: compare what both have.
    common = min(len(printed), len(arrived))
    checklist.add(
        "it prints which client sent each number, in the order received",
        common > 0 and printed[:common] == arrived[:common],
        "Each line should name the client (its port, caddr[1], or c1/c2) and the number, e.g. "
        "print(caddr[1], message.decode()). First lines printed: "
        f"{printed[:3]}; first arrivals: {arrived[:3]}.",
    )
    tracker = SequenceTracker(lap=lap)
    for port, number in arrived:
        tracker.feed(port, number)
    clean = all(s.missing == 0 and s.duplicates == 0 for s in tracker.all_stats())
    checklist.add(
        "nothing missing or twice, per client",
        clean,
        "Some numbers went missing or came twice: see labsock.counting_report(...).",
    )
    return checklist


def _printed_pairs(output: str, names: dict[int, str]) -> list[tuple[int, int]]:
    """(port, number) for each output line that names one client and holds one number."""
    by_word = {str(port): port for port in names} | {name: port for port, name in names.items()}
    pairs = []
    for line in output.splitlines():
        words = line.replace(",", " ").replace(":", " ").replace("(", " ").replace(")", " ")
        words = words.replace("'", " ").split()
        who = {by_word[w] for w in words if w in by_word}
        numbers = [int(w) for w in words if w.isascii() and w.isdigit() and w not in by_word]
        if len(who) == 1 and len(numbers) == 1:
            pairs.append((who.pop(), numbers[0]))
    return pairs


def check_pinger(program: str = "pinger", relay=None, *, pings: int = 10) -> Checklist:
    """Task 4's pinger: it ended, sent each ping, and reported each one as answered or timed out;
    with the relay it went through, every timeout is a ping or reply the relay dropped."""
    checklist = Checklist(f"Your pinger ({program})")
    try:
        found = job(program)
    except LabsockError as exc:
        checklist.add(f"a program called {program} ran", False, str(exc))
        return checklist
    ended = not found.running and found.exit_code == 0
    checklist.add(
        f"{program} ran to its end",
        ended,
        f"{found.state()}. Give the socket a timeout, clientSocket.settimeout(1), so a lost "
        "reply ends its wait, and catch it: except timeout.",
    )
    sent = sum(1 for text in found.sent_log.texts() if text.startswith("Ping "))
    checklist.add(
        f"it sent {pings} pings ('Ping <number> <time>')",
        sent == pings,
        f"It sent {sent}. Send f'Ping {{n}} {{time.time()}}' for n from 1 to {pings}.",
    )
    answered = timed_out = 0
    for line in found.output.splitlines():
        lowered = line.lower()
        if "timed out" in lowered:
            timed_out += 1
        elif "ms" in lowered:
            answered += 1
    checklist.add(
        "it prints one line per ping: a round trip in ms, or 'timed out'",
        answered + timed_out == pings,
        f"{answered} lines with a round trip and {timed_out} with 'timed out', for {pings} pings.",
    )
    if relay is not None:
        # Only this program's datagrams: other clients may use the same relay.
        ports = {port for proto, _, port in found.ports_used if proto == "udp"}
        dropped = sum(
            relay.ground_truth(port, direction).dropped
            for port in ports
            for direction in ("forward", "backward")
        )
        checklist.add(
            "every timeout is a ping or a reply the relay dropped",
            timed_out == dropped,
            f"{timed_out} timed out, but the relay dropped {dropped}. A reply that comes after "
            "its timeout is read by the next recvfrom as the next ping's: match replies by number.",
        )
    return checklist


def check_framed_server(
    server: str = "framed_server", client: str = "framed_client", *, timeout: float = 5.0
) -> Checklist:
    """Task 4's framing exercise: the server prints each message its client sent, whole and in
    order, however TCP (here the slicer) cut the stream; the messages are read from what
    labsock saw the client send."""
    checklist = Checklist(f"Your framed TCP server ({server})")
    found = _program(server, checklist)
    if found is None:
        return checklist
    try:
        sender = job(client)
    except LabsockError as exc:
        checklist.add(f"a program called {client} ran", False, str(exc))
        return checklist
    stream = b"".join(m.data for m in sender.sent_log.messages())
    messages = [part.decode("utf-8", "replace") for part in stream.split(b"\n")[:-1]]
    checklist.add(
        f"{client} sent its messages, each ending with a newline",
        bool(messages),
        f"{client} sent {stream[:60]!r}: send each message with '\\n' at its end.",
    )
    if not messages:
        return checklist
    with interruptible(f"the messages in the output of {server}"):
        _until_printed(found, messages[-1], timeout)
    pieces = len(found.log.messages())
    checklist.add(
        "the stream arrived cut into more pieces than there were messages",
        pieces > len(messages),
        "Nothing cut the stream: send through the slicer's port, as the client cell does.",
    )
    printed = [line for line in found.output.splitlines() if any(m in line for m in messages)]
    whole = len(printed) == len(messages) and all(
        message in line for message, line in zip(messages, printed, strict=True)
    )
    checklist.add(
        f"each of the {len(messages)} messages is printed whole, on a line of its own, in order",
        whole,
        f"Printed: {printed[:4]}. Keep the bytes that came in a buffer (add each chunk to it), "
        "and take a message out only once a newline has come (split at the first newline).",
    )
    return checklist
