"""python -m labsock addresses: this laptop's IPv4 addresses, which one to give a partner, and
what its firewall needs (the same table as find_my_ipv4() in a notebook)."""

from __future__ import annotations

from labsock.logic.arguments import port

HELP = "list this laptop's IPv4 addresses and say which one to give a partner"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--proto", choices=["udp", "tcp"], default="udp", help="for the firewall steps"
    )
    parser.add_argument("--port", type=port, default=12000, help="for the firewall steps")


def run(args) -> int:
    from labsock.logic import lan_advice
    from labsock.net.addresses import find_my_ipv4

    system = lan_advice.this_system()
    program = lan_advice.firewall_program()
    print(find_my_ipv4())
    print()
    print(f"The program a firewall must allow (this Python): {program}")
    print(
        "For a partner to reach a server here: "
        + lan_advice.firewall_steps(system, args.proto, args.port, program)
    )
    return 0
