"""What a student's program reports to the notebook, as bytes and back (no sockets here).

The bootstrap that runs a student's program (labsock/net/programs/bootstrap.py) reports what the
program's sockets do over one socket pair shared with the notebook's kernel (no port). Two kinds
of frame:

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
from array import array

NOTE, BATCH = b"N", b"B"
RECEIVED, SENT = 1, 2
# Enough of each datagram or chunk for logs, counting and checks (a browser's whole request, about
# 800 bytes, for Task 5's exchange view); the full size is kept too.
KEPT_BYTES = 2048
# A frame larger than this is not from our bootstrap: the reader stops rather than buffer it.
MAX_FRAME = 8 * 1024 * 1024

_LENGTH = struct.Struct("<I")
_COUNTS = struct.Struct("<II")  # records, peers
_PEER = struct.Struct("<HB")  # port, length of the address
# Columns of a batch, each packed in one C call (array.tobytes): the batch is built every 50 ms
# from up to tens of thousands of records, in the same process as the student's program.
# Native byte order: both ends run on the same computer.
_COLUMN_CODES = "BdiHII"  # kind, time, socket id, peer index, bytes kept, real size
_NO_PEER = 0xFFFF


class WireError(ValueError):
    """The bytes on the control connection are not what the bootstrap writes."""


def note(event: str, **fields) -> bytes:
    body = NOTE + json.dumps({"event": event, **fields}, ensure_ascii=True).encode("ascii")
    return _LENGTH.pack(len(body)) + body


def batch(records) -> bytes:
    """records: (kind, time, socket id, (ip, port) or None, data, size) tuples."""
    peers: dict = {}
    if records:
        kinds, times, sockets, peer_column, datas, sizes = zip(*records, strict=True)
    else:
        kinds = times = sockets = peer_column = datas = sizes = ()
    add = peers.setdefault
    indexes = [_NO_PEER if peer is None else add(peer, len(peers)) for peer in peer_column]
    if len(peers) >= _NO_PEER:
        raise WireError("too many peers in one batch")
    parts = [b"", BATCH, _COUNTS.pack(len(kinds), len(peers))]  # b"": the length, below
    for peer in peers:  # (ip, port), or (ip, port, flow, scope) for IPv6: ip and port kept
        ip_bytes = str(peer[0]).encode("ascii", "replace")[:255]
        parts.append(_PEER.pack(int(peer[1]) & 0xFFFF, len(ip_bytes)))
        parts.append(ip_bytes)
    columns = (kinds, times, sockets, indexes, list(map(len, datas)), sizes)
    for code, column in zip(_COLUMN_CODES, columns, strict=True):
        parts.append(array(code, column).tobytes())
    parts.extend(datas)
    # The frame in one copy (a body joined, then prefixed, was copied twice): it is built in the
    # student's program's process, up to 20 times a second.
    parts[0] = _LENGTH.pack(sum(map(len, parts)))
    return b"".join(parts)


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
    try:
        count, peer_count = _COUNTS.unpack_from(body, 0)
        at = _COUNTS.size
        peers = []
        for _ in range(peer_count):
            port, length = _PEER.unpack_from(body, at)
            at += _PEER.size
            peers.append((body[at : at + length].decode("ascii", "replace"), port))
            at += length
        columns = []
        for code in _COLUMN_CODES:
            column = array(code)
            size = column.itemsize * count
            column.frombytes(body[at : at + size])
            at += size
            columns.append(column)
    except (struct.error, ValueError) as exc:
        raise WireError(f"a batch cut short: {exc}") from None
    kinds, times, sockets, peer_indexes, kept, sizes = columns
    records = []
    for i in range(count):
        data = body[at : at + kept[i]]
        at += kept[i]
        if len(data) != kept[i]:
            raise WireError("a batch cut short")
        index = peer_indexes[i]
        if index != _NO_PEER and index >= len(peers):
            raise WireError("a record names a peer the batch does not have")
        peer = None if index == _NO_PEER else peers[index]
        records.append((kinds[i], times[i], sockets[i], peer, data, sizes[i]))
    return records
