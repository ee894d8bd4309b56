"""Length-prefix framing: whatever way TCP slices the stream, the messages come back whole."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labsock.logic.framing import (
    FrameTooLarge,
    LengthSplitter,
    LineSplitter,
    frame_length_prefixed,
    frame_line,
)

pytestmark = pytest.mark.fast  # no sockets, threads or processes: pytest -m fast

messages = st.lists(st.binary(max_size=300), max_size=20)


def cut(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    pieces, start = [], 0
    for p in [*points, len(stream)]:
        pieces.append(stream[start:p])
        start = p
    return pieces


@given(messages, st.lists(st.integers(min_value=0), max_size=40))
def test_any_slicing_gives_back_the_messages(msgs, cuts):
    stream = b"".join(frame_length_prefixed(m) for m in msgs)
    splitter = LengthSplitter()
    got = []
    for piece in cut(stream, cuts):
        got += splitter.feed(piece)
    assert got == msgs
    assert splitter.pending == b""


@given(messages, st.binary(min_size=1, max_size=300))
def test_an_unfinished_message_waits(msgs, last):
    stream = b"".join(frame_length_prefixed(m) for m in msgs)
    tail = frame_length_prefixed(last)[:-1]
    splitter = LengthSplitter()
    assert splitter.feed(stream + tail) == msgs
    assert splitter.pending == tail
    assert splitter.feed(frame_length_prefixed(last)[-1:]) == [last]


@given(st.text(max_size=50))
def test_text_is_sent_as_utf8(text):
    assert LengthSplitter().feed(frame_length_prefixed(text)) == [text.encode("utf-8")]


def test_too_large_is_refused_on_both_ends():
    with pytest.raises(FrameTooLarge, match="limit is 10"):
        frame_length_prefixed(b"x" * 11, max_size=10)
    splitter = LengthSplitter(max_size=10)
    with pytest.raises(FrameTooLarge, match="announced a 1000000-byte"):
        splitter.feed((1_000_000).to_bytes(4, "big"))


lines = st.lists(
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"").rstrip(b"\r")), max_size=20
)


@given(lines, st.lists(st.integers(min_value=0), max_size=40))
def test_newline_framing_survives_any_slicing(msgs, cuts):
    stream = b"".join(frame_line(m) for m in msgs)
    splitter = LineSplitter()
    got = []
    for piece in cut(stream, cuts):
        got += splitter.feed(piece)
    assert got == msgs
    assert splitter.pending == b""


@given(st.lists(st.binary(min_size=1, max_size=50), min_size=2, max_size=10))
def test_length_prefix_carries_newlines_that_line_framing_would_split(msgs):
    msgs = [m + b"\n" + m for m in msgs]
    stream = b"".join(frame_length_prefixed(m) for m in msgs)
    assert LengthSplitter().feed(stream) == msgs
