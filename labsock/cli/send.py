"""python -m labsock send {udp,tcp} MESSAGE: send one message, print the reply."""

from __future__ import annotations

from labsock.logic.arguments import port, seconds
from labsock.logic.framing import FRAMINGS
from labsock.logic.text import escape_controls
from labsock.net.clients import send

HELP = "send one message to a server and print its reply"


def add_arguments(parser) -> None:
    parser.add_argument("proto", choices=["udp", "tcp"], help="the server's protocol")
    parser.add_argument("message", help="the text to send (quote it if it has spaces)")
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=port, default=12000, help="the server's port")
    parser.add_argument("--timeout", type=seconds, default=2.0, help="seconds to wait")
    parser.add_argument("--bind-port", type=port, default=None, help="local port to send from")
    parser.add_argument(
        "--no-reply", action="store_true", help="do not wait for a reply (a reply='none' server)"
    )
    parser.add_argument(
        "--framing",
        choices=list(FRAMINGS),
        default="auto",
        help="TCP only: auto (a line; the reply ends at a newline, a pause or the close), line, "
        "or length (a 4-byte length first)",
    )


def run(args) -> int:
    reply = send(
        args.proto,
        args.message,
        args.host,
        args.port,
        timeout=args.timeout,
        bind_port=args.bind_port,
        expect_reply=not args.no_reply,
        **({"framing": args.framing} if args.proto == "tcp" else {}),
    )
    if reply is not None:
        print(escape_controls(reply), flush=True)  # the server's text must not drive the terminal
    return 0
