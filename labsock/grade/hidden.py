"""A test's hidden messages: more of what a self-check sends, graded but never shown as text.

The self-check sends its own three messages; a hidden message is one more, sent the same way
after it, and adds a hidden point to the same checklist: the feedback says "hidden message 2:
failed", results.json (the instructor's) has the text, the expected and the actual reply.
"""

from __future__ import annotations

import time

from labsock.lessons.checklist import Checklist
from labsock.logic.errors import LabsockError
from labsock.logic.replies import reply_function
from labsock.net.clients import send_tcp, send_udp
from labsock.net.programs.job import job


def send_hidden(checklist: Checklist, check: str, args: dict, messages, timeout: float = 2.0):
    """Send each message as `check` would and add whether the answer was right, hidden."""
    host, port = args.get("host", "127.0.0.1"), args.get("port", 12000)
    proto = "tcp" if check == "check_tcp_server" else args.get("proto", "udp")
    for number, text in enumerate(messages, 1):
        what = f"hidden message {number}"
        if check == "check_printing_server":
            printed, got = _printed(args.get("program", "print_server"), proto, host, port, text)
            checklist.add(what, printed, f"Sent {text!r}; not in its output: {got}", hidden=True)
            continue
        expected = reply_function(args.get("reply", "upper"))(text)
        try:
            send = send_udp if proto == "udp" else send_tcp
            got = str(send(text, host, port, timeout=timeout)).rstrip("\n")
        except LabsockError as exc:
            got = f"(no reply: {exc})"
        checklist.add(
            what,
            got == expected,
            f"Sent {text!r}, expected {expected!r}, got {got!r}.",
            hidden=True,
        )


def _printed(program: str, proto: str, host: str, port: int, text: str, timeout: float = 2.0):
    try:
        found = job(program)
        send = send_udp if proto == "udp" else send_tcp
        send(text, host, port, timeout=timeout, expect_reply=False)
    except LabsockError as exc:
        return False, str(exc)
    deadline = time.monotonic() + timeout
    version = -1
    while text not in found.output:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, repr(found.output[-200:])
        version = found.wait_for_change(version, left)
    return True, ""
