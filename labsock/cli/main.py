"""`python -m labsock ...`: the same servers and clients from a terminal, for a laptop without
Jupyter. Each command lives in labsock/cli/ and is listed here once."""

from __future__ import annotations

import argparse
import importlib
import sys

from labsock.logic.checks import check_port
from labsock.logic.errors import LabsockError

# name -> module in labsock/cli with HELP, add_arguments(parser) and run(args) -> int
COMMANDS = {
    "serve": "labsock.cli.serve",
    "send": "labsock.cli.send",
    "addresses": "labsock.cli.addresses",
    "preflight": "labsock.cli.preflight",
    "count": "labsock.cli.count",
    "relay": "labsock.cli.relay",
    "ping": "labsock.cli.ping",
}


def port_argument(text: str) -> int:
    """argparse type for a port: a bad one becomes a usage message and status 2."""
    try:
        return check_port(text, allow_zero=True)
    except LabsockError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:  # inf would overflow the system's clock: never a real wait
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds, e.g. 2")
    return value


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1, e.g. 5")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m labsock",
        description="labsock servers and clients from a terminal.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    # A console that cannot show some character must not turn a message into a traceback.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except LabsockError as exc:
        print(f"labsock: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
