"""What a student's program reports to the notebook, as bytes and back (no sockets here).

The bootstrap that runs a student's program (labsock/net/programs/bootstrap.py) reports what the
program's sockets do over one loopback connection to the notebook's kernel. Two kinds of frame:

- a *note*: one JSON object, for what happens a few times per program (a bind, the first wait in
  recvfrom, a prompt from input(), an error explained);
- a *batch*: many datagrams or chunks received and sent, packed in binary, because a server may
  handle tens of thousands a second and the watching must not slow it down.

Every frame is its length (4 bytes) then its body; the body's first byte says which kind. JSON
and a fixed binary layout, never pickle or marshal: the notebook only ever parses plain data.
"""

from __future__ import annotations

import json
import struct

NOTE, BATCH = b"N", b"B"
RECEIVED, SENT = 1, 2
# Enough of each datagram or chunk for logs, counting and checks; the full size is kept too.
KEPT_BYTES = 512
# A frame larger than this is not from our bootstrap: the reader stops rather than buffer it.
MAX_FRAME = 8 * 1024 * 1024

_LENGTH = struct.Struct("<I")
# kind, time, socket id, peer port, length of the peer's address, bytes kept, real size
_RECORD = struct.Struct("<Bdi HH II")


class WireError(ValueError):
    """The bytes on the control connection are not what the bootstrap writes."""


def note(event: str, **fields) -> bytes:
    body = NOTE + json.dumps({"event": event, **fields}, ensure_ascii=True).encode("ascii")
    return _LENGTH.pack(len(body)) + body


def batch(records) -> bytes:
    """records: (kind, time, socket id, (ip, port) or None, data, size) tuples."""
    parts = [BATCH]
    pack = _RECORD.pack
    for kind, when, sock_id, peer, data, size in records:
        ip, port = (peer[0], peer[1]) if peer else ("", 0)
        ip_bytes = str(ip).encode("ascii", "replace")
        parts.append(pack(kind, when, sock_id, port, len(ip_bytes), len(data), size))
        parts.append(ip_bytes)
        parts.append(data)
    body = b"".join(parts)
    return _LENGTH.pack(len(body)) + body


class FrameReader:
    """Bytes in (any pieces), frames out: ("note", dict) or ("batch", [records])."""

    def __init__(self):
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, object]]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= 4:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if length == 0 or length > MAX_FRAME:
                raise WireError(f"a frame of {length} bytes")
            if len(self._buffer) < 4 + length:
                break
            body = bytes(self._buffer[4 : 4 + length])
            del self._buffer[: 4 + length]
            frames.append(parse(body))
        return frames


def parse(body: bytes) -> tuple[str, object]:
    kind, rest = body[:1], body[1:]
    if kind == NOTE:
        try:
            value = json.loads(rest.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WireError(f"a note that is not JSON: {exc}") from None
        if not isinstance(value, dict) or not isinstance(value.get("event"), str):
            raise WireError("a note without an event name")
        return "note", value
    if kind == BATCH:
        return "batch", _records(rest)
    raise WireError(f"a frame of unknown kind {kind!r}")


def _records(body: bytes) -> list[tuple]:
    records, at, size = [], 0, _RECORD.size
    try:
        while at < len(body):
            kind, when, sock_id, port, ip_len, kept, real = _RECORD.unpack_from(body, at)
            at += size
            ip = body[at : at + ip_len].decode("ascii", "replace")
            at += ip_len
            data = body[at : at + kept]
            at += kept
            if len(data) != kept:
                raise WireError("a record cut short")
            peer = (ip, port) if ip else None
            records.append((kind, when, sock_id, peer, data, real))
    except struct.error as exc:
        raise WireError(f"a record cut short: {exc}") from None
    return records
