"""What a student's program reports, turned into what the notebook knows about it (no sockets).

The bootstrap that runs a student's program sends notes (a bind, the first wait, a prompt, a
failure explained) and batches of records (datagrams and chunks received and sent); see
labsock.logic.wire for the bytes. ProgramReports is fed those, already parsed, and keeps:

- the ports the program holds now, the ones it bound itself, every one it ever had, and the TCP
  peer of each connected socket;
- what it waits in, its input() prompt, its failure explained;
- two logs (what it received, each with its reply when one went straight back; what it sent),
  written through the logs' append/add_event, so a MessageLog or a plain test double will do.

A note is checked against what the bootstrap writes before anything is believed: a field of the
wrong type or out of range raises BadReport, and the reader that fed it ends that connection (the
program itself goes on; its state then follows its process). Events this version does not know
are ignored, so a newer bootstrap's extra notes cannot break an older reader.

Some notes ask the notebook to act (stop whatever of ours holds a port, note a claimed port,
name the stopped program that held a port a connect was refused on, answer a flush): `note()`
returns those as Request tuples for the caller to carry out.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

from labsock.logic.wire import RECEIVED, SENT, WireError

PROTOCOLS = ("udp", "tcp")
LONGEST_TEXT = 100_000  # characters of an explanation or prompt believed; a longer one is not ours
NO_PEER = ("?", 0)


class BadReport(WireError):
    """A note that is not what the bootstrap writes: the connection that sent it is ended."""


class Request(NamedTuple):
    """Something a note asks the notebook to do: what, then its details."""

    what: str  # "claimed", "bind failed", "port busy", "stopped holder", "flushed"
    proto: str = ""
    host: str = ""
    port: int = 0
    text: str = ""
    asked: int = 0  # a question's number: the answer carries it back (0: not a question)


# -- checking a note's fields ------------------------------------------------------------------


_REQUIRED = object()


def _field(note: dict, field: str, default):
    value = note.get(field)
    if value is not None:
        return value
    if default is _REQUIRED:
        raise BadReport(f"a {note['event']!r} note without {field!r}")
    return default


def _number(note: dict, field: str, *, low: int = 0, high: int = 2**63, default=_REQUIRED):
    """A whole number within [low, high] (default None: the field may be left out)."""
    value = _field(note, field, default)
    if value is not None and (type(value) is not int or not low <= value <= high):
        raise BadReport(f"{field}={value!r} in a {note['event']!r} note")
    return value


def _text(note: dict, field: str, *, longest: int = LONGEST_TEXT, default=_REQUIRED):
    """Text of at most `longest` characters (default None: the field may be left out)."""
    value = _field(note, field, default)
    if value is not None and (not isinstance(value, str) or len(value) > longest):
        raise BadReport(f"{field} is not text in a {note['event']!r} note")
    return value


def _flag(note: dict, field: str) -> bool:
    value = note.get(field, False)
    if not isinstance(value, bool):
        raise BadReport(f"{field}={value!r} in a {note['event']!r} note")
    return value


def _proto(note: dict, field: str = "proto") -> str:
    value = note.get(field)
    if value not in PROTOCOLS:
        raise BadReport(f"{field}={value!r} in a {note['event']!r} note")
    return value


def _question(what: str, note: dict) -> Request:
    """A note that asks about a port: its answer goes back with the question's number."""
    return Request(
        what,
        _proto(note),
        _text(note, "host", default="", longest=255),
        _port(note.get("port"), what),
        asked=_number(note, "asked", low=1, default=None) or 0,
    )


def _port(value, event: str) -> int:
    if type(value) is not int or not 0 <= value <= 65535:
        raise BadReport(f"port={value!r} in a {event!r} note")
    return value


def _peer(note: dict, field: str = "peer") -> tuple[str, int] | None:
    value = note.get(field)
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2 or not isinstance(value[0], str):
        raise BadReport(f"{field}={value!r} in a {note['event']!r} note")
    if len(value[0]) > 255:
        raise BadReport(f"an address of {len(value[0])} characters in a {note['event']!r} note")
    return (value[0], _port(value[1], note["event"]))


def _socket_id(note: dict, field: str = "sock") -> int:
    return _number(note, field, low=-1, high=2**31 - 1)


# -- the program's state, from its reports -----------------------------------------------------


