"""labsock.stop_all(): stop everything of every kind this notebook (or script) started.

Servers, counting clients, relays, TCP slicers and students' programs each keep a registry of
their own; a kind whose module was never imported has nothing running, and is not imported here.
"""

from __future__ import annotations

import sys

# module -> the function in it that lists the running things of its kind. Programs and clients
# first: a server stopped before its clients would see them knock on a closed port.
_KINDS = {
    "labsock.net.programs.job": "running_jobs",
    "labsock.net.counting": "running_counters",
    "labsock.net.relay": "running_relays",  # the TCP slicer is a relay too
    "labsock.net.servers": "running_servers",
}


def stop_all() -> None:
    """Stop every server, client, relay and program labsock started in this process."""
    for module_name, function in _KINDS.items():
        module = sys.modules.get(module_name)
        if module is not None:
            for thing in getattr(module, function)():
                thing.stop()
