"""Preflight: "can I reach my partner's server?", answered before the first message is typed.

A UDP probe and a TCP connect, each with a short timeout; labsock.logic.reachability says what
each outcome means and what to check.
"""

from __future__ import annotations

import socket
import time

from labsock.logic import lan_advice
from labsock.logic.errors import OK, TIMEOUT, LabsockError, outcome_of
from labsock.logic.reachability import Preflight, Probe, network_note
from labsock.logic.validation import validate_timeout

# What the partner's server log shows for a probe; a labsock server replies to it like any text.
PROBE = b"labsock preflight"
DEFAULT_TIMEOUT = 1.0
# UDP may lose one datagram on a busy Wi-Fi; three tries inside the timeout tell loss from a drop.
UDP_TRIES = 3


def probe_udp(host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> Probe:
    """Send a short datagram and wait for any reply (labsock servers answer every message)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # A connected UDP socket receives the 'port unreachable' answer as an error; an unconnected
    # one would just wait for the timeout and call a closed port a firewall.
    start = time.perf_counter()
    deadline = start + timeout
    try:
        sock.connect((host, port))
        for attempt in range(UDP_TRIES):
            sent_at = time.perf_counter()
            sock.send(PROBE)
            until = start + timeout * (attempt + 1) / UDP_TRIES
            sock.settimeout(max(0.001, min(until, deadline) - time.perf_counter()))
            try:
                sock.recv(2048)
                break
            except TimeoutError:
                continue  # send again: the datagram or its reply may have been lost
        else:
            return Probe("udp", host, port, TIMEOUT, detail=f"no reply to {UDP_TRIES} datagrams")
        # Round trip of the datagram answered (a reply to an earlier one can only be quicker).
        return Probe("udp", host, port, OK, (time.perf_counter() - sent_at) * 1000)
    except OSError as failed:
        return Probe("udp", host, port, outcome_of(failed), detail=str(failed))
    finally:
        sock.close()


def probe_tcp(host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> Probe:
    """Open a TCP connection and close it at once (the server logs a connect and a disconnect)."""
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            rtt = (time.perf_counter() - start) * 1000
    except OSError as exc:
        return Probe("tcp", host, port, outcome_of(exc), detail=str(exc) or "timed out")
    return Probe("tcp", host, port, OK, rtt)


def preflight(
    host: str,
    port: int = 12000,
    proto: str = "both",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    addresses=None,
) -> Preflight:
    """Probe a partner's server with UDP and/or TCP and say what to check. Never raises for an
    unreachable server: that is the answer. Raises LabsockError for a malformed address or port.

    addresses: this laptop's addresses (default: read them) for the 'same network?' note.
    """
    from labsock.net.sockets import destination

    if proto not in ("udp", "tcp", "both"):
        raise LabsockError(f"proto={proto!r}: choose 'udp', 'tcp' or 'both'.")
    timeout = validate_timeout(timeout)
    ip, port = destination(host, port, "udp" if proto == "both" else proto)
    probes = []
    if proto in ("udp", "both"):
        probes.append(probe_udp(ip, port, timeout))
    if proto in ("tcp", "both"):
        probes.append(probe_tcp(ip, port, timeout))
    if addresses is None and not ip.startswith("127."):
        from labsock.net.addresses import find_my_ipv4

        addresses = find_my_ipv4()
    return Preflight(
        host=ip,
        port=port,
        probes=probes,
        system=lan_advice.this_system(),
        program=lan_advice.firewall_program(),
        network_note=network_note(ip, addresses),
    )
