"""Self-checks: labsock tries the student's running programs from outside and says what works.

    labsock.check_udp_server(port=12000, program="udp_server")

Each check sends real messages to the student's program (on this laptop), reads what labsock's
bootstrap saw the program do, and answers with a checklist: each point passes or fails, and a
failing point says what to look at. A check never changes the program; it can run again any time.
"""

from __future__ import annotations

import re
import socket
import time

# Re-exported: a check's answer is a Checklist of Points (see checklist.py).
from labsock.lessons.checklist import Checklist, Point  # noqa: F401
from labsock.logic.counting_check import first_mistake, saw_the_wrap
from labsock.logic.errors import LabsockError, NotWrittenYet
from labsock.logic.replies import reply_function
from labsock.logic.sequence import LAP, parse_number
from labsock.net.clients import send_tcp, send_udp
from labsock.net.interrupts import interruptible
from labsock.net.programs.job import Job, job

# Sent by every server check: plain words, a second client, digits with punctuation, and text
# beyond ASCII (an alphanumeric server that keeps only letters, or only ASCII, fails one).
FIRST, SECOND, BEYOND_ASCII = "input lowercase sentence", "another client here", "grüße, señor"
DIGITS = "Hello, World 42! (it's 9:30)"


def _program(name: str | None, checklist: Checklist) -> Job | None:
    """The student's program of that name, noted in the checklist."""
    if name is None:
        return None
    try:
        found = job(name)
    except LabsockError as exc:
        checklist.add(f"a program called {name} runs", False, str(exc))
        return None
    checklist.add(f"a program called {name} runs", found.running, _why_not_running(found))
    return found if found.running else None


def _why_not_running(found: Job) -> str:
    """What to do about a program that is not running: write it, or run its cell again."""
    if found.error_kind == NotWrittenYet.__name__:
        return str(NotWrittenYet(program=found.name))
    if found.error:
        return f"{found.state()}. {_read_in_the_check(found, found.error.strip())}"
    return f"{found.state()}. Run its cell again; if it failed, its cell says at which line."


def _read_in_the_check(found: Job, explanation: str) -> str:
    """The program's explanation, written for its own cell, as the check's output quotes it:
    "this cell" and "the button below" are the program's cell and its button, not the check's."""
    cell = f"{found.name}'s cell"
    return explanation.replace("The button below", f"The button under {cell}").replace(
        "this cell", cell
    )


def _ended(found: Job | None) -> str:
    """For a hint: that the program ended meanwhile, and why ("" while it runs)."""
    if found is None or found.running:
        return ""
    if found.error_kind == NotWrittenYet.__name__:
        return str(NotWrittenYet(program=found.name))
    error = f" {_read_in_the_check(found, found.error.strip())}" if found.error else ""
    return f"{found.state()}: it ended during the check.{error}"


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


def _arrived(program: Job | None, text: str) -> bool:
    return program is not None and any(m.text.rstrip("\n") == text for m in program.log.messages())


def _no_reply(found: Job | None, proto: str, text: str, exc: LabsockError) -> str:
    """Why no reply came, as far as labsock can tell from the program's side."""
    if found is not None:
        found.wait(0.3)  # a program that failed at this message is ending: say that
    ended = _ended(found)
    if ended:
        return ended
    if _arrived(found, text):
        return (
            f"{found.name} received {text!r} (labsock saw it arrive), but no reply came back: "
            + (
                "send the reply to the address recvfrom gave: "
                "serverSocket.sendto(modifiedMessage.encode(), clientAddress)."
                if proto == "udp"
                else "send the reply on the connection accept gave: connectionSocket.send(...)."
            )
        )
    return str(exc)


def _wrong_reply(got: str, text: str, expected: str, reply, proto: str) -> str:
    hint = f"The reply was {got!r}; it should be {expected!r}. "
    if reply == "alnum" and text == DIGITS:
        hint += (
            "Digits are alphanumeric too, and spaces and punctuation ( ' : ! , ) are not: keep "
            "exactly the characters for which ch.isalnum() is True. "
        )
    elif reply == "alnum" and text == BEYOND_ASCII:
        hint += (
            "Letters beyond ASCII (ü, ß, ñ) are alphanumeric too: ch.isalnum() knows them, "
            "string.ascii_letters does not. "
        )
    elif text == BEYOND_ASCII:
        hint += (
            "Change the text, not the bytes: decode them first (message.decode(), which reads "
            "UTF-8), change the str, then encode the reply. "
        )
    return hint + (
        "The server must decode the bytes (message.decode()), change the text, encode the reply, "
        "and send it to the address recvfrom gave"
        + (" (clientAddress)." if proto == "udp" else " back on the connection.")
    )


