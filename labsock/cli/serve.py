"""python -m labsock serve {udp,tcp}: a server in a terminal, one line per message received."""

from __future__ import annotations

import signal
import sys
import time

from labsock.cli.main import port_argument, positive_int, positive_number
from labsock.logic.replies import BUILT_IN
from labsock.logic.text import escape_controls, json_line
from labsock.net.log import MESSAGE
from labsock.net.servers import TCPServer, UDPServer

HELP = "run a UDP or TCP server and print each message it receives"


def add_arguments(parser) -> None:
    parser.add_argument("proto", choices=["udp", "tcp"], help="which protocol to serve")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on: 127.0.0.1 (this computer only, the default) or 0.0.0.0 "
        "(let other computers connect)",
    )
    parser.add_argument("--port", type=port_argument, default=12000, help="0 takes a free port")
    parser.add_argument("--reply", choices=list(BUILT_IN), default="upper", help="what to answer")
    parser.add_argument("--count", type=positive_int, help="exit after this many messages")
    parser.add_argument("--seconds", type=positive_number, help="exit after this many seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--quiet", action="store_true", help="print only the listening line")


def _stop_on_sigterm() -> None:
    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _say(args, event: dict, plain: str) -> None:
    # Received text is the sender's choice: no control character reaches the terminal raw.
    print(json_line(event) if args.json else escape_controls(plain), flush=True)


def _report(args, message) -> None:
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
        _say(args, event, f"{message.client}: {message.text}")
    elif message.error:
        _say(
            args,
            {"event": "error", "client": message.client, "error": message.error},
            f"{message.client}: error: {message.error}",
        )


def run(args) -> int:
    kind = UDPServer if args.proto == "udp" else TCPServer
    server = kind(args.host, args.port, args.reply)
    _stop_on_sigterm()
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
    cursor = received = 0
    while args.count is None or received < args.count:
        wait = 0.5  # short waits keep Ctrl+C prompt on Windows, where a long wait ignores it
        if deadline is not None:
            wait = min(wait, deadline - time.monotonic())
            if wait <= 0:
                break
        server.log.wait(cursor, wait)
        entries, new_cursor = server.log.since(cursor)
        skipped = new_cursor - cursor - len(entries)
        cursor = new_cursor
        if skipped and not args.quiet:
            print(f"({skipped} entries came too fast to show)", file=sys.stderr, flush=True)
        for message in entries:
            if args.count is not None and received >= args.count:
                break
            received += message.kind == MESSAGE
            if not args.quiet:
                _report(args, message)
