"""Length-prefix framing: each message goes out as a 4-byte big-endian length, then its bytes.

TCP delivers a byte stream, not messages: one recv() may return half a message or two. With a
length in front, the receiver knows exactly where each message ends, whatever bytes it holds
(newlines included), which newline framing can't promise.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct("!I")  # network byte order, so every machine reads the same length
DEFAULT_MAX_MESSAGE = 64 * 1024


class FrameTooLarge(ValueError):
    pass


def frame_length_prefixed(payload: bytes | str, max_size: int = DEFAULT_MAX_MESSAGE) -> bytes:
    """The bytes to send for one message: its length, then the message (str is sent as UTF-8)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if len(payload) > max_size:
        raise FrameTooLarge(
            f"This message is {len(payload)} bytes; the limit is {max_size}. "
            "Send it in smaller parts, or raise max_size on both ends."
        )
    return HEADER.pack(len(payload)) + payload


class LengthSplitter:
    """Feed it whatever recv() returned; it hands back the complete messages, in order."""

    def __init__(self, max_size: int = DEFAULT_MAX_MESSAGE):
        self.max_size = max_size
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages = []
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            if length > self.max_size:
                # Checked before the body arrives: a bad length must not make us buffer gigabytes.
                raise FrameTooLarge(
                    f"The other side announced a {length}-byte message; the limit is "
                    f"{self.max_size}. Is it really sending length-prefixed messages?"
                )
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            messages.append(bytes(self._buffer[HEADER.size : end]))
            del self._buffer[:end]
        return messages

    @property
    def pending(self) -> int:
        """Bytes held back, waiting for the rest of a message."""
        return len(self._buffer)
