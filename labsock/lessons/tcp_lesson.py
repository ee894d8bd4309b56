"""The TCP framing lesson, one call each, so a notebook cell never holds socket code.

    stream = labsock.through_slicer(["hello", "how are you?"], framing="line")
    stream            # what each recv() returned, and what the framing made of it
    side = labsock.udp_vs_tcp(["1", "2", ...], network="crowded wifi", seed=4)
    side              # the same messages over an impaired UDP relay and a TCP slicer

Everything runs on 127.0.0.1 with free ports (port 0) and stops before the call returns.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from labsock.logic.errors import LabsockError
from labsock.logic.framing import (
    LengthSplitter,
    LineSplitter,
    frame_length_prefixed,
    frame_line,
)
from labsock.logic.tables import TableReport
from labsock.net.sockets import tcp_listener, tcp_tune
from labsock.net.tcp_slicer import TCPSlicer

EXAMPLE = ["hello", "how are you?", "fine, thanks", "see you on port 12000"]
FRAMINGS = ("none", "line", "length")
MAX_TOTAL = 64 * 1024  # the lesson sends a few lines, not files


def _show(data: bytes) -> str:
    return repr(data.decode("utf-8", "backslashreplace"))


@dataclass(repr=False)
class StreamResult(TableReport):
    """What went in, what each recv() returned, and the messages the framing recovered."""

    framing: str
    sent: list[str]
    pieces: list[bytes]
    messages: list[str] = field(default_factory=list)
    code_cells = True

    @property
    def naive(self) -> list[str]:
        """Each recv() taken as one message, as a program without framing would."""
        return [p.decode("utf-8", "replace").rstrip("\n") for p in self.pieces]

    @property
    def naive_ok(self) -> bool:
        return self.naive == self.sent

    @property
    def framed_ok(self) -> bool:
        return self.messages == self.sent

    def conclusion(self) -> str:
        """What the run shows, in words that do not depend on timing (for a notebook's check
        cell)."""
        naive = "right" if self.naive_ok else "wrong"
        if self.framing == "none":
            return (
                f"{len(self.sent)} messages sent without framing: naive recv() was {naive}; "
                "nothing in the bytes says where one message ends."
            )
        framed = "every message whole" if self.framed_ok else "messages broken"
        return (
            f"{len(self.sent)} messages sent with framing {self.framing!r}: naive recv() was "
            f"{naive}; framed receive: {framed}."
        )

    def head(self) -> tuple:
        return ("sent", "each recv() returned", f"framed receive ({self.framing})")

    def rows(self) -> list[tuple[str, str, str]]:
        n = max(len(self.sent), len(self.pieces), len(self.messages))

        def cell(items, i, show=repr):
            return show(items[i]) if i < len(items) else ""

        return [
            (cell(self.sent, i), cell(self.pieces, i, _show), cell(self.messages, i))
            for i in range(n)
        ]


def _frame(message: str, framing: str) -> bytes:
    if framing == "line":
        return frame_line(message)
    if framing == "length":
        return frame_length_prefixed(message)
    return message.encode("utf-8")


def _unframe(pieces: list[bytes], framing: str) -> list[str]:
    if framing == "none":
        return []
    splitter = LineSplitter() if framing == "line" else LengthSplitter()
    out = []
    for piece in pieces:
        out += splitter.feed(piece)
    if framing == "line" and (rest := splitter.finish()) is not None:
        out.append(rest)
    return [m.decode("utf-8", "replace") for m in out]


def through_slicer(
    messages: list[str] | None = None,
    framing: str = "line",
    *,
    seed: int | None = 1,
    max_piece: int = 7,
    timeout: float = 5.0,
) -> StreamResult:
    """Send messages over one TCP connection through a slicer; return what the receiver saw.

    framing: "none" (just the text), "line" (a newline after each) or "length" (a 4-byte length
    in front). The receiver keeps every recv() result, and also runs them through the framing.
    """
    messages = list(EXAMPLE if messages is None else messages)
    if framing not in FRAMINGS:
        raise LabsockError(f"framing must be one of {', '.join(FRAMINGS)}, not {framing!r}.")
    data = [_frame(m, framing) for m in messages]
    if sum(map(len, data)) > MAX_TOTAL:
        raise LabsockError("That is more than this lesson sends: keep it under 64 KB in all.")
    receiver = tcp_listener("127.0.0.1", 0)
    receiver.settimeout(timeout)
    slicer = TCPSlicer(0, ("127.0.0.1", receiver.getsockname()[1]), seed=seed, max_piece=max_piece)
    pieces: list[bytes] = []
    try:
        slicer.start()
        with socket.create_connection(("127.0.0.1", slicer.port), timeout=timeout) as client:
            tcp_tune(client)
            for chunk in data:
                client.sendall(chunk)  # one send per message: the slicer still re-cuts them
            client.shutdown(socket.SHUT_WR)
            conn, _ = receiver.accept()
            with conn:
                conn.settimeout(timeout)
                while piece := conn.recv(1024):
                    pieces.append(piece)
    except OSError as exc:
        raise LabsockError(
            f"The TCP lesson could not run on 127.0.0.1 ({exc}). Is a firewall blocking "
            "Python on this laptop? Try running the cell again."
        ) from None
    finally:
        slicer.stop()
        receiver.close()
    return StreamResult(framing, messages, pieces, _unframe(pieces, framing))


@dataclass(repr=False)
class SideBySide(TableReport):
    """The same messages over UDP through an impaired relay and over TCP through a slicer."""

    HEAD = ("sent", "UDP server got", "TCP recv() pieces", "TCP server got (framed)")
    code_cells = True

    sent: list[str]
    udp_received: list[str]
    tcp_pieces: list[bytes]
    tcp_received: list[str]
    network: str
    udp_counts: dict

    def conclusion(self) -> str:
        """What the run shows, in words that do not depend on timing."""
        udp = (
            "all, in order, once" if self.udp_received == self.sent else "not all, or not in order"
        )
        tcp = "all, in order, once" if self.tcp_received == self.sent else "something went wrong"
        return (
            f"UDP ({self.network}): {udp}; each datagram whole or not at all. "
            f"TCP with line framing: {tcp}; the bytes came in "
            f"{'other' if len(self.tcp_pieces) != len(self.sent) else 'the same'} pieces "
            "than they were sent in."
        )

    def rows(self):
        cols = [
            self.sent,
            self.udp_received,
            [_show(p) for p in self.tcp_pieces],
            self.tcp_received,
        ]
        n = max(map(len, cols))
        return [[c[i] if i < len(c) else "" for c in cols] for i in range(n)]


def udp_vs_tcp(
    messages: list[str] | None = None,
    network="crowded wifi",
    *,
    seed: int | None = 1,
    gap: float = 0.01,
    timeout: float = 5.0,
) -> SideBySide:
    """Send the messages to a UDP server through an impairment relay, and to a TCP server
    through a slicer; return what each server logged."""
    from labsock.logic.impairment import preset
    from labsock.net.relay import UDPRelay
    from labsock.net.servers import UDPServer
    from labsock.net.tcp_server import TCPServer

    messages = list(EXAMPLE if messages is None else messages)
    impairment = preset(network)
    with (
        UDPServer(port=0, reply="none") as udp_server,
        UDPRelay(0, ("127.0.0.1", udp_server.port), network=impairment, seed=seed) as relay,
    ):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for m in messages:
                sock.sendto(m.encode("utf-8"), ("127.0.0.1", relay.port))
                time.sleep(gap)  # spaced like a person typing fast, so jitter can reorder
            relay.wait_idle(timeout, received=len(messages))
        udp_server.log.wait_for(relay.counts("forward").sent, timeout)
        udp_received = udp_server.log.texts()
        counts = relay.counts("forward").as_dict()
    stream = through_slicer(messages, "line", seed=seed, timeout=timeout)
    with (
        TCPServer(port=0, reply="none", framing="line") as tcp_server,
        TCPSlicer(0, ("127.0.0.1", tcp_server.port), seed=seed) as slicer,
        socket.create_connection(("127.0.0.1", slicer.port), timeout=timeout) as c,
    ):
        for m in messages:
            c.sendall(frame_line(m))
        tcp_server.log.wait_for(len(messages), timeout)
        tcp_received = tcp_server.log.texts()
    name = network if isinstance(network, str) else impairment.describe()
    return SideBySide(messages, udp_received, stream.pieces, tcp_received, name, counts)
