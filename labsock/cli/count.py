"""python -m labsock count --bind-port 11000: a counting client in a terminal (Task 3)."""

from __future__ import annotations

import sys

from labsock.cli.commands import stop_on_sigterm
from labsock.logic.arguments import pause, port, whole_number
from labsock.net.counting import CountingClient

HELP = "send 1, 2, ..., 100, 1, 2, ... to a UDP server from a chosen local port"


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=port, default=12000, help="the server's port")
    parser.add_argument(
        "--bind-port",
        type=port,
        required=True,
        help="local port to send from, e.g. 11000 for c1 and 13000 for c2 (0: any free port)",
    )
    parser.add_argument(
        "--delay", type=pause, default=0.2, help="seconds between messages (default 0.2)"
    )
    parser.add_argument("--count", type=whole_number, help="stop after this many messages")


def run(args) -> int:
    client = CountingClient(
        args.bind_port, args.host, args.port, delay=args.delay, count=args.count
    ).start()
    stop_on_sigterm()
    until = f"{args.count} messages" if args.count else "Ctrl+C"
    print(
        f"Counting from local port {client.bind_port} to {client.host}:{client.port} (UDP), "
        f"one number every {args.delay:g} s, until {until}.",
        flush=True,
    )
    warned = False
    try:
        # Short waits keep Ctrl+C prompt on Windows, where a long wait ignores it.
        while not client.wait(0.5):
            if client.refused and not warned:
                print(f"labsock: {client.error}", file=sys.stderr, flush=True)
                warned = True
    except KeyboardInterrupt:
        pass
    finally:
        client.stop()
    last = f", the last was {client.last_sent}" if client.last_sent is not None else ""
    print(f"Sent {client.sent} message(s){last}.", flush=True)
    if client.error and not warned:
        print(f"labsock: {client.error}", file=sys.stderr, flush=True)
    # Refusals are reported, not fatal (the client keeps counting); any other failure is.
    return 1 if client.error and not client.refused else 0
