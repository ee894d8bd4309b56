"""Message framing over a byte stream: pure logic, no sockets.

TCP delivers bytes, not messages: one recv may return half a message or two. A framing rule puts
the boundaries back. labsock's TCP server and client use newline framing: a message ends with \\n.
"""

from __future__ import annotations

from labsock.logic.errors import LabsockError

# A line longer than this without a newline is refused rather than buffered without end.
MAX_LINE = 65_536

# Where one TCP message ends, as labsock's TCP server and client can be told (framing=...).
FRAMINGS = {
    "auto": "a newline ends a message, and so does a pause from a side that has sent no newline",
    "line": "only a newline ends a message; half a line waits for its end",
    "length": "each message comes after its length, 4 bytes, big-endian",
}
# A textbook TCPClient (and TCPServer) sends its text in one send(), without a newline, then
# waits: after this many seconds of silence, what arrived is the message ("auto" framing).
PAUSE = 0.1


def validate_framing(framing) -> str:
    if framing not in FRAMINGS:
        choices = "; ".join(f"{name!r} ({meaning})" for name, meaning in FRAMINGS.items())
        raise LabsockError(f"framing={framing!r} is not a framing labsock knows. Use {choices}.")
    return framing


def validate_pause(pause) -> float:
    if isinstance(pause, bool) or not isinstance(pause, (int, float)) or not 0 < pause <= 60:
        raise LabsockError(
            f"pause={pause!r} is not a number of seconds. Use a positive number up to 60, such "
            f"as {PAUSE} (the silence after which a message without a newline is complete)."
        )
    return float(pause)


class LineTooLong(ValueError):
    """A line grew past the limit; .lines holds the complete lines that came before it."""

    def __init__(self, lines: list[bytes], length: int):
        super().__init__(f"a line of more than {length} bytes without a newline")
        self.lines = lines
        self.length = length


class LineSplitter:
    """Feed bytes as they arrive; get back the complete lines (without their newline).

    A half line waits in the buffer for its end; \\r\\n endings (netcat on Windows, telnet) lose
    their \\r too.
    """

    def __init__(self, max_line: int = MAX_LINE):
        self.max_line = max_line
        # What has arrived after the last newline: a line waiting for its end. A reader that
        # sees it empty knows a read ending in its only newline is one whole line (the TCP
        # server's quick path).
        self.half_line = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The lines completed by data. Raises LineTooLong (with the good lines before the long
        one in .lines) when a line grows past max_line."""
        end = len(data) - 1
        if not self.half_line and end >= 0 and data.find(b"\n") == end:
            # The usual case, one whole line in one read: no buffer copy, no split (and no
            # method call that can be an index: this runs for every message of a TCP server).
            if end > self.max_line:
                raise LineTooLong([], end)
            return [data[: end - 1] if end and data[end - 1] == 13 else data[:end]]  # 13: \r
        self.half_line += data
        if b"\n" not in data:
            if len(self.half_line) > self.max_line:
                raise LineTooLong([], len(self.half_line))
            return []
        *lines, rest = bytes(self.half_line).split(b"\n")
        self.half_line = bytearray(rest)
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        for index, line in enumerate(lines):
            if len(line) > self.max_line:
                raise LineTooLong(lines[:index], len(line))
        if len(rest) > self.max_line:
            raise LineTooLong(lines, len(rest))
        return lines

    @property
    def pending(self) -> bytes:
        """What has arrived after the last newline: a message still waiting for its end."""
        return bytes(self.half_line)

    def finish(self) -> bytes | None:
        """At the end of the stream: the unterminated last line, if any, counts as a message."""
        rest = bytes(self.half_line)
        self.half_line.clear()
        if rest.endswith(b"\r"):
            rest = rest[:-1]
        return rest or None


def frame_line(text_or_bytes) -> bytes:
    """One message as it goes on the wire: the text, UTF-8, with one newline at the end."""
    data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    return data if data.endswith(b"\n") else data + b"\n"


# -- length-prefix framing ------------------------------------------------------------------------
# Each message goes out as a 4-byte big-endian length, then its bytes. The receiver knows exactly
# where each message ends, whatever bytes it holds (newlines included), which newline framing
# can't promise.
# Network byte order (big-endian), so every machine reads the same length. int.to_bytes rather
# than the struct module, which would add its import to every `import labsock`.
HEADER_SIZE = 4
MAX_FRAME = 65_536


class FrameTooLarge(ValueError):
    """A message longer than allowed; .lines holds the complete messages that came before it."""

    def __init__(self, text: str, lines: list[bytes] | None = None):
        super().__init__(text)
        self.lines = lines or []


def frame_length_prefixed(payload: bytes | str, max_size: int = MAX_FRAME) -> bytes:
    """The bytes to send for one message: its length, then the message (str is sent as UTF-8)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if len(payload) > max_size:
        raise FrameTooLarge(
            f"This message is {len(payload)} bytes; the limit is {max_size}. "
            "Send it in smaller parts, or raise max_size on both ends."
        )
    return len(payload).to_bytes(HEADER_SIZE, "big") + payload


class LengthSplitter:
    """Feed it whatever recv() returned; it hands back the complete messages, in order."""

    def __init__(self, max_size: int = MAX_FRAME):
        self.max_size = max_size
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages = []
        while len(self._buffer) >= HEADER_SIZE:
            length = int.from_bytes(self._buffer[:HEADER_SIZE], "big")
            if length > self.max_size:
                # Checked before the body arrives: a bad length must not make us buffer gigabytes.
                raise FrameTooLarge(
                    f"The other side announced a {length}-byte message; the limit is "
                    f"{self.max_size}. Is it really sending length-prefixed messages?",
                    messages,
                )
            end = HEADER_SIZE + length
            if len(self._buffer) < end:
                break
            messages.append(bytes(self._buffer[HEADER_SIZE:end]))
            del self._buffer[:end]
        return messages

    @property
    def pending(self) -> bytes:
        """What has arrived of a message still waiting for its end."""
        return bytes(self._buffer)
