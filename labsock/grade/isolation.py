"""How each student's programs are kept apart: a Linux namespace each, or one at a time.

In its own network namespace a student's programs have their own loopback, so every student
can use the lab's fixed ports (12000, ...) at the same time; in its own PID namespace everything
they start, even a child that called os.setsid(), ends when the grading of that student ends
(`unshare --kill-child`). As root plain namespaces; otherwise unprivileged user namespaces where
the system allows them. Elsewhere (macOS, Windows, or no namespaces) students are graded one
at a time, each in its own process group, and the lab's ports are checked free before each.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from functools import cache

NAMESPACE = ["--net", "--pid", "--fork", "--kill-child"]


@cache
def namespace_prefix() -> tuple[str, ...] | None:
    """The command that runs a program in new network and PID namespaces; None where none can."""
    unshare = shutil.which("unshare")
    if not sys.platform.startswith("linux") or unshare is None:
        return None
    candidates = [[unshare, *NAMESPACE]] if os.geteuid() == 0 else []
    candidates.append([unshare, "--user", "--map-root-user", *NAMESPACE])
    for prefix in candidates:
        try:
            tried = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if tried.returncode == 0:
            return tuple(prefix)
    return None


def held_ports(ports) -> list[str]:
    """Which of the ports something on this computer holds, as "UDP 12000" / "TCP 12000"."""
    held = []
    for port in sorted(set(ports)):
        for kind, name in ((socket.SOCK_DGRAM, "UDP"), (socket.SOCK_STREAM, "TCP")):
            with socket.socket(socket.AF_INET, kind) as probe:
                if kind == socket.SOCK_STREAM and sys.platform != "win32":
                    # The last student's closed connections wait out TIME_WAIT on the port;
                    # labsock's programs bind through that (SO_REUSEADDR), and so does this.
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    held.append(f"{name} {port}")
    return held
