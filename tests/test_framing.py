import pytest

from labsock.logic.framing import LineSplitter, LineTooLong, frame_line

pytestmark = pytest.mark.fast  # no sockets, threads or processes: pytest -m fast


def test_two_lines_in_one_chunk_are_two_messages():
    assert LineSplitter().feed(b"one\ntwo\n") == [b"one", b"two"]


def test_half_line_waits_for_its_end():
    lines = LineSplitter()
    assert lines.feed(b"hel") == []
    assert lines.pending == b"hel"
    assert lines.feed(b"lo\nwor") == [b"hello"]
    assert lines.feed(b"ld\n") == [b"world"]
    assert lines.pending == b""


def test_byte_at_a_time_gives_the_same_lines():
    lines = LineSplitter()
    out = []
    for byte in b"a\r\nbc\n\nd\n":
        out += lines.feed(bytes([byte]))
    assert out == [b"a", b"bc", b"", b"d"]


def test_end_of_stream_ends_the_last_line():
    lines = LineSplitter()
    lines.feed(b"done\nno newline")
    assert lines.finish() == b"no newline"
    assert lines.finish() is None


def test_too_long_line_keeps_the_lines_before_it():
    lines = LineSplitter(max_line=5)
    with pytest.raises(LineTooLong) as caught:
        lines.feed(b"ok\n123456789")
    assert caught.value.lines == [b"ok"]


def test_too_long_complete_line_is_refused_too():
    with pytest.raises(LineTooLong) as caught:
        LineSplitter(max_line=3).feed(b"ab\nabcdef\nx\n")
    assert caught.value.lines == [b"ab"]


def test_frame_line_adds_exactly_one_newline():
    assert frame_line("hi") == b"hi\n"
    assert frame_line(b"hi\n") == b"hi\n"
    assert frame_line("é") == "é\n".encode()


def test_one_whole_line_per_read_takes_the_short_way_with_the_same_result():
    lines = LineSplitter(max_line=5)
    assert lines.feed(b"abc\n") == [b"abc"]
    assert lines.feed(b"abc\r\n") == [b"abc"]
    assert lines.feed(b"\n") == [b""]
    with pytest.raises(LineTooLong):
        lines.feed(b"abcdefgh\n")


def test_an_empty_read_gives_no_line():
    assert LineSplitter().feed(b"") == []
