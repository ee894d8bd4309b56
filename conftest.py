"""Every test run in a network of its own, where the system allows it (Linux, as root: CI).

The notebooks use the textbook's fixed ports (12000, 11000, 13000). Two runs on one machine (two
developers, two CI jobs, a run beside a notebook someone has open) would take each other's ports
and fail in ways that vanish when run alone. So before any test or notebook runs, this process
moves into a new network namespace with only its own loopback, and everything it starts (the
notebooks' kernels, the students' programs, JupyterLab and Chromium) inherits it.

Here, at the repository's root, so that `pytest notebooks/X.ipynb` gets it too. Elsewhere
(macOS, Windows, no root) nothing changes. LABSOCK_TESTS_SHARE_NETWORK=1 turns it off.
"""

from __future__ import annotations

import os
import sys

CLONE_NEWNET = 0x40000000
OWN_NETWORK = "labsock_own_network"  # the config attribute: why not, or "yes"


def pytest_configure(config):
    setattr(config, OWN_NETWORK, _own_network())


def _own_network() -> str:
    if os.environ.get("LABSOCK_TESTS_SHARE_NETWORK") == "1":
        return "turned off by LABSOCK_TESTS_SHARE_NETWORK=1"
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return "needs Linux and root"
    import ctypes
    import fcntl
    import socket
    import struct

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return f"unshare refused: {os.strerror(ctypes.get_errno())}"
    # Bring the new namespace's loopback up (as `ip link set lo up`, without needing ip).
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sh", b"lo", flags | iff_up))
    return "yes"