def _replies(
    checklist: Checklist, proto: str, host: str, port: int, reply, timeout: float, found
) -> list[str]:
    """The messages every server check sends, each from a new client port."""
    expected = reply_function(reply)
    sent = []
    for text, what in (
        (FIRST, f"{FIRST!r} comes back as {expected(FIRST)!r}"),
        (SECOND, "a second client, from another port, gets its own reply"),
        (DIGITS, f"digits and punctuation: {DIGITS!r} comes back as {expected(DIGITS)!r}"),
        (
            BEYOND_ASCII,
            f"text beyond ASCII: {BEYOND_ASCII!r} comes back as {expected(BEYOND_ASCII)!r}",
        ),  # fmt: skip
    ):
        got = _exchange(proto, text, host, port, timeout)
        if isinstance(got, LabsockError):
            checklist.add(what, False, _no_reply(found, proto, text, got))
            if found is not None and not found.running:
                break  # it ended: the points after this one would only say so again
            continue
        sent.append(text)
        checklist.add(
            what, got == expected(text), _wrong_reply(got, text, expected(text), reply, proto)
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
    """Check a student's server: it runs, listens, and answers each client as `reply` would.

    Four messages, each from a new client port: a plain sentence, a second client, digits with
    punctuation, and text beyond ASCII."""
    reply_function(reply)  # an unknown reply says so before anything is sent
    checklist = Checklist(f"Your {proto.upper()} server on port {port}")
    found = _program(program, checklist)
    if program is not None and found is None:
        return checklist  # the rest follows from that first point: its hint says what to do
    _listens(found, proto, port, checklist)
    sent = _replies(checklist, proto, host, port, reply, timeout, found)
    _saw_arrive(found, sent, checklist)
    return checklist


def check_udp_server(port: int = 12000, *, program: str | None = "udp_server", **options):
    return check_server(port, proto="udp", program=program, **options)


def check_tcp_server(port: int = 12000, *, program: str | None = "tcp_server", **options):
    """As the UDP check; each message comes on a new connection, so a server that ends after its
    first client fails the second point."""
    return check_server(port, proto="tcp", program=program, **options)


# What check_printing_server sends, from two client ports: the first with text beyond ASCII, so
# that printing the bytes (b'...\xc3\xbc...') does not pass for printing the text.
PRINTED = ("a message from the self-check: grüße", "another message, from another client")


def check_printing_server(
    port: int = 12000,
    *,
    program: str = "print_server",
    proto: str = "udp",
    host: str = "127.0.0.1",
    timeout: float = 2.0,
) -> Checklist:
    """The "type a message" variant: what a client sends shows in the server's output, with
    the client's port (clientAddress[1]); a second client's message shows too."""
    checklist = Checklist(f"Your server that prints what arrives ({program})")
    found = _program(program, checklist)
    if found is None:
        return checklist
    _listens(found, proto, port, checklist)
    first, second = PRINTED
    if not _send_one(checklist, proto, first, host, port, timeout):
        return checklist
    printed = _wait_for_output(found, first, timeout)
    checklist.add(
        "what a client sends shows in its output",
        printed,
        _ended(found) or _not_printed_hint(found.output, first),
    )
    if printed:
        client_port = _sender_port(found, first)
        checklist.add(
            "the client's port shows with it",
            client_port is not None and _port_beside(found.output, first, client_port),
            f"The client sent from port {client_port}, and the line printed was "
            f"{_line_with(found.output, first)!r}. Print the client's port too: recvfrom gives "
            "the client's (address, port), so print(clientAddress[1], message.decode()).",
        )
    if not _send_one(checklist, proto, second, host, port, timeout):
        return checklist
    checklist.add(
        "a second message, from another client, shows too",
        _wait_for_output(found, second, timeout),
        _ended(found)
        or "Only the first message was printed: put recvfrom and print inside while True:, "
        "so the server goes on waiting for the next message.",
    )
    return checklist


def _send_one(checklist, proto, text, host, port, timeout) -> bool:
    try:
        send = send_udp if proto == "udp" else send_tcp
        send(text, host, port, timeout=timeout, expect_reply=False)
    except LabsockError as exc:
        checklist.add("a message can be sent to it", False, str(exc))
        return False
    return True


def _not_printed_hint(output: str, text: str) -> str:
    start = text.split(":")[0]
    if start in output:
        return (
            f"It printed {_line_with(output, start)!r}: that is the bytes, not the text. Decode "
            "them first: print(clientAddress[1], message.decode())."
        )
    return "Print what arrives: print(clientAddress[1], message.decode()) after recvfrom."


def _line_with(output: str, text: str) -> str:
    return next((line for line in output.splitlines() if text in line), "")


def _sender_port(program: Job, text: str) -> int | None:
    for message in program.log.messages():
        if message.text.rstrip("\n") == text:
            return message.port
    return None


def _port_beside(output: str, text: str, port: int) -> bool:
    """The port is printed on the message's line or on the line just before it."""
    lines = output.splitlines()
    word = re.compile(rf"(?<!\d){port}(?!\d)")
    for at, line in enumerate(lines):
        if text in line:
            return bool(word.search(line) or (at and word.search(lines[at - 1])))
    return False


def _wait_for_output(program: Job, text: str, timeout: float) -> bool:
    with interruptible(f"{text!r} in the output of {program.name}"):
        return _until_printed(program, text, timeout)


def _until_printed(program: Job, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    version = -1
    while text not in program.output:
        left = deadline - time.monotonic()
        if left <= 0 or (version >= 0 and not program.running):
            return text in program.output
        version = program.wait_for_change(version, left)
    return True


def _until(program: Job, condition, timeout: float) -> bool:
    """Wait until condition() holds (re-checked at each change of the program, and at least
    every 0.2 s: the logs fill without a change of version) or timeout; its last value."""
    deadline = time.monotonic() + timeout
    with interruptible(f"{program.name} to act"):
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return bool(condition())
            program.wait_for_change(program.version, min(left, 0.2))
    return True


# What check_typing_client types, line by line, as a student would in the box.
TYPED = ("typed by the self-check", "a second line, grüße")


def check_typing_client(
    port: int = 12001, *, program: str = "typing_client", timeout: float = 2.0
) -> Checklist:
    """Task 1's typing client: it waits in input(), sends each line typed, as typed, to the
    server's UDP port, and asks for the next line. The check types two lines into it, as you
    would in the box under its cell (a server on that port prints them)."""
    checklist = Checklist(f"Your client that sends what you type ({program})")
    found = _program(program, checklist)
    if found is None:
        return checklist
    asks = _until(found, lambda: found.needs_input or not found.running, timeout)
    checklist.add(
        "it waits for you to type a line (input)",
        found.needs_input,
        _ended(found)
        or "It did not wait for a line: read each message with message = input('Message: ').",
    )
    if not asks or not found.needs_input:
        return checklist
    first, second = TYPED
    what = f"what you type is sent to UDP port {port}, as typed"
    if not checklist.add(what, *_typed_and_sent(found, first, port, timeout)):
        return checklist
    flood = found.sent_log.total
    again = _until(found, lambda: found.needs_input or not found.running, timeout)
    if not (again and found.needs_input):
        checklist.add("it asks for the next line and sends it too", False, _no_next(found, flood))
        return checklist
    ok, hint = _typed_and_sent(found, second, port, timeout)
    checklist.add("it asks for the next line and sends it too", ok, hint)
    return checklist


def _typed_and_sent(found: Job, line: str, port: int, timeout: float) -> tuple[bool, str]:
    """Type a line into the program; (sent as typed to the port, hint)."""
    before = found.sent_log.total
    found.type(line)

    def new():
        return [m for m in found.sent_log.messages() if m.index >= before]

    _until(found, lambda: new() or not found.running, timeout)
    sent = new()
    if not sent:
        return False, _ended(found) or (
            f"After you typed {line!r}, it sent nothing: send the line, "
            "clientSocket.sendto(message.encode(), (serverName, serverPort))."
        )
    got = sent[0]
    if got.port != port:
        return False, (
            f"It sent {got.text!r} to port {got.port}: the server listens on {port} "
            f"(serverPort = {port})."
        )
    if got.text.rstrip("\n") != line:
        return False, (
            f"It sent {got.text!r} for {line!r}: send the line as typed, message.encode()."
        )
    return True, ""


def _no_next(found: Job, sent_before: int) -> str:
    if not found.running:
        return _ended(found) + (
            " It ended after one line: put input() and sendto inside a while True: loop."
            if not found.error
            else ""
        )
    if found.sent_log.total > sent_before + 1:
        return (
            "It keeps sending without asking again: call input() inside the loop, before each "
            "sendto, so each line typed is sent once."
        )
    return (
        "After sending it did not ask for the next line. Is it waiting for a reply (recvfrom)? "
        "The server sends none: go straight back to input()."
    )


def check_counting_clients(
    clients: dict[str, int] | None = None,
    *,
    server: str | None = None,
    port: int | None = None,
    lap: int = LAP,
    timeout: float = 10.0,
) -> Checklist:
    """Task 3's clients: bound to their ports, pausing between two numbers, sending 1, 2, 3 ...
    as text to the server's port, and going back to 1 after 100.

    clients: program name -> the port it must bind (default c1 -> 11000, c2 -> 13000).
    server: the student's server program: the clients must send to its UDP port.
    port: the port the clients send to (default: the server's, else 12000).

    What each client sent is read from labsock's record of it. To see the wrap after 100 within
    `timeout` seconds, labsock shortens the clients' time.sleep pauses meanwhile (and says so).
    """
    clients = clients or {"c1": 11000, "c2": 13000}
    checklist = Checklist("Your counting clients")
    found = {name: _program(name, checklist) for name in clients}
    running = {name: program for name, program in found.items() if program is not None}
    if not running:
        return checklist
    port = port or _server_port(server) or 12000
    with interruptible("the counting clients to count"):
        gaps = _pauses(running, timeout)
        hurried = _count_past_the_lap(running, lap, timeout)
    if hurried:
        checklist.title += (
            f" (labsock shortened {' and '.join(hurried)}'s pauses during the check, to see "
            f"them pass {lap})"
        )
    for name, program in running.items():
        _judge_client(checklist, name, program, clients[name], port, lap, gaps.get(name))
    return checklist


def _server_port(server: str | None) -> int | None:
    if not server:
        return None
    try:
        ports = [p for kind, _, p in job(server).ports if kind == "udp"]
    except LabsockError:
        return None
    return ports[0] if ports else None


def _sent(program: Job) -> list:
    return program.sent_log.messages()


def _own_pace(program: Job) -> list[float]:
    """When the client sent each message at its own pace: after any hurry of an earlier check."""
    hurried_until = getattr(program, "hurried_until", 0.0)
    return [m.time for m in _sent(program) if m.time > hurried_until]


def _pauses(running: dict[str, Job], timeout: float) -> dict[str, float]:
    """Each client's usual pause (the median time between two sends), at its own pace."""
    deadline = time.monotonic() + min(timeout, 3.0)
    for program in running.values():
        _until(program, lambda p=program: len(_own_pace(p)) >= 3 or not p.running,
               max(0.0, deadline - time.monotonic()))  # fmt: skip
    gaps = {}
    for name, program in running.items():
        times = _own_pace(program)
        between = sorted(b - a for a, b in zip(times, times[1:], strict=False))
        if between:
            gaps[name] = between[len(between) // 2]
    return gaps


def _numbers(program: Job) -> list[int | None]:
    return [parse_number(m.text) for m in _sent(program)]


def _settled(program: Job, lap: int) -> bool:
    """Enough was sent to judge the client's count: past a lap, or a mistake, or its end."""
    numbers = _numbers(program)
    if None in numbers:
        return True  # not numbers at all: judged already
    return (
        not program.running
        or saw_the_wrap(numbers, lap)
        or first_mistake(numbers, lap, _from_start(program)) is not None
    )


def _from_start(program: Job) -> bool:
    return program.sent_log.dropped == 0 and not program.unrecorded_sent


def _count_past_the_lap(running: dict[str, Job], lap: int, timeout: float) -> list[str]:
    """Wait until each client's lap can be judged; hurry the slow ones. The hurried names."""
    hurried = [name for name, p in running.items() if not _settled(p, lap)]
    for name in hurried:
        running[name].hurry(timeout)
    deadline = time.monotonic() + timeout
    try:
        for name in hurried:
            program = running[name]
            _until(program, lambda p=program: _settled(p, lap),
                   max(0.0, deadline - time.monotonic()))  # fmt: skip
    finally:
        for name in hurried:
            running[name].hurry(0)
    if hurried:
        for name in hurried:
            running[name].notes.append(
                f"labsock shortened {name}'s time.sleep pauses during check_counting_clients, to "
                f"see it pass {lap}."
            )
    return hurried


def _not_numbers_hint(name: str, wrong, port: int) -> str:
    if wrong is None:
        return f"{name} sent nothing yet."
    return (
        f"{name} sent {wrong.data[:20]!r} to port {wrong.port}: send the number as text, "
        f"str(n).encode(), to (serverName, serverPort) with serverPort = {port}."
    )


def _judge_client(checklist, name, program, bind, port, lap, gap) -> None:
    used = [p for kind, _, p in program.ports_used if kind == "udp"]
    checklist.add(
        f"{name} sends from UDP port {bind}",
        bind in used,
        f"{name} used {used or 'no UDP port'}: bind its socket first, "
        f"clientSocket.bind(('', {bind})), then send.",
    )
    checklist.add(
        f"{name} waits between two numbers (time.sleep)",
        gap is not None and gap >= 0.01,
        "It sent nothing yet." if gap is None else
        f"{name} sends every {gap * 1000:.1f} ms: add time.sleep(0.2) in the loop, after each "
        "send.",
    )  # fmt: skip
    sent = _sent(program)
    wrong = next((m for m in sent if m.port != port or parse_number(m.text) is None), None)
    checklist.add(
        f"{name} sends each number as text to UDP port {port}",
        bool(sent) and wrong is None,
        _not_numbers_hint(name, wrong, port),
    )
    if not sent or wrong is not None:
        return
    numbers = [parse_number(m.text) for m in sent]
    mistake = first_mistake(numbers, lap, _from_start(program))
    checklist.add(
        f"{name} counts 1, 2, 3, ... in order",
        mistake is None or mistake.kind == "wrap",
        f"{name}: {mistake.describe(lap) if mistake else ''}. Start at n = 1 and add 1 after "
        "each send.",
    )
    if mistake is not None and mistake.kind != "wrap":
        return
    if mistake is None and not saw_the_wrap(numbers, lap):
        ended = _ended(program)
        hint = (
            f"{name} ended after {numbers[-1]}: loop for ever, while True:. {ended}"
            if ended
            else f"{name} had not reached {lap} yet: run this check again later."
        )
        checklist.add(f"{name} goes back to 1 after {lap}", False if ended else None, hint)
        return
    checklist.add(
        f"{name} goes back to 1 after {lap}",
        mistake is None,
        f"{name}: {mistake.describe(lap) if mistake else ''}. After {lap} comes 1: "
        f"n = n + 1 if n < {lap} else 1.",
    )


def check_counting_server(
    program: str = "server",
    names: dict[int, str] | None = None,
    *,
    port: int = 12000,
    lap: int = LAP,
    timeout: float = 3.0,
) -> Checklist:
    """Task 3's server: it prints, in the order received, which client sent each number.

    Its newest printed lines are compared with the newest arrivals labsock saw (the output and
    the log each keep the newest part, so their oldest lines need not match)."""
    names = names or {11000: "c1", 13000: "c2"}
    checklist = Checklist(f"Your Task 3 server ({program})")
    found = _program(program, checklist)
    if found is None:
        return checklist
    _listens(found, "udp", port, checklist)

    def arrivals():
        return [
            (m.port, parse_number(m.text))
            for m in found.log.messages()
            if m.port in names and parse_number(m.text) is not None
        ]

    _until(found, lambda: {p for p, _ in arrivals()} == set(names), timeout)
    # Once something arrived, wait for the output to show it: the pipe lags the log, by more than
    # a second on a busy hub. A program that prints other lines and no pair is judged after a
    # few lines (it need not wait out the check's time); one that prints nothing, at the end.
    _until(found, lambda: _printed_enough(found.output, names), timeout)
    printed = _printed_pairs(_whole_lines(found.output), names)
    arrived = arrivals()
    checklist.add(
        "numbers arrive from both clients",
        {p for p, _ in arrived} == set(names),
        f"From: {sorted({p for p, _ in arrived}) or 'nobody yet'}; expected ports "
        f"{sorted(names)}. Are both clients running?",
    )
    checklist.add(
        "it prints which client sent each number, in the order received",
        _in_order(printed, arrived),
        "Each line should name the client (its port, caddr[1], or c1/c2) and the number, e.g. "
        f"print(caddr[1], message.decode()). Last lines printed: {printed[-3:]}; last "
        f"arrivals: {arrived[-3:]}."
        if printed
        else "No line names a client and a number: print(caddr[1], message.decode()).",
    )
    return checklist


def _whole_lines(output: str) -> str:
    """The output without a last line still being written."""
    return output if output.endswith("\n") else output[: output.rfind("\n") + 1]


def _in_order(printed: list, arrived: list, window: int = 50) -> bool:
    """The newest printed (port, number) pairs are a run of consecutive arrivals."""
    if not printed or not arrived:
        return False
    tail = printed[-window:]
    size = len(tail)
    return any(arrived[at : at + size] == tail for at in range(len(arrived) - size, -1, -1))


def _printed_enough(output: str, names: dict[int, str]) -> bool:
    """A pair is printed, or enough other lines to judge that the program prints none."""
    lines = _whole_lines(output)
    return bool(_printed_pairs(lines, names)) or lines.count("\n") >= OTHER_LINES_ENOUGH


# Lines without a (client, number) pair after which a server is judged not to print pairs.
OTHER_LINES_ENOUGH = 10


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


PING = re.compile(r"Ping (\d+) (\d+(?:\.\d+)?)$")


def check_pinger(program: str = "pinger", relay=None, *, pings: int = 10) -> Checklist:
    """Task 4's pinger: it ended, sent each ping, and reported each one as answered or timed out;
    with the relay it went through, every timeout is a ping or reply the relay dropped."""
    checklist = Checklist(f"Your pinger ({program})")
    try:
        found = job(program)
    except LabsockError as exc:
        checklist.add(f"a program called {program} ran", False, str(exc))
        return checklist
    if found.error_kind == NotWrittenYet.__name__:
        # The other points would judge a program that sent nothing (no pings, so no timeout the
        # relay cannot account for: "ok").
        checklist.add(f"{program} ran to its end", False, str(NotWrittenYet(program=found.name)))
        return checklist
    ended = not found.running and found.exit_code == 0
    checklist.add(
        f"{program} ran to its end",
        ended,
        f"{found.state()}. Give the socket a timeout, clientSocket.settimeout(1), so a lost "
        "reply ends its wait, and catch it: except timeout.",
    )
    texts = [text.strip() for text in found.sent_log.texts()]
    numbers = [int(m.group(1)) for m in map(PING.match, texts) if m]
    checklist.add(
        f"it sent {pings} pings ('Ping <number> <time>')",
        numbers == list(range(1, pings + 1)) and len(texts) == pings,
        f"It sent {len(texts)}, starting {texts[:2]}. Send f'Ping {{n}} {{time.time()}}' for n "
        f"from 1 to {pings}: the word Ping, the number, the time it was sent.",
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
        f"{answered} lines with a round trip in ms and {timed_out} with 'timed out', for {pings} "
        "pings. Print each round trip in milliseconds, f'Ping {n}: {rtt * 1000:.1f} ms', and "
        "'Request timed out' for a ping whose reply did not come.",
    )
    if relay is not None and not relay.running:
        # A stopped relay has forgotten what it did to each client: nothing to compare with.
        checklist.add(
            "the relay still runs, so it can say what it dropped",
            False,
            "The relay was stopped (relay.stop() ran), and with it went its count of the pings "
            "and replies it dropped: this check cannot compare your timeouts with it. Run the "
            "relay's cell again, then your pinger's cell, then this check.",
        )
    elif relay is not None:
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


# What check_framed_server sends itself, straight to the server, in three pieces: several
# messages in one piece, and the ü of the third message cut between two pieces.
OWN_MESSAGES = ("check one", "check two", "check three grüße", "check four", "check five")


def _own_pieces() -> list[bytes]:
    stream = "".join(m + "\n" for m in OWN_MESSAGES).encode("utf-8")
    cut = stream.index("ü".encode()) + 1  # inside the ü's two bytes
    return [stream[:24], stream[24:cut], stream[cut:]]


def check_framed_server(
    server: str = "framed_server", client: str = "framed_client", *, timeout: float = 5.0
) -> Checklist:
    """Task 4's framing exercise: the server prints each message its client sent, whole and in
    order, however TCP (here the slicer) cut the stream; the messages are read from what
    labsock saw the client send. Then the check sends a stream of its own, straight to the
    server: several messages in one piece, and a character cut between two pieces."""
    checklist = Checklist(f"Your framed TCP server ({server})")
    found = _program(server, checklist)
    if found is None:
        return checklist
    try:
        sender = job(client)
    except LabsockError as exc:
        checklist.add(f"a program called {client} ran", False, str(exc))
        return checklist
    sent = sender.sent_log.messages()
    stream = b"".join(m.data for m in sent)
    messages = [part.decode("utf-8", "replace") for part in stream.split(b"\n")[:-1]]
    checklist.add(
        f"{client} sent its messages, each ending with a newline",
        bool(messages),
        f"{client} sent {stream[:60]!r}: send each message with '\\n' at its end.",
    )
    if not messages:
        return checklist
    listening = [p for kind, _, p in found.ports if kind == "tcp"]
    direct = [m.port for m in sent if m.port in listening]
    checklist.add(
        f"{client}'s stream went through the slicer",
        not direct,
        f"{client} connected straight to the server's port {direct[:1]}: nothing cut the "
        "stream. Connect to the slicer's port, as the client cell does.",
    )
    with interruptible(f"the messages in the output of {server}"):
        _until_printed(found, messages[-1], timeout)
    _printed_whole(
        checklist,
        found,
        messages,
        f"each of the {len(messages)} messages is printed whole, on a line of its own, in order",
    )
    if listening and found.running:
        _send_own_stream(found, listening[0], timeout)
        with interruptible(f"the messages in the output of {server}"):
            # The whole timeout, as for the client's stream: on a loaded machine a right server
            # may print seconds late, and a cut-off wait blamed its buffering.
            _until_printed(found, OWN_MESSAGES[-1], timeout)
        _printed_whole(
            checklist,
            found,
            list(OWN_MESSAGES),
            "several messages in one piece, and a character cut in two: each printed whole",
        )
    return checklist


def _printed_whole(checklist, found: Job, messages: list[str], what: str) -> None:
    printed = [line for line in found.output.splitlines() if any(m in line for m in messages)]
    printed = printed[-len(messages) :] if len(printed) > len(messages) else printed
    whole = len(printed) == len(messages) and all(
        message in line for message, line in zip(messages, printed, strict=True)
    )
    checklist.add(
        what,
        whole,
        _ended(found)
        or f"Printed: {printed[:5]}. Keep the bytes that came in a buffer (add each chunk to "
        "it), take out every message that is complete (while a newline is in the buffer, not "
        "if), and decode a message only once it is whole: TCP may cut a character's bytes in two.",
    )


def _send_own_stream(found: Job, port: int, timeout: float) -> None:
    """Send OWN_MESSAGES in three pieces, each once the server has read the one before."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for piece in _own_pieces():
                before = found.log.total
                sock.sendall(piece)
                # A server reading through makefile() is not in the log: then a short pause.
                _until(found, lambda b=before: found.log.total > b, 0.3)
    except OSError:
        pass  # the point that follows says what the server printed, or that it ended
