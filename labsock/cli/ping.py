"""python -m labsock ping: numbered UDP pings, then min/avg/max/stdev RTT and loss, like ping."""

from __future__ import annotations

import json

from labsock.cli.main import port_argument, positive_int, positive_number

HELP = "send numbered UDP pings to a server (e.g. serve udp --reply echo) and report RTT and loss"


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the server's address")
    parser.add_argument("--port", type=port_argument, default=12000)
    parser.add_argument("--count", type=positive_int, default=10, help="how many pings")
    parser.add_argument(
        "--timeout", type=positive_number, default=1.0, help="seconds to wait for each reply"
    )
    parser.add_argument(
        "--interval", type=_interval, default=1.0, help="seconds from one ping to the next"
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per line; the last is the summary"
    )


def _interval(text: str) -> float:
    """argparse type: a bad interval (inf, nan, -1, abc) becomes a usage message."""
    import argparse

    from labsock.logic.errors import LabsockError
    from labsock.net.ping import check_interval

    try:
        return check_interval(float(text))
    except (ValueError, LabsockError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from 0 to 3600, e.g. 0.5"
        ) from None


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
