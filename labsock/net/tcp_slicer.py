"""A TCP relay that re-cuts the byte stream: every byte arrives, in order, in different pieces.

    client  ->  slicer (listen port)  ->  server (target)

It shows what TCP does and doesn't promise. Nothing is lost or reordered, but a receiver that
treats each recv() as one message sees half a message, or two at once. Framing (a newline or a
length in front of each message) is what puts the messages back.
"""

from __future__ import annotations

import selectors
import socket
import time
from dataclasses import dataclass

from labsock.logic.slicing import ByteSlicer, SliceCounts
from labsock.net.relay import RelayBase
from labsock.net.sockets import tcp_listener, tcp_tune

# The slicer sends in small pieces, slowly; past this many bytes waiting in one direction it
# stops reading from the sender (TCP then holds the sender back), so memory stays bounded.
MAX_BACKLOG = 256 * 1024


@dataclass
class _Pipe:
    """One direction of one connection."""

    source: socket.socket
    sink: socket.socket
    slicer: ByteSlicer
    eof: bool = False  # the source closed its side: pass that on once the slicer is empty
    done: bool = False
    paused: bool = False  # not reading from source until the backlog drains
    heard_at: float = 0.0  # when the source last sent something (perf_counter)


class TCPSlicer(RelayBase):
    protocol = "tcp"

    def __init__(
        self,
        listen_port: int = 0,
        to: tuple[str, int] | str = ("127.0.0.1", 12000),
        *,
        seed: int | None = None,
        max_piece: int = 7,
        merge_ms: float = 20.0,
        gap_ms: float = 5.0,
        host: str = "127.0.0.1",
        max_connections: int = 32,
    ):
        super().__init__(listen_port, to, host)
        self.seed = seed
        self.slicing = {"max_piece": max_piece, "merge_ms": merge_ms, "gap_ms": gap_ms}
        self.max_connections = max_connections
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[_Pipe, _Pipe]] = []
        self._sel = None
        self._connections = 0
        self._closed = SliceCounts()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"<TCPSlicer {self.host}:{self.port} -> {self.target[0]}:{self.target[1]} {state}; "
            f"pieces of 1..{self.slicing['max_piece']} bytes>"
        )

    def counts(self) -> SliceCounts:
        """Bytes and pieces through the slicer, both directions, all connections."""
        with self._lock:
            total = SliceCounts(**vars(self._closed))
            for p in self._pipes:
                for k, v in vars(p.slicer.counts).items():
                    setattr(total, k, getattr(total, k) + v)
        return total

    def activity(self) -> int:
        counts = self.counts()
        return counts.bytes_in + counts.bytes_out

    def describe(self) -> str:
        return f"every byte, re-cut into pieces of 1..{self.slicing['max_piece']} bytes"

    def _open(self):
        sock = tcp_listener(self.host, self.port)
        sock.setblocking(False)
        self._listener = sock
        self.port = sock.getsockname()[1]

    def _close(self):
        for p in self._pipes:
            p.source.close()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._pairs = []

    def _register(self, sel):
        self._sel = sel
        sel.register(self._listener, selectors.EVENT_READ, "listen")

    def _readable(self, sel, key):
        if key.data == "listen":
            self._accept(sel)
            return
        pipe: _Pipe = key.data
        try:
            data = pipe.source.recv(65536)
        except OSError:
            data = b""  # a reset counts as the end of that side
        if data:
            pipe.heard_at = time.perf_counter()
            pipe.slicer.push(data, pipe.heard_at)
            if pipe.slicer.backlog > MAX_BACKLOG:
                sel.unregister(pipe.source)
                pipe.paused = True
        else:
            pipe.eof = True
            sel.unregister(pipe.source)

    def _accept(self, sel):
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        if len(self._pairs) >= self.max_connections:
            # Idle connections must not keep a working client out: the quietest one makes room.
            self._close_quietest()
        try:
            server = socket.create_connection(self.target, timeout=2)
        except OSError as exc:
            self._note(f"Nothing answered at {self.target[0]}:{self.target[1]}: {exc}")
            client.close()
            return
        self._connections += 1
        n = self._connections
        for s in (client, server):
            tcp_tune(s)  # no Nagle: small pieces must leave as they are, not merged again
            s.settimeout(2.0)  # select says when to recv; sendall may wait, but not forever
        seed = None if self.seed is None else f"{self.seed}-{n}"
        now = time.perf_counter()
        forward = _Pipe(
            client, server, ByteSlicer(seed, name="forward", **self.slicing), heard_at=now
        )
        backward = _Pipe(
            server, client, ByteSlicer(seed, name="backward", **self.slicing), heard_at=now
        )
        self._pairs.append((forward, backward))
        sel.register(client, selectors.EVENT_READ, forward)
        sel.register(server, selectors.EVENT_READ, backward)

    def _next_due(self):
        times = [p.slicer.next_due() for p in self._pipes]
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def _send_due(self, now):
        for pipe in self._pipes:
            for piece in pipe.slicer.due(now):
                try:
                    pipe.sink.sendall(piece)
                except OSError:
                    pipe.eof = True
            if pipe.paused and not pipe.eof and pipe.slicer.backlog < MAX_BACKLOG // 2:
                pipe.paused = False
                self._sel.register(pipe.source, selectors.EVENT_READ, pipe)
            if pipe.eof and not pipe.done and not pipe.slicer.waiting:
                pipe.done = True
                try:
                    pipe.sink.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        # A connection is finished when both directions have passed their end on.
        for pair in [pair for pair in self._pairs if pair[0].done and pair[1].done]:
            self._forget_pair(pair)

    def _close_quietest(self) -> None:
        pair = min(self._pairs, key=lambda p: max(p[0].heard_at, p[1].heard_at))
        quiet = time.perf_counter() - max(pair[0].heard_at, pair[1].heard_at)
        self._note(
            f"{self.max_connections} connections were open: the one quiet for {quiet:.1f} s "
            "was closed to make room for a new one."
        )
        self._forget_pair(pair)

    def _forget_pair(self, pair: tuple[_Pipe, _Pipe]) -> None:
        self._pairs.remove(pair)
        for pipe in pair:
            for k, v in vars(pipe.slicer.counts).items():
                setattr(self._closed, k, getattr(self._closed, k) + v)
            try:
                self._sel.unregister(pipe.source)
            except (KeyError, ValueError):
                pass
            pipe.source.close()

    @property
    def _pipes(self) -> list[_Pipe]:
        return [pipe for pair in self._pairs for pipe in pair]


def slice_tcp(listen_port: int = 0, to="127.0.0.1:12000", **options) -> TCPSlicer:
    """Start a TCP slicer in front of a server; returns it running. Stop it with .stop()."""
    return TCPSlicer(listen_port, to, **options).start()
