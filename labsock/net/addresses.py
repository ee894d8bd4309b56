"""This laptop's IPv4 addresses, read from the system and labelled (labsock.logic.address_labels).

The interfaces are read with ifaddr (pure Python over the system's own interface list:
GetAdaptersAddresses on Windows, getifaddrs elsewhere). Nothing is sent anywhere to find them.
"""

from __future__ import annotations

import sys

from labsock.logic.address_labels import AddressList, Interface, label_all


def read_interfaces() -> list[Interface]:
    """This machine's IPv4 addresses, from the system's interface list (nothing is sent)."""
    try:
        import ifaddr  # imported here so `import labsock` stays light
    except ImportError:
        from labsock.logic.errors import LabsockError

        raise LabsockError(
            "Listing this laptop's addresses needs the ifaddr package: run `pip install -r "
            "requirements.txt` (or `pip install ifaddr`), then restart the kernel."
        ) from None

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not ip.is_IPv4:
                continue
            # On Windows ip.nice_name is the adapter's name ("Wi-Fi") and adapter.nice_name the
            # device; on Linux and macOS both are the interface name ("wlp2s0", "en0").
            name = ip.nice_name or adapter.nice_name
            description = adapter.nice_name if adapter.nice_name != name else ""
            found.append(Interface(name, ip.ip, ip.network_prefix, description))
    return found


def find_my_ipv4() -> AddressList:
    """This laptop's IPv4 addresses, labelled, with the one to give a partner marked."""
    return label_all(read_interfaces(), in_wsl=running_in_wsl())


def running_in_wsl(release: str | None = None) -> bool:
    """True inside WSL, whose addresses belong to a virtual network behind Windows."""
    if release is None:
        if not sys.platform.startswith("linux"):
            return False
        import platform

        release = platform.release()
    return "microsoft" in release.lower()
