"""A UDP relay that makes the network misbehave on cue, in a background thread.

    client  ->  relay (listen port)  --forward-->  server (target)
    client  <-  relay                <--backward-- server

Each client gets its own socket towards the server (so the server still tells clients apart by
source port) and its own pair of impairment links, seeded from the relay's seed and the client's
port (or, for a port the system picked, its turn), so a run with the same seed repeats
exactly. The links count what they did: the ground truth a receiver's own figures are checked
against (`relay.ground_truth(11000)`, `labsock.compare_with_relay`).

No root, no admin: this is ordinary user-space UDP, which is why it works on every laptop.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass

from labsock.logic.errors import LabsockError
from labsock.logic.impairment import Counts, Impairment, Link, preset
from labsock.net.interrupts import interruptible
from labsock.net.lifecycle import ThreadOnPort, background_thread, running
from labsock.net.progress import Progress
from labsock.net.sockets import destination, server_address, udp_socket

MAX_DATAGRAM = 65535
# Memory, bounded by bytes whatever arrives: datagrams held back (delay, reordering) in all links
# together, and the story of at most this many datagrams (each keeps its first 256 bytes).
MAX_WAITING_BYTES = 32 * 1024 * 1024
MAX_EVENTS = 100_000


def running_relays() -> list[RelayBase]:
    """The relays and TCP slicers labsock runs in this process."""
    return running(RelayBase)


class RelayBase(ThreadOnPort):
    """What the UDP relay and the TCP slicer share: a selectors loop in a thread.

    The socketpair wakes it for stop(), and the links' next due times set the select timeout (a
    timer heap per link), so delayed sends go out on time. Start, stop, `with` and re-runs come
    from labsock.net.lifecycle.
    """

    kind = "relay"
    protocol = "udp"

    def __init__(self, listen_port: int, to: tuple[str, int] | str, host: str):
        self.host, self.port = server_address(host, listen_port)
        self._requested_port = self.port
        self.target = _parse_target(to, self.protocol)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()  # guards links and sessions between the thread and readers
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self.problems: list[str] = []  # bounded; the thread never prints (Jupyter loses it)
        self._progress = Progress()  # said after every turn of the loop, for wait_idle & co.

    # -- life cycle (see labsock.net.lifecycle) -------------------------------------------------
    @property
    def what(self) -> str:
        return f"the {self.protocol.upper()} {'relay' if self.protocol == 'udp' else 'slicer'}"

    def _begin(self) -> None:
        self.port = self._requested_port
        self._stopping.clear()
        self._open()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._thread = background_thread(self._run, f"labsock-relay-{self.port}")

    def _end(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._wake()
        thread.join(0.5)
        # Alive still: a loaded machine has not run the loop yet, or a turn of it takes long.
        # Insist, and wait for it (it runs no student code, so it ends): giving up after 5 s
        # said "stopped" (running false) with the loop alive, and closed its sockets under it.
        while thread.is_alive():
            self._wake()
            thread.join(0.5)
        # Close only after the join: a socket closed under a thread in select() does not wake it.
        self._close()
        for s in (self._wake_r, self._wake_w):
            s.close()
        self._thread = None

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass  # full of earlier wake-ups: the loop has those to see

    def _note(self, text: str) -> None:
        if len(self.problems) < 100:
            self.problems.append(text)

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._register(sel)
        try:
            while not self._stopping.is_set():
                with self._lock:
                    deadline = self._next_due()
                timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
                for key, _ in sel.select(timeout):
                    if key.data == "wake":
                        continue
                    with self._lock:
                        self._readable(sel, key)
                with self._lock:
                    self._send_due(time.perf_counter())
                self._progress.changed()
        except Exception as exc:  # the thread must not die silently: say what happened
            self._note(f"The relay stopped after an unexpected error: {exc!r}")
        finally:
            sel.close()
            self._progress.changed()

    # -- for a live view (labsock.watch) --------------------------------------------------------
    def wait_for_change(self, seen: int, timeout: float) -> int:
        """activity() once it differs from `seen` or the relay stopped, or after timeout s.
        Woken by the relay's thread as it works: no polling."""
        self._progress.wait_until(lambda: self.activity() != seen or not self.running, timeout)
        return self.activity()

    # -- filled in by subclasses --------------------------------------------------------------
    def activity(self) -> int:
        """A number that grows with what passes through (for views that redraw on change)."""
        raise NotImplementedError

    def describe(self) -> str:
        """What it does to what it relays, in words."""
        raise NotImplementedError

    def _open(self): ...
    def _close(self): ...
    def _register(self, sel): ...
    def _readable(self, sel, key): ...
    def _next_due(self): ...
    def _send_due(self, now): ...


