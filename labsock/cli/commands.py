"""`python -m labsock ...`: the same servers and clients from a terminal, for a laptop without
Jupyter. Each command lives in labsock/cli/ and is listed here once."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

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
    "versions": "labsock.cli.versions",
}


def stop_on_sigterm() -> None:
    """From now on SIGTERM (a service manager, a test, `kill`) stops like Ctrl+C: the command's
    own KeyboardInterrupt handling stops cleanly and exits with status 0."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


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
