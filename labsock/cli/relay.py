"""python -m labsock relay udp: a relay that loses, delays, duplicates and reorders datagrams."""

from __future__ import annotations

import json
import time

from labsock.cli.commands import stop_on_sigterm
from labsock.logic.arguments import milliseconds, port, probability, seconds

HELP = "relay UDP to a server through a misbehaving network (loss, delay, jitter, reordering)"


def add_arguments(parser) -> None:
    parser.add_argument("proto", choices=["udp"], help="only UDP: TCP never loses or reorders")
    parser.add_argument("--listen", type=port, required=True, help="port clients send to")
    parser.add_argument("--to", required=True, metavar="HOST:PORT", help="the real server")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--preset", help="good-wifi, crowded-wifi, mobile, satellite, lossy")
    parser.add_argument("--loss", type=probability, help="drop probability, each direction")
    parser.add_argument("--delay-ms", type=milliseconds, help="added delay, each direction")
    parser.add_argument("--jitter-ms", type=milliseconds, help="delay varies by up to this")
    parser.add_argument("--duplicate", type=probability, help="duplicate probability")
    parser.add_argument("--reorder", type=probability, help="probability a datagram is overtaken")
    parser.add_argument("--corrupt", type=probability, help="probability one bit is flipped")
    parser.add_argument("--seed", type=int, help="same seed, same run")
    parser.add_argument("--seconds", type=seconds, help="exit after this many seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args) -> int:
    from labsock.logic.impairment import preset
    from labsock.net.relay import UDPRelay

    network = preset(args.preset.replace("-", " ") if args.preset else None)
    changes = {
        name: getattr(args, name)
        for name in ("loss", "delay_ms", "jitter_ms", "duplicate", "reorder", "corrupt")
        if getattr(args, name) is not None
    }
    network = network.with_changes(**changes)
    relay = UDPRelay(args.listen, args.to, network=network, seed=args.seed, host=args.host)
    relay.start()

    # Everything after start() sits in the try: a SIGTERM at any point still stops the relay and
    # prints its counts (a KeyboardInterrupt escaping before the try would exit with 130).
    try:
        stop_on_sigterm()
        _announce(args, relay, network)
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)  # short sleeps keep Ctrl+C prompt on Windows
    except KeyboardInterrupt:
        pass
    finally:
        relay.stop()
    counts = {d: relay.counts(d).as_dict() for d in ("forward", "backward")}
    if args.json:
        print(json.dumps({"event": "stopped", **counts}), flush=True)
    else:
        print(relay.table(), flush=True)
    return 0


def _announce(args, relay, network) -> None:
    if args.json:
        first = {
            "event": "listening",
            "port": relay.port,
            "host": relay.host,
            "to": f"{relay.target[0]}:{relay.target[1]}",
            "network": network.__dict__,
            "seed": args.seed,
        }
        print(json.dumps(first), flush=True)
    else:
        print(
            f"UDP relay on {relay.host}:{relay.port} -> {relay.target[0]}:{relay.target[1]}; "
            f"each direction: {network.describe()}. Press Ctrl+C to stop.",
            flush=True,
        )
