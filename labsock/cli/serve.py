"""python -m labsock serve {udp,tcp}: a server in a terminal, one line per message received."""

from __future__ import annotations

import sys
import time

from labsock.cli.commands import stop_on_sigterm
from labsock.logic.arguments import port, seconds, whole_number
from labsock.logic.framing import FRAMINGS
from labsock.logic.replies import BUILT_IN
from labsock.logic.text import escape_controls, json_line
from labsock.net.log import MESSAGE, Message
from labsock.net.servers import UDPServer
from labsock.net.tcp_server import TCPServer

HELP = "run a UDP or TCP server and print each message it receives"


def add_arguments(parser) -> None:
    parser.add_argument("proto", choices=["udp", "tcp"], help="which protocol to serve")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on: 127.0.0.1 (this computer only, the default) or 0.0.0.0 "
        "(let other computers connect)",
    )
    parser.add_argument("--port", type=port, default=12000, help="0 takes a free port")
    parser.add_argument("--reply", choices=list(BUILT_IN), default="upper", help="what to answer")
    parser.add_argument("--count", type=whole_number, help="exit after this many messages")
    parser.add_argument("--seconds", type=seconds, help="exit after this many seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--quiet", action="store_true", help="print only the listening line")
    parser.add_argument(
        "--framing",
        choices=list(FRAMINGS),
        default="auto",
        help="TCP only: where a message ends (auto: a newline, or a pause from a client that "
        "sends none, like the textbook TCPClient; line: a newline only; length: a 4-byte length "
        "first)",
    )


# Printing wakes this thread, which then competes with the server's for the interpreter: after
# the first new message it waits this long, so a burst is printed in one go, with one wake-up.
BATCH_SECONDS = 0.05


def _line(args, event: dict, plain: str) -> str:
    # Received text is the sender's choice: no control character reaches the terminal raw.
    return json_line(event) if args.json else escape_controls(plain)


def _say(args, event: dict, plain: str) -> None:
    print(_line(args, event, plain), flush=True)


def _report(args, message) -> str | None:
    """The line to print for one log entry (None: nothing to say)."""
    if message.kind == MESSAGE:
        event = {
            "event": "message",
            "client": message.client,
            "text": message.text,
            "bytes": len(message.data),
            "time": round(message.time, 6),
        }
        if message.reply is not None:
            event["reply"] = message.reply
        if message.error:
            event["error"] = message.error
        return _line(args, event, f"{message.client}: {message.text}")
    if message.error:
        return _line(
            args,
            {"event": "error", "client": message.client, "error": message.error},
            f"{message.client}: error: {message.error}",
        )
    return None


def run(args) -> int:
    kind = UDPServer if args.proto == "udp" else TCPServer
    options = {"framing": args.framing} if args.proto == "tcp" else {}
    server = kind(args.host, args.port, args.reply, **options)
    stop_on_sigterm()
    try:  # from here on, Ctrl+C or SIGTERM at any moment ends in a clean stop and status 0
        server.start()
        _serve(args, server)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _serve(args, server) -> None:
    listening = {
        "event": "listening",
        "proto": args.proto,
        "host": server.host,
        "port": server.port,
    }
    _say(
        args,
        listening,
        f"{args.proto.upper()} server listening on {server.host}:{server.port} "
        f"(reply: {args.reply}). Press Ctrl+C to stop.",
    )
    if not (args.json or args.quiet or server.host.startswith("127.")):
        from labsock.lessons.partner import (
            sharing,  # what the partner types, and what the firewall asks
        )

        print(sharing(server), flush=True)
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    if args.quiet:
        _wait_quietly(args, server, deadline)
    else:
        _print_as_they_come(args, server, deadline)


def _time_left(deadline: float | None) -> float:
    # Short waits keep Ctrl+C prompt on Windows, where a long wait ignores it.
    return 0.5 if deadline is None else min(0.5, deadline - time.monotonic())


def _wait_quietly(args, server, deadline: float | None) -> None:
    """Nothing to print: this thread wakes only to see whether it is time to end, never per
    message (a wake-up per message made the server three times slower)."""
    while (wait := _time_left(deadline)) > 0:
        if args.count is None:
            time.sleep(wait)
        elif server.log.wait_for(args.count, wait):
            return


def _print_as_they_come(args, server, deadline: float | None) -> None:
    printer = _Printer(args, server.log)
    try:
        while not printer.done:
            wait = _time_left(deadline)
            if wait <= 0:
                return
            if server.log.wait(printer.cursor, wait):
                time.sleep(max(0.0, min(BATCH_SECONDS, _time_left(deadline))))
                printer.print_new()
    finally:
        printer.print_new()  # Ctrl+C, SIGTERM or the time limit: what came is still shown


class _Printer:
    """Prints the log's new entries, a batch at a time, up to args.count messages."""

    def __init__(self, args, log):
        self.args, self.log = args, log
        self.cursor = self.received = 0

    @property
    def done(self) -> bool:
        return self.args.count is not None and self.received >= self.args.count

    def print_new(self) -> None:
        entries, new_cursor = self.log.since_raw(self.cursor)
        skipped = new_cursor - self.cursor - len(entries)
        self.cursor = new_cursor
        if skipped:
            print(f"({skipped} entries came too fast to show)", file=sys.stderr, flush=True)
        lines = self._json_lines(entries) if self.args.json else self._plain_lines(entries)
        if lines:
            # One write for the whole batch: print() would write its newline apart, and a
            # batch longer than the buffer then went out in two writes.
            lines.append("")
            sys.stdout.write("\n".join(lines))
            sys.stdout.flush()

    def _room(self, entries: list) -> list:
        """The entries to show: all of them, or up to the message that reaches args.count."""
        if self.args.count is None:
            return entries
        left = self.args.count - self.received
        for index, entry in enumerate(entries):
            if left <= 0:
                return entries[:index]
            left -= entry[6] == MESSAGE
        return entries

    def _json_lines(self, entries: list) -> list[str]:
        entries = self._room(entries)
        lines = []
        for entry in entries:
            message = Message(entry, self.log.names)
            self.received += message.kind == MESSAGE
            line = _report(self.args, message)
            if line is not None:
                lines.append(line)
        return lines

    def _plain_lines(self, entries: list) -> list[str]:
        """_report's plain lines, straight from the log's tuples: at tens of thousands of
        messages a second this thread shares one CPU with the server's, and a Message object,
        a JSON-ready dict and four property calls per line cost it more than the line itself."""
        entries = self._room(entries)
        lines = []
        add = lines.append
        escape = escape_controls
        message = MESSAGE
        received = 0
        for _number, _when, address, data, _reply, error, kind in entries:
            if kind == message:
                received += 1
                text = data.decode("utf-8", "backslashreplace")
                add(escape(f"{address[0]}:{address[1]}: {text}"))
            elif error:
                add(escape(f"{address[0]}:{address[1]}: error: {error}"))
        self.received += received
        return lines