class ProgramReports:
    """Notes and records in; ports, peers, prompt, failure and log entries out. See the module
    docstring. One reader thread feeds it; others read its plain attributes."""

    def __init__(self, received_log, sent_log, *, clock=time.time):
        self.received_log = received_log  # append(when, peer, data, reply=None), add_event(...)
        self.sent_log = sent_log  # append(when, peer, data)
        self._clock = clock
        self.ports: dict[int, tuple[str, str, int]] = {}  # socket id -> (proto, host, port)
        self.bound: set[tuple[str, str, int]] = set()  # ports it asked for by bind()
        self.used: set[tuple[str, str, int]] = set()  # every port it had, also the closed
        self.peers: dict[int, tuple[str, int]] = {}  # socket id -> TCP peer
        # True once a TCP socket labsock set SO_REUSEADDR on listened: the note on it matters
        # only to a server that listened (one that failed before says nothing of it).
        self.reuse_added = False
        self._reuse_socks: set[int] = set()  # socket ids bound with it, not yet listening
        self.sent = 0  # datagrams and chunks recorded as sent
        self.last_sent_to: tuple[str, tuple[str, int]] | None = None  # (protocol, peer)
        self.waiting_in: str | None = None  # the first thing the program waited in
        self.prompt: str | None = None  # input()'s prompt while the program waits for a line
        self.inputs_asked = 0
        self.printed_when_waiting = 0  # bytes it had written when it reported its first wait
        self.error: str | None = None
        self.error_line: int | None = None
        self.error_kind: str | None = None
        self.unrecorded_received = 0
        self.unrecorded_sent = 0
        self.exit_status: int | None = None  # what the program said it exits with
        self.others_ended = 0  # processes it had started, ended with it by labsock
        # A datagram received, held back a moment to pair it with its reply in the log.
        self._pending: list[tuple] = []

    # -- reading --------------------------------------------------------------------------------

    def held_ports(self) -> list[tuple[str, str, int]]:
        """(protocol, address, port) of every socket held now, each once, sorted."""
        return sorted(set(self.ports.values()))

    def bound_ports_held(self) -> list[tuple[str, str, int]]:
        """The ports it holds that it asked for by bind() (a client's are the system's choice)."""
        return [port for port in self.held_ports() if port in self.bound]

    @property
    def holds_back(self) -> bool:
        """True while a received datagram waits to be paired with its reply (see settle)."""
        return bool(self._pending)

    # -- feeding --------------------------------------------------------------------------------

    def feed(self, kind: str, body) -> list[Request]:
        """One parsed frame (see wire.FrameReader): ("note", dict) or ("batch", [records])."""
        if kind == "note":
            return self.note(body)
        self.records(body)
        return []

    def settle(self) -> None:
        """Log what was held back: no reply came in time (called after a quiet moment)."""
        while self._pending:
            when, peer, data, _ = self._pending.pop(0)
            self.received_log.append(when, peer, data)

    def end(self) -> None:
        """The program has ended: it holds nothing and waits for nothing."""
        self.settle()
        self.ports.clear()
        self.peers.clear()
        self.prompt = None

    def records(self, records: list) -> None:
        """Datagrams and chunks received and sent (wire's batch: its layout is checked there;
        here what the layout allows but the bootstrap never writes). All checked before any is
        logged, so a bad batch changes nothing."""
        for kind, when, _, _, _, _ in records:
            if kind not in (RECEIVED, SENT) or not math.isfinite(when):
                raise BadReport(f"a record of kind {kind} at time {when}")
        for kind, when, sock_id, peer, data, _size in records:
            if peer is None:
                peer = self.peers.get(sock_id, NO_PEER)
            proto = self.ports.get(sock_id, ("udp",))[0]
            if kind == RECEIVED:
                self.settle()
                if data or proto == "udp":
                    self._pending.append((when, peer, data, sock_id))
                else:  # TCP's recv of b"": the peer closed
                    self.received_log.add_event(when, peer, "disconnected")
            else:
                self.sent += 1
                self.sent_log.append(when, peer, data)
                self.last_sent_to = (proto, peer)
                pending = self._pending
                if pending and pending[0][1] == peer and pending[0][3] == sock_id:
                    received_at, _, received, _ = pending.pop()
                    reply = data.decode("utf-8", "backslashreplace")
                    self.received_log.append(received_at, peer, received, reply)

    def note(self, note: dict) -> list[Request]:
        """One note (checked first: BadReport if it is not what the bootstrap writes)."""
        event = note.get("event")
        handler = _HANDLERS.get(event) if isinstance(event, str) else None
        if handler is None:
            return []  # an event this version does not know: nothing believed
        self.settle()
        return handler(self, note) or []

    # -- one method per event -------------------------------------------------------------------

    def _bound(self, note: dict):
        sock = _socket_id(note)
        port = (_proto(note), _text(note, "host", longest=255), _port(note.get("port"), "bound"))
        implicit, reuse_added = _flag(note, "implicit"), _flag(note, "reuse_added")
        self.ports[sock] = port
        self.used.add(port)
        if reuse_added:
            self._reuse_socks.add(sock)
        if not implicit:
            self.bound.add(port)
            return [Request("claimed", port[0], port[1], port[2])]
        return None

    def _listening(self, note: dict):
        if _socket_id(note) in self._reuse_socks:
            self.reuse_added = True

    def _accepted(self, note: dict):
        sock, listener = (
            _socket_id(note),
            _number(note, "listener", low=-1, high=2**31, default=None),
        )
        peer = _peer(note) or NO_PEER
        self.peers[sock] = peer
        if listener in self.ports:
            self.ports[sock] = self.ports[listener]
        self.received_log.add_event(self._clock(), peer, "connected")

    def _connected(self, note: dict):
        self.peers[_socket_id(note)] = _peer(note) or NO_PEER

    def _closed(self, note: dict):
        sock = _socket_id(note)
        self.ports.pop(sock, None)
        self.peers.pop(sock, None)
        self._reuse_socks.discard(sock)

    def _waiting(self, note: dict):
        how = _text(note, "how", longest=100)
        self.printed_when_waiting = _number(note, "printed", default=0)
        self.waiting_in = how

    def _input(self, note: dict):
        prompt = _text(note, "prompt", default="")
        self.printed_when_waiting = _number(note, "printed", default=0)
        self.inputs_asked += 1
        self.prompt = prompt
        if self.waiting_in is None:
            self.waiting_in = "input"

    def _typed(self, note: dict):
        self.prompt = None

    def _failed(self, note: dict):
        text = _text(note, "text", default=None)
        line = _number(note, "line", default=None)
        kind = _text(note, "error", longest=200, default=None)
        bind = note.get("bind")
        if bind is not None:
            if not isinstance(bind, list | tuple) or len(bind) != 2:
                raise BadReport(f"bind={bind!r} in a 'failed' note")
            bind = (_proto({"event": "failed", "proto": bind[0]}), _port(bind[1], "failed"))
        self.error, self.error_line, self.error_kind = text, line, kind
        if bind:  # a server that could not bind: cells below must not go on
            return [Request("bind failed", bind[0], "", bind[1], text or "bind failed")]
        return None

    def _unrecorded(self, note: dict):
        received = _number(note, "received", default=0)
        sent = _number(note, "sent", default=0)
        self.unrecorded_received += received
        self.unrecorded_sent += sent

    def _port_busy(self, note: dict):
        return [_question("port busy", note)]

    def _stopped_holder(self, note: dict):
        """A connect was refused: the program asks which stopped program held that port."""
        return [_question("stopped holder", note)]

    def _flushed(self, note: dict):
        return [Request("flushed")]

    def _others_ended(self, note: dict):
        """From the supervisor (Linux): it ended this many other processes of the program's."""
        self.others_ended = _number(note, "count", high=2**31)
        _text(note, "why", longest=40, default="")

    def _exiting(self, note: dict):
        self.exit_status = _number(note, "status", low=-(2**31), high=2**31, default=0)


_HANDLERS = {
    "bound": ProgramReports._bound,
    "listening": ProgramReports._listening,
    "accepted": ProgramReports._accepted,
    "connected": ProgramReports._connected,
    "closed": ProgramReports._closed,
    "waiting": ProgramReports._waiting,
    "input": ProgramReports._input,
    "typed": ProgramReports._typed,
    "failed": ProgramReports._failed,
    "unrecorded": ProgramReports._unrecorded,
    "port busy": ProgramReports._port_busy,
    "stopped holder": ProgramReports._stopped_holder,
    "flushed": ProgramReports._flushed,
    "exiting": ProgramReports._exiting,
    "others ended": ProgramReports._others_ended,
}
