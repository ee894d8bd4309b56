"""What to do when another laptop can't be reached: the firewall advice for each system.

Pure text, no sockets: every function takes the system name ("windows", "macos", "linux") and the
program path as arguments, so each system's advice is tested on any machine. labsock.logic.errors
explains an exception, and an error number, on every system; this module adds what differs
between Windows, macOS and Linux once a second laptop is involved (firewalls ask about programs on
Windows and macOS, about ports on Linux).
"""

from __future__ import annotations

import os
import sys

WINDOWS = "windows"
MACOS = "macos"
LINUX = "linux"
SYSTEMS = (WINDOWS, MACOS, LINUX)


def this_system(platform: str | None = None) -> str:
    platform = sys.platform if platform is None else platform
    if platform.startswith("win"):
        return WINDOWS
    if platform == "darwin":
        return MACOS
    return LINUX


def firewall_program(
    executable: str | None = None, *, system: str | None = None, base: str | None = None
) -> str:
    """The program a firewall must allow: the Python that actually opens the sockets.

    macOS and Windows firewalls decide per program. A venv's python on macOS and Linux is a link
    to the real interpreter, which the firewall lists, so the link is followed. On Windows a
    venv's python.exe is a small launcher that starts the base python.exe, and the base one owns
    the sockets, so that is the one to allow.
    """
    system = this_system() if system is None else system
    executable = sys.executable if executable is None else executable
    if system == WINDOWS:
        base = getattr(sys, "_base_executable", None) if base is None else base
        return base or executable or "python.exe"
    return os.path.realpath(executable) if executable else "python"


# -- the server laptop's firewall -------------------------------------------------------------


def firewall_question(system: str) -> str:
    """What the firewall asks when a server starts listening on the network."""
    if system == WINDOWS:
        return (
            "Windows now shows 'Windows Defender Firewall has blocked some features of this app' "
            "for Python: tick 'Private networks' and click 'Allow access'. Do not click Cancel: "
            "Windows would not ask again and would silently drop your partner's messages."
        )
    if system == MACOS:
        return (
            "macOS may now ask 'Do you want the application \u201cPython\u201d to accept incoming "
            "network connections?': click Allow."
        )
    return (
        "Linux does not ask: if a firewall (ufw, firewalld) is active, open the port yourself "
        "(see below)."
    )


def firewall_steps(system: str, proto: str, port: int, program: str) -> str:
    """How to let a partner's messages reach a server on this system: one paragraph."""
    p = proto.upper()
    if system == WINDOWS:
        return (
            "Windows Defender Firewall drops messages for a program it has not been told to "
            "allow. The first time a Python server listens on the network, Windows asks 'Allow "
            "access?'; whoever clicked Cancel gets no second question, and Windows quietly adds a "
            "rule that blocks Python. To allow it: Start > 'Allow an app through Windows "
            "Firewall' > Change settings > Allow another app... > Browse... > "
            f"{program} > Add, then tick Private. Or in PowerShell run as administrator: "
            f'New-NetFirewallRule -DisplayName "labsock {p} {port}" -Direction Inbound '
            f'-Program "{program}" -Protocol {p} -LocalPort {port} -Action Allow -Profile Private. '
            "A block rule beats an allow rule: in 'Windows Defender Firewall with Advanced "
            "Security' > Inbound Rules, delete any python.exe rule with a red sign. The rule "
            "covers Private networks only: if the Wi-Fi is marked Public (Settings > Network & "
            "internet > Wi-Fi > your network > Network profile type), make it Private, or ask "
            "your teacher about the campus rules."
        )
    if system == MACOS:
        return (
            "The macOS firewall decides per program. The first time a Python server listens on "
            "the network macOS asks 'Do you want the application \u201cPython\u201d to accept "
            "incoming network connections?'; after Deny, Python is blocked silently. To allow "
            "it: System Settings > Network > Firewall > Options..., find Python "
            f"({program}) and choose 'Allow incoming connections' (add it with + if it is not "
            "listed). Or in Terminal: sudo /usr/libexec/ApplicationFirewall/socketfilterfw "
            f'--add "{program}" and then --unblockapp "{program}". If "Block all incoming '
            'connections" is on, turn it off for the lab.'
        )
    return (
        "Linux firewalls decide per port, not per program. Ubuntu and Mint: `sudo ufw status`; "
        f"if it says active, `sudo ufw allow {port}/{proto}`. Fedora and openSUSE: `sudo "
        f"firewall-cmd --state`; if running, `sudo firewall-cmd --add-port={port}/{proto}` (until "
        f"the next restart). With neither, `sudo nft list ruleset` shows any other rules."
    )


def firewall_one_liners(proto: str, port: int) -> str:
    """The short version for each system, for a client that does not know the server's system.
    proto "both": both protocols (ufw opens both when no protocol is named)."""
    port_rule = f"{port}" if proto == "both" else f"{port}/{proto}"
    return (
        "On the server laptop: Windows, allow Python through Windows Defender Firewall on "
        "Private networks; macOS, System Settings > Network > Firewall > Options, allow Python; "
        f"Linux, `sudo ufw allow {port_rule}`. `python -m labsock addresses` on that laptop "
        "prints the exact steps for its system and the Python program to allow."
    )
