"""python -m labsock preflight HOST: can this laptop reach a partner's server? A UDP probe and a
TCP connect, each with a short timeout, and what to check for each outcome."""

from __future__ import annotations

from labsock.logic.arguments import port, seconds

HELP = "check whether a partner's server can be reached (UDP probe, TCP connect) and say why not"


def add_arguments(parser) -> None:
    parser.add_argument("host", help="the server laptop's IPv4 address")
    parser.add_argument("--port", type=port, default=12000, help="the server's port")
    parser.add_argument("--proto", choices=["udp", "tcp", "both"], default="both")
    parser.add_argument("--timeout", type=seconds, default=1.0, help="seconds to wait per probe")


def run(args) -> int:
    from labsock.net.preflight import preflight

    report = preflight(args.host, args.port, args.proto, timeout=args.timeout)
    print(report)
    # 0 when the server answered at least one probe: scripts can test "reachable?".
    return 0 if report.ok else 1
