"""python -m labsock ping: numbered UDP pings, then min/avg/max/stdev RTT and loss, like ping."""

from __future__ import annotations

import json

from labsock.logic.arguments import pause, port, seconds, whole_number

HELP = "send numbered UDP pings to a server (e.g. serve udp --reply echo) and report RTT and loss"


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=port, default=12000)
    parser.add_argument("--count", type=whole_number, default=10, help="how many pings")
    parser.add_argument(
        "--timeout", type=seconds, default=1.0, help="seconds to wait for each reply"
    )
    parser.add_argument(
        "--interval", type=pause, default=1.0, help="seconds from one ping to the next"
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per line; the last is the summary"
    )


def run(args) -> int:
    from labsock.net.ping import ping

    def show(event: dict, line: str) -> None:
        print(json.dumps(event) if args.json else line, flush=True)

    if not args.json:
        print(f"PING {args.host}:{args.port} (UDP), {args.count} pings", flush=True)
    result = ping(
        args.host,
        args.port,
        count=args.count,
        timeout=args.timeout,
        interval=args.interval,
        on_event=show,
    )
    if args.json:
        print(json.dumps(result.as_dict()), flush=True)
    else:
        print("\n" + result.summary(), flush=True)
    return 0
