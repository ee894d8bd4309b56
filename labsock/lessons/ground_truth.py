"""Compare a receiver with the relay: did the server's tracker see exactly what the relay did?

    comparison = compare_with_relay(server, relay, {11000: "c1", 13000: "c2"})
    comparison       # a table per client: relay's figures next to the tracker's, and a verdict

The relay knows what it did to every datagram (its ground truth); the server only knows what
arrived. For numbered messages the two must agree exactly: each drop the receiver can notice is
one missing number, each extra copy one duplicate, each overtaken datagram one out of order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from labsock.logic.tables import TableReport

FIGURES = ("received", "missing", "duplicates", "out_of_order")


@dataclass
class ClientComparison:
    name: str
    relay: dict  # the relay's receiver_view for this client
    tracker: dict  # the tracker's figures for the same client

    @property
    def match(self) -> bool:
        return all(self.relay[k] == self.tracker[k] for k in FIGURES)


class RelayComparison(TableReport):
    """The relay's figures beside the tracker's, per client, and whether they all match."""

    HEAD = ("client", "figure", "relay did", "server's tracker saw")

    def __init__(self, clients: list[ClientComparison]):
        self.clients = clients

    @property
    def all_match(self) -> bool:
        return bool(self.clients) and all(c.match for c in self.clients)

    def rows(self) -> list[list[str]]:
        rows = []
        for c in self.clients:
            for k in FIGURES:
                # "out of order", not the key's out_of_order: this table is for students
                rows.append([c.name, k.replace("_", " "), str(c.relay[k]), str(c.tracker[k])])
            rows.append([c.name, "dropped, unseen", str(c.relay["dropped_unseen"]), "-"])
        return rows

    def conclusion(self) -> str:
        return "all match exactly" if self.all_match else "MISMATCH"


def compare_with_relay(server, relay, names: Mapping[int, str] | None = None) -> RelayComparison:
    """Feed the server's log to a sequence tracker and set it beside the relay's ground truth.

    names: client port -> name ({11000: "c1"}); without it every client the relay saw is listed.
    "dropped, unseen" are drops no receiver can notice: before the first or after the last
    datagram that got through.
    """
    from labsock.logic.sequence import SequenceTracker, parse_number

    log = getattr(server, "log", server)
    upstream = relay.upstream_ports()
    names = dict(names or {p: str(p) for p in upstream})
    tracker = SequenceTracker()
    for m in log.messages():
        tracker.feed(m.port, parse_number(m.text))
    rows = []
    for client_port, name in names.items():
        if client_port not in upstream:
            continue
        seen = upstream[client_port]
        if seen in tracker:
            stats = tracker.stats(seen)
            figures = {k: getattr(stats, k) for k in FIGURES}
        else:
            figures = dict.fromkeys(FIGURES, 0)
        rows.append(ClientComparison(name, relay.receiver_view(client_port), figures))
    return RelayComparison(rows)
