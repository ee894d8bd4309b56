"""The pure parts of running students' programs: the report format, failures explained, output
kept within bounds. No sockets, no processes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labsock.logic import wire
from labsock.logic.errors import LabsockError
from labsock.logic.program_edits import parse_setting, set_variables
from labsock.logic.program_errors import explain_failure
from labsock.net.programs.job import Output, check_name

pytestmark = pytest.mark.fast  # pure: no sockets, threads or processes

PATH = "/lab/programs/udp_server.py"

records = st.lists(
    st.tuples(
        st.sampled_from([wire.RECEIVED, wire.SENT]),
        st.floats(min_value=0, max_value=2e9, allow_nan=False),
        st.integers(min_value=-1, max_value=2**31 - 1),
        st.one_of(
            st.none(),
            st.tuples(st.sampled_from(["127.0.0.1", "10.0.0.2", "::1"]), st.integers(0, 65535)),
        ),
        st.binary(max_size=wire.KEPT_BYTES),
        st.integers(min_value=0, max_value=2**32 - 1),
    ),
    max_size=50,
)


@given(records, st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=20))
def test_batches_come_back_whole_however_the_bytes_are_cut(items, cuts):
    data = wire.batch(items) + wire.note("bound", port=12000)
    reader, frames, at = wire.FrameReader(), [], 0
    for cut in cuts * (len(data) // sum(cuts) + 1):
        frames += reader.feed(data[at : at + cut])
        at += cut
        if at >= len(data):
            break
    assert frames == [("batch", items), ("note", {"event": "bound", "port": 12000})]


def test_a_frame_that_is_not_ours_is_refused():
    with pytest.raises(wire.WireError):
        wire.FrameReader().feed(b"\xff\xff\xff\x7f" + b"x" * 10)  # 2 GB announced
    with pytest.raises(wire.WireError):
        wire.FrameReader().feed(b"\x05\x00\x00\x00Nnope")  # a note that is not JSON
    with pytest.raises(wire.WireError):
        wire.FrameReader().feed(b"\x02\x00\x00\x00Q!")  # an unknown kind
    cut_short = wire.batch([(1, 0.0, 3, None, b"hello", 5)])[:-2]
    body = cut_short[4:]
    with pytest.raises(wire.WireError):
        wire.parse(body)


def failure(code: str, **extra) -> tuple[str, int | None]:
    try:
        exec(compile(code, PATH, "exec"), {})
    except BaseException as exc:  # noqa: BLE001 (any failure is what we explain)
        for name, value in extra.items():
            setattr(exc, name, value)
        return explain_failure(exc, PATH, code)
    raise AssertionError("the code did not fail")


def test_a_str_sent_where_bytes_are_needed_names_encode():
    # memoryview refuses a str with the words socket.sendto uses (and opens no socket here)
    text, line = failure("message = 'hi'\n\npacket = memoryview(message)\n")
    assert line == 3
    assert text.startswith("Your program stopped at line 3:\n    packet = memoryview(message)")
    assert "a bytes-like object is required, not 'str'" in text
    assert "encode the text first" in text


def test_a_name_error_points_at_the_line_and_says_what_to_check():
    text, line = failure("serverPort = 12000\nprint(serverport)\n")
    assert line == 2
    assert "NameError: name 'serverport' is not defined" in text
    assert "capital and small letters" in text


def test_a_syntax_error_names_the_line_and_the_usual_causes():
    code = "x = 1\nwhile x < 3\n    x += 1\n"
    try:
        compile(code, PATH, "exec")
    except SyntaxError as exc:
        text, line = explain_failure(exc, PATH, code)
    assert line == 2
    assert "line 2 is not valid Python (expected ':')" in text
    assert "    while x < 3" in text
    assert "Nothing of the program ran." in text


def test_a_port_in_use_at_bind_is_said_in_plain_words():
    error = OSError(98, "Address already in use")
    error.labsock_call = ("bind", "udp", ("", 12000))
    text, _ = explain_failure(error, PATH, "")
    assert "Port 12000 (UDP) on 0.0.0.0 is already in use by another program" in text


def test_a_refused_connection_names_the_server_to_start():
    error = ConnectionRefusedError(111, "Connection refused")
    error.labsock_call = ("connect", "tcp", ("127.0.0.1", 12000))
    text, _ = explain_failure(error, PATH, "")
    assert "Nothing is listening on 127.0.0.1:12000 (TCP)" in text


def test_a_failure_outside_the_students_file_still_gets_words():
    text, line = explain_failure(KeyError("x"), PATH, "print(1)\n")
    assert line is None
    assert text.startswith("Your program stopped:\nKeyError: 'x'")


def test_output_keeps_the_newest_text_within_its_limit():
    output = Output(limit=100)
    for n in range(50):
        output.add(f"line {n}\n")
    assert len(output.text()) <= 100
    assert output.text().endswith("line 49\n")
    assert output.dropped == output.total - len(output.text())
    shown, hidden = output.tail(3)
    assert shown == "line 47\nline 48\nline 49"
    assert hidden > 0


def test_output_since_a_cursor_gives_only_what_is_new():
    output = Output(limit=1000)
    output.add("one\n")
    text, cursor = output.since(0)
    output.add("two\n")
    assert (text, output.since(cursor)[0]) == ("one\n", "two\n")
    small = Output(limit=5)
    small.add("abcdefghij")
    text, _ = small.since(0)
    assert text == "[... 5 characters not kept ...]\nfghij"


@pytest.mark.parametrize("name", ["udp_server", "c1", "_x"])
def test_program_names_that_make_file_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "1st", "../evil", "a b", "x" * 65, None, "udp-server"])
def test_names_that_would_not_make_a_file_name_are_refused(name):
    with pytest.raises(LabsockError, match="letters, digits and _ only"):
        check_name(name)


def test_an_ipv6_peer_keeps_its_address_and_port():
    """recvfrom gives (ip, port) for IPv4 and (ip, port, flow, scope) for IPv6."""
    data = wire.batch([(wire.RECEIVED, 1.0, 3, ("::1", 5000, 0, 0), b"x", 1)])
    assert wire.FrameReader().feed(data)[0][1][0][3] == ("::1", 5000)


def test_set_changes_the_programs_own_line():
    code = "from socket import *\nserverName = 'hostname'  # the server\nserverPort = 12000\n"
    changed, notes = set_variables(code, {"serverName": "10.0.0.5", "serverPort": 12001})
    assert changed == (
        "from socket import *\nserverName = '10.0.0.5'  # the server\nserverPort = 12001\n"
    )
    assert notes == ["labsock set serverName = '10.0.0.5'", "labsock set serverPort = 12001"]


def test_set_adds_a_line_when_the_program_has_none():
    changed, notes = set_variables("print(serverName)\n", {"serverName": "10.0.0.5"})
    assert changed == "serverName = '10.0.0.5'\nprint(serverName)\n"
    assert "a new first line" in notes[0]


def test_set_keeps_characters_beyond_ascii_before_the_value():
    # ast gives columns in UTF-8 bytes: the value must still be found by characters
    changed, _ = set_variables("größe = 1; serverName = 'x'\n", {"serverName": "h"})
    assert changed == "größe = 1; serverName = 'h'\n"


def test_a_setting_of_digits_beyond_ascii_stays_text():
    # "²" is a digit to str.isdigit(), and int() refuses it
    assert parse_setting("serverName=²") == ("serverName", "²")


@pytest.mark.parametrize("text", ["serverName", "=x", "server Name=1", "1x=2"])
def test_a_setting_that_is_not_name_equals_value_is_refused(text):
    with pytest.raises(LabsockError, match="NAME=VALUE"):
        parse_setting(text)


def test_an_unwritten_exercise_in_a_program_says_its_one_sentence():
    text, line = failure("from labsock import your_code_here; your_code_here()\n")
    assert text.startswith("This exercise is not written yet")
    assert "Traceback" not in text and "\n" not in text.strip()
    assert line == 1


@given(st.lists(st.text(alphabet="ab\n", max_size=30), max_size=40), st.integers(1, 60))
def test_output_counts_lines_and_follows_a_cursor_as_the_whole_text_would(pieces, limit):
    output, cursor, followed = Output(limit=limit), 0, ""
    for piece in pieces:
        output.add(piece)
        new, cursor = output.since(cursor)
        followed += new if not new.startswith("[...") else ""
    text = output.text()
    assert len(text) <= limit and text == "".join(pieces)[-limit:][: len(text)]
    shown, hidden = output.tail(3)
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    assert shown == "\n".join(lines[-3:])
    assert hidden == max(len(lines) - len(lines[-3:]), 0)
    if not output.dropped:
        assert followed == text  # a reader that follows the cursor saw everything, once
