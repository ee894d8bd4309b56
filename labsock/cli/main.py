"""Until cli/serve.py imports from labsock.cli.commands (the next commit)."""

from labsock.cli.commands import stop_on_sigterm  # noqa: F401