@dataclass
class _Session:
    client: tuple[str, int]
    upstream: socket.socket
    forward: Link
    backward: Link
    last_seen: float


class UDPRelay(RelayBase):
    """Relay UDP from `listen_port` to `to`, impairing each direction.

    network: a preset name ("good wifi", "crowded wifi", "mobile", ...) or an Impairment, used
    for both directions unless forward / backward are given.
    """

    protocol = "udp"

    def __init__(
        self,
        listen_port: int = 0,
        to: tuple[str, int] | str = ("127.0.0.1", 12000),
        *,
        network: Impairment | str | None = None,
        forward: Impairment | str | None = None,
        backward: Impairment | str | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
        max_clients: int = 64,
    ):
        super().__init__(listen_port, to, host)
        base = preset(network)
        self.forward = preset(forward) if forward is not None else base
        self.backward = preset(backward) if backward is not None else base
        self.seed = seed
        if isinstance(max_clients, bool) or not isinstance(max_clients, int) or max_clients < 1:
            raise LabsockError(
                f"max_clients={max_clients!r}: give a whole number of clients of at least 1, "
                "such as 64 (past it, the client heard from least recently makes room)."
            )
        self.max_clients = max_clients
        self._sock: socket.socket | None = None
        self._sessions: dict[tuple[str, int], _Session] = {}
        self._closed_counts = {"forward": Counts(), "backward": Counts()}
        self._ephemeral_clients = 0
        self._waiting_bytes = 0  # held in all links together
        # Each link keeps its share of MAX_EVENTS (10,000 at most: plenty for a diagram).
        self._events_per_link = min(10_000, max(100, MAX_EVENTS // (2 * max_clients)))

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        text = (
            f"<UDPRelay {self.host}:{self.port} -> {self.target[0]}:{self.target[1]} {state}; "
            f"forward: {self.forward.describe()}; backward: {self.backward.describe()}>"
        )
        if self.problems:
            text += f"\n{len(self.problems)} problem(s), the last: {self.problems[-1]}"
        return text

    # -- what students and tests read -----------------------------------------------------------
    def counts(self, direction: str = "forward") -> Counts:
        """What the relay did in one direction, all clients together."""
        with self._lock:
            total = Counts() + self._closed_counts[direction]
            for s in self._sessions.values():
                total = total + getattr(s, direction).counts
        return total

    def ground_truth(self, client_port: int, direction: str = "forward") -> Counts:
        """What the relay did to one client's datagrams (by the client's own port)."""
        with self._lock:
            for s in self._sessions.values():
                if s.client[1] == client_port:
                    return Counts(**getattr(s, direction).counts.as_dict())
        return Counts()

    def receiver_view(self, client_port: int, direction: str = "forward") -> dict:
        """The figures a receiver's sequence tracker should show for this client (see Link)."""
        with self._lock:
            for s in self._sessions.values():
                if s.client[1] == client_port:
                    return getattr(s, direction).receiver_view()
        return {}

    def epoch_time(self, t: float) -> float:
        """A time of the relay's own record (perf_counter) as epoch time, as logs keep it."""
        return t + self._epoch_offset

    def events(self, client_port: int, direction: str = "forward"):
        with self._lock:
            for s in self._sessions.values():
                if s.client[1] == client_port:
                    return list(getattr(s, direction).events)
        return []

    def upstream_ports(self) -> dict[int, int]:
        """Client port -> the relay's port towards the server (what the server sees)."""
        with self._lock:
            return {s.client[1]: s.upstream.getsockname()[1] for s in self._sessions.values()}

    def server_names(self, names: dict[int, str]) -> dict[int, str]:
        """Turn {11000: "c1"} into the names the server needs: keyed by the relay's ports."""
        ports = self.upstream_ports()
        return {ports[p]: name for p, name in names.items() if p in ports}

    def activity(self) -> int:
        return self.counts("forward").received + self.counts("backward").received

    def describe(self) -> str:
        return f"forward: {self.forward.describe()}; backward: {self.backward.describe()}"

    @property
    def held_bytes(self) -> int:
        """Bytes of datagrams held back now (delayed, reordered), all clients together."""
        return self._waiting_bytes

    def wait_idle(self, timeout: float = 5.0, received: int = 0, replies: int = 0) -> bool:
        """True once the relay has read at least `received` datagrams from clients (and
        `replies` from the server) and nothing waits in it any more: all delayed ones are out.
        Woken by the relay's thread as it works: no polling."""

        def idle() -> bool:
            with self._lock:
                busy = any(s.forward.waiting or s.backward.waiting for s in self._sessions.values())
            return (
                not busy
                and self.counts("forward").received >= received
                and self.counts("backward").received >= replies
            )

        with interruptible("the relay to pass on what it holds"):
            return self._progress.wait_until(idle, timeout)

    def wait_received(self, count: int, timeout: float = 5.0, direction: str = "forward") -> bool:
        """True once the relay has read count datagrams in that direction (held or not)."""
        with interruptible(f"the relay to read {count} datagram(s)"):
            return self._progress.wait_until(
                lambda: self.counts(direction).received >= count, timeout
            )

    def table(self) -> str:
        """One line per client and direction: the relay's own counts."""
        fields = list(Counts().as_dict())
        lines = [f"{'client':<22}{'direction':<10}" + "".join(f"{f:>11}" for f in fields)]
        with self._lock:
            for s in self._sessions.values():
                for direction in ("forward", "backward"):
                    c = getattr(s, direction).counts.as_dict()
                    lines.append(
                        f"{s.client[0] + ':' + str(s.client[1]):<22}{direction:<10}"
                        + "".join(f"{c[f]:>11}" for f in fields)
                    )
        return "\n".join(lines)

    # -- the thread -----------------------------------------------------------------------------
    def _open(self):
        # A fresh start counts from zero (after stop() the counts stay readable until then).
        self._sessions = {}
        self._closed_counts = {"forward": Counts(), "backward": Counts()}
        self._ephemeral_clients = 0
        # Links run on perf_counter (fine-grained everywhere); logs use epoch time.
        self._epoch_offset = time.time() - time.perf_counter()
        sock = udp_socket(self.host, self.port, role="server")
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]

    def _close(self):
        for s in self._sessions.values():
            s.upstream.close()
            # What still waits will never go out: its memory goes back now, not at the next start.
            s.forward.drop_waiting()
            s.backward.drop_waiting()
        self._waiting_bytes = 0
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _register(self, sel):
        sel.register(self._sock, selectors.EVENT_READ, "listen")

    def _session(self, sel, client) -> _Session | None:
        session = self._sessions.get(client)
        if session is not None:
            return session
        if len(self._sessions) >= self.max_clients:
            oldest = min(self._sessions.values(), key=lambda s: s.last_seen)
            self._retire(sel, oldest)
        # Its own port towards the server per client: the server still tells clients apart.
        upstream = udp_socket("127.0.0.1" if self.target[0].startswith("127.") else None, 0)
        upstream.connect(self.target)
        upstream.setblocking(False)
        seed = None if self.seed is None else f"{self.seed}-{self._seed_key(client[1])}"
        keep = self._events_per_link
        session = _Session(
            client,
            upstream,
            Link(self.forward, seed, name="forward", keep_events=keep),
            Link(self.backward, seed, name="backward", keep_events=keep),
            time.perf_counter(),
        )
        self._sessions[client] = session
        sel.register(upstream, selectors.EVENT_READ, session)
        return session

    def _seed_key(self, client_port: int) -> str:
        # A client on a chosen port (11000, 13000) draws by its port: the same decisions every
        # run, whoever comes first. A client on a port the system picked (ephemeral: from 32768
        # on Linux, 49152 on Windows and macOS) draws by its turn: first such client, second...
        if client_port < 32768:
            return str(client_port)
        self._ephemeral_clients += 1
        return f"client{self._ephemeral_clients}"

    def _retire(self, sel, session: _Session) -> None:
        sel.unregister(session.upstream)
        session.upstream.close()
        for link in (session.forward, session.backward):
            self._waiting_bytes -= link.waiting_bytes
            link.drop_waiting()
        for direction in ("forward", "backward"):
            old = self._closed_counts[direction]
            self._closed_counts[direction] = old + getattr(session, direction).counts
        del self._sessions[session.client]

    def _readable(self, sel, key):
        now = time.perf_counter()
        sock = key.fileobj
        # Read what is there now (bounded, so one busy client can't starve the timers).
        for _ in range(64):
            try:
                if key.data == "listen":
                    data, client = sock.recvfrom(MAX_DATAGRAM)
                else:
                    data = sock.recv(MAX_DATAGRAM)
            except BlockingIOError:
                return
            except OSError as exc:
                # Windows reports an earlier "port unreachable" here; Linux on connected sockets.
                if key.data != "listen":
                    self._note(f"Nothing is listening at {self.target[0]}:{self.target[1]}: {exc}")
                continue
            if key.data == "listen":
                session = self._session(sel, client)
                session.last_seen = now
                self._push(session.forward, data, now)
            else:
                self._push(key.data.backward, data, now)

    def _push(self, link: Link, data: bytes, now: float) -> None:
        before = link.waiting_bytes
        room = self._waiting_bytes + 2 * len(data) <= MAX_WAITING_BYTES  # 2: a duplicate
        link.push(data, now, room=room)
        self._waiting_bytes += link.waiting_bytes - before

    def _next_due(self):
        times = [
            t
            for s in self._sessions.values()
            for t in (s.forward.next_due(), s.backward.next_due())
            if t is not None
        ]
        return min(times) if times else None

    def _send_due(self, now):
        for s in self._sessions.values():
            before = s.forward.waiting_bytes + s.backward.waiting_bytes
            forward, backward = s.forward.due(now), s.backward.due(now)
            self._waiting_bytes -= before - s.forward.waiting_bytes - s.backward.waiting_bytes
            for data in forward:
                try:
                    s.upstream.send(data)
                except OSError as exc:
                    self._note(f"Could not pass a datagram to the server: {exc}")
            for data in backward:
                try:
                    self._sock.sendto(data, s.client)
                except OSError as exc:
                    self._note(f"Could not pass a reply back to {s.client}: {exc}")


def relay_udp(
    listen_port: int = 0,
    to: tuple[str, int] | str = ("127.0.0.1", 12000),
    network: Impairment | str | None = None,
    **options,
) -> UDPRelay:
    """Start a UDP impairment relay; returns it running. Stop it with relay.stop()."""
    return UDPRelay(listen_port, to, network=network, **options).start()


def _parse_target(to, proto: str) -> tuple[str, int]:
    """Where the relay forwards to: ("127.0.0.1", 12000) or "127.0.0.1:12000"."""
    if isinstance(to, int) and not isinstance(to, bool):
        to = ("127.0.0.1", to)
    if isinstance(to, str):
        host, sep, port = to.strip().rpartition(":")
        if not sep:
            raise LabsockError(
                f"Give the relay's target as HOST:PORT, for example 127.0.0.1:12000, not {to!r}."
            )
        to = (host or "127.0.0.1", port)
    if not isinstance(to, (tuple, list)) or len(to) != 2:
        raise LabsockError(
            f"to={to!r} does not say where the relay should forward. Give the server's address "
            "and port: to='127.0.0.1:12000' or to=('127.0.0.1', 12000)."
        )
    host, port = to
    return destination(host, port, proto)
