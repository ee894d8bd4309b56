"""The handling of a program's reports, fed plain notes and records (no sockets, no process)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labsock.logic import wire
from labsock.logic.program_reports import BadReport, ProgramReports, Request
from labsock.net.log import MessageLog

pytestmark = pytest.mark.fast

CLIENT = ("127.0.0.1", 50000)


def reports() -> ProgramReports:
    return ProgramReports(MessageLog(100), MessageLog(100), clock=lambda: 1000.0)


def bound(sock=3, proto="udp", port=12000, **extra) -> dict:
    return {"event": "bound", "sock": sock, "proto": proto, "host": "0.0.0.0", "port": port,
            **extra}  # fmt: skip


def test_a_bound_port_is_held_claimed_and_remembered_after_close():
    program = reports()
    assert program.note(bound()) == [Request("claimed", "udp", "0.0.0.0", 12000)]
    assert program.held_ports() == [("udp", "0.0.0.0", 12000)]
    assert program.bound_ports_held() == [("udp", "0.0.0.0", 12000)]
    program.note({"event": "closed", "sock": 3})
    assert program.held_ports() == []
    assert program.used == {("udp", "0.0.0.0", 12000)}


def test_a_clients_port_chosen_by_the_system_is_held_but_not_claimed():
    program = reports()
    assert program.note(bound(sock=4, port=41000, implicit=True)) == []
    assert program.held_ports() == [("udp", "0.0.0.0", 41000)]
    assert program.bound_ports_held() == []


def test_a_datagram_and_its_reply_make_one_log_row():
    program = reports()
    program.note(bound())
    program.records([(wire.RECEIVED, 1.0, 3, CLIENT, b"hello", 5)])
    assert program.holds_back and len(program.received_log) == 0
    program.records([(wire.SENT, 1.1, 3, CLIENT, b"HELLO", 5)])
    (row,) = program.received_log.entries()
    assert (row.text, row.reply) == ("hello", "HELLO")
    assert program.sent == 1 and program.last_sent_to == ("udp", CLIENT)


def test_a_datagram_without_a_reply_is_logged_once_things_settle():
    program = reports()
    program.records([(wire.RECEIVED, 1.0, 3, CLIENT, b"one", 3)])
    program.settle()
    assert program.received_log.texts() == ["one"]


def test_a_tcp_connection_gives_connected_chunks_and_disconnected():
    program = reports()
    program.note(bound(proto="tcp", port=13000))
    program.note({"event": "accepted", "sock": 5, "listener": 3, "peer": list(CLIENT)})
    assert program.peers[5] == CLIENT
    assert program.held_ports() == [("tcp", "0.0.0.0", 13000)]
    program.records(
        [(wire.RECEIVED, 2.0, 5, None, b"hi", 2), (wire.RECEIVED, 2.1, 5, None, b"", 0)]
    )
    kinds = [row.kind for row in program.received_log.entries()]
    assert kinds == ["connected", "message", "disconnected"]


def test_waiting_input_and_failure_are_kept():
    program = reports()
    program.note({"event": "input", "prompt": "Input: ", "printed": 7})
    assert (program.prompt, program.waiting_in, program.inputs_asked) == ("Input: ", "input", 1)
    assert program.printed_when_waiting == 7
    program.note({"event": "typed"})
    assert program.prompt is None
    asked = program.note(
        {
            "event": "failed",
            "text": "port taken",
            "line": 4,
            "error": "OSError",
            "bind": ["udp", 12000],
        }  # fmt: skip
    )
    assert asked == [Request("bind failed", "udp", "", 12000, "port taken")]
    assert (program.error, program.error_line, program.error_kind) == ("port taken", 4, "OSError")


def test_requests_the_notebook_must_carry_out():
    program = reports()
    busy = program.note({"event": "port busy", "proto": "tcp", "host": "", "port": 13000})
    assert busy == [Request("port busy", "tcp", "", 13000)]
    assert program.note({"event": "flushed", "token": None}) == [Request("flushed")]
    refused = {"event": "stopped holder", "proto": "tcp", "host": "127.0.0.1", "port": 13000}
    assert program.note(refused) == [Request("stopped holder", "tcp", "127.0.0.1", 13000)]
    # A question's number goes back with its answer (two threads of a program may ask at once).
    numbered = {**refused, "asked": 7}
    assert program.note(numbered) == [Request("stopped holder", "tcp", "127.0.0.1", 13000, asked=7)]


def test_an_event_this_version_does_not_know_is_ignored():
    program = reports()
    assert program.note({"event": "from a newer bootstrap", "port": "x"}) == []


@pytest.mark.parametrize(
    "note",
    [
        {"event": "bound", "sock": 3, "host": "0.0.0.0", "port": 12000},  # no proto (KeyError)
        bound(proto="sctp"),
        bound(port=70000),
        bound(port="12000"),
        bound(port=True),
        bound(sock="3"),
        bound(host=["0.0.0.0"]),
        bound(implicit="yes"),
        {"event": "accepted", "sock": 5, "peer": ["127.0.0.1"]},
        {"event": "accepted", "sock": 5, "peer": [1, 2]},
        {"event": "connected", "sock": 5, "peer": ["x" * 300, 1]},
        {"event": "waiting", "how": 3},
        {"event": "waiting", "how": "recvfrom", "printed": -1},
        {"event": "input", "prompt": "x" * 200_000},
        {"event": "failed", "text": "x", "bind": ["udp"]},
        {"event": "failed", "line": "4"},
        {"event": "unrecorded", "received": -5},
        {"event": "unrecorded", "received": 1.5},
        {"event": "port busy", "proto": "udp", "port": -1},
        {"event": "stopped holder", "proto": "tcp", "host": "127.0.0.1", "port": 70000},
        {"event": "stopped holder", "proto": "tcp", "host": ["127.0.0.1"], "port": 13000},
        {"event": "port busy", "proto": "udp", "port": 12000, "asked": 0},
        {"event": "port busy", "proto": "udp", "port": 12000, "asked": "1"},
        {"event": "stopped holder", "proto": "tcp", "host": "", "port": 1, "asked": True},
        {"event": "closed"},
        {"event": "others ended", "count": -1},
        {"event": "others ended", "count": "2"},
    ],
)
def test_a_note_not_as_the_bootstrap_writes_it_is_refused_and_changes_nothing(note):
    program = reports()
    program.note(bound(sock=9, port=11000))
    before = (program.held_ports(), program.waiting_in, program.prompt, program.error)
    with pytest.raises(BadReport):
        program.note(note)
    assert (program.held_ports(), program.waiting_in, program.prompt, program.error) == before
    assert program.unrecorded_received == 0


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "event",
                "sock",
                "proto",
                "host",
                "port",
                "peer",
                "printed",
                "how",
                "prompt",
                "text",
                "line",
                "bind",
                "listener",
                "received",
                "status",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=5),
            st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
        ),
    )  # fmt: skip
)
def test_any_note_is_either_believed_or_refused_with_bad_report(note):
    note["event"] = note.get("event") if isinstance(note.get("event"), str) else "bound"
    try:
        ProgramReports(MessageLog(10), MessageLog(10)).note(note)
    except BadReport:
        pass


def test_the_end_clears_what_it_held_and_logs_what_was_held_back():
    program = reports()
    program.note(bound())
    program.note({"event": "input", "prompt": "?"})
    program.records([(wire.RECEIVED, 1.0, 3, CLIENT, b"last", 4)])
    program.end()
    assert program.held_ports() == [] and program.prompt is None
    assert program.received_log.texts() == ["last"]
    assert program.used == {("udp", "0.0.0.0", 12000)}


@pytest.mark.parametrize(
    "record",
    [
        (7, 1.0, 3, CLIENT, b"x", 1),
        (wire.RECEIVED, float("nan"), 3, CLIENT, b"x", 1),
        (wire.SENT, float("inf"), 3, CLIENT, b"x", 1),
    ],  # fmt: skip
    ids=["unknown kind", "time nan", "time inf"],
)
def test_a_record_the_bootstrap_never_writes_is_refused_and_nothing_logged(record):
    program = reports()
    good = (wire.RECEIVED, 1.0, 3, CLIENT, b"fine", 4)
    with pytest.raises(BadReport):
        program.records([good, record])
    program.settle()
    assert len(program.received_log) == 0 and len(program.sent_log) == 0


def test_the_supervisors_count_of_what_it_ended_is_kept():
    program = reports()
    program.note({"event": "others ended", "count": 2, "why": "stopped"})
    assert program.others_ended == 2


def test_the_reuse_note_is_for_a_server_that_listened():
    """labsock sets SO_REUSEADDR at bind; a program that never listens (a typo after bind, a
    client that binds) has nothing the note explains."""
    program = reports()
    program.note(bound(proto="tcp", port=13000, reuse_added=True))
    assert program.reuse_added is False
    program.note({"event": "listening", "sock": 3})
    assert program.reuse_added is True


def test_a_closed_socket_number_used_again_does_not_carry_the_reuse_note():
    program = reports()
    program.note(bound(proto="tcp", port=13000, reuse_added=True))
    program.note({"event": "closed", "sock": 3})
    program.note(bound(proto="tcp", port=13001))
    program.note({"event": "listening", "sock": 3})
    assert program.reuse_added is False
