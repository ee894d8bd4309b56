"""`python -m labsock ...`: the command line, for a laptop without Jupyter."""

from labsock.cli.commands import main

__all__ = ["main"]
