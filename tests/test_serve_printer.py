"""`python -m labsock serve`'s printer, without sockets: its fast plain lines say what the
Message-based lines said, entry for entry, and --count stops at the same entry."""

import argparse
import io
import sys

import pytest

from labsock.cli import serve
from labsock.net.log import CONNECTED, DISCONNECTED, ERROR, Message, MessageLog

ENTRIES = [
    (1.5, ("127.0.0.1", 40000), b"hello", "HELLO", None),
    (1.6, ("127.0.0.1", 40001), "h\u00e9llo w\u00f6rld".encode(), "H\u00c9LLO", None),
    (1.7, ("127.0.0.1", 40002), b"\x1b[2Jcleared\r\nforged line\t\x85", None, None),
    (1.8, ("127.0.0.1", 40003), b"\xff\xfe not utf-8", None, "reply failed: \x1b boom"),
    (1.9, ("10.0.0.7", 5), b"", "", None),
    (2.0, ("127.0.0.1", 40004), "bidi \u202e txt \u2028 sep".encode(), None, None),
]


def filled_log() -> MessageLog:
    log = MessageLog(100)
    log.add_event(1.0, ("127.0.0.1", 39999), CONNECTED)
    for when, address, data, reply, error in ENTRIES:
        log.append(when, address, data, reply, error)
    log.add_event(2.1, ("127.0.0.1", 39999), ERROR, "line too long\x07")
    log.add_event(2.2, ("127.0.0.1", 39999), DISCONNECTED)
    log.append(2.3, ("127.0.0.1", 40005), b"after the events")
    return log


def printed(log: MessageLog, count=None, json=False, batches=1) -> list[str]:
    args = argparse.Namespace(json=json, count=count)
    printer = serve._Printer(args, log)
    out, real = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        for _ in range(batches):
            printer.print_new()
    finally:
        sys.stdout = real
    return out.getvalue().splitlines()


def expected(log: MessageLog, count=None, json=False) -> list[str]:
    """What the printer printed before its plain lines skipped Message objects."""
    args = argparse.Namespace(json=json, count=count)
    lines, received = [], 0
    for entry in log._copy():
        if count is not None and received >= count:
            break
        message = Message(entry)
        received += message.kind == "message"
        line = serve._report(args, message)
        if line is not None:
            lines.append(line)
    return lines


@pytest.mark.parametrize("json", [False, True])
@pytest.mark.parametrize("count", [None, 1, 3, 6, 7, 50])
def test_printer_lines_are_the_report_lines(json, count):
    log = filled_log()
    assert printed(log, count, json) == expected(log, count, json)


def test_plain_lines_escape_what_would_act_on_a_terminal():
    lines = printed(filled_log())
    assert lines[0] == "127.0.0.1:40000: hello"
    assert lines[2] == r"127.0.0.1:40002: \x1b[2Jcleared\r\nforged line\t\x85"
    assert lines[3] == r"127.0.0.1:40003: \xff\xfe not utf-8"
    assert r"\u202e" in lines[5] and r"\u2028" in lines[5]
    assert lines[6] == r"127.0.0.1:39999: error: line too long\x07"
    assert len(lines) == 8  # 7 messages and the error; connected/disconnected say nothing


def test_count_stops_across_batches():
    log = filled_log()
    args = argparse.Namespace(json=False, count=4)
    printer = serve._Printer(args, log)
    out, real = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        printer.print_new()
        log.append(3.0, ("127.0.0.1", 1), b"late")
        printer.print_new()
    finally:
        sys.stdout = real
    assert printer.done and printer.received == 4
    assert out.getvalue().splitlines() == expected(filled_log(), 4)
