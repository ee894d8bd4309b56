"""Pinger bookkeeping and statistics, with plain data."""

import math
import statistics

import pytest

from labsock.rtt import PingBook, parse_ping, ping_message, rtt_statistics


def test_ping_message_round_trip_and_upper_case_reply():
    text = ping_message(7, 1700000000.25)
    assert text.startswith("Ping 7 ")
    assert parse_ping(text) == parse_ping(text.upper()) == (7, "1700000000.250000")
    assert parse_ping("hello") is None
    assert parse_ping("Ping x 1.0") is None


def test_statistics_match_population_stdev():
    rtts = [1.0, 2.0, 4.0, 9.0]
    s = rtt_statistics(rtts, sent=5)
    assert (s.sent, s.received, s.loss) == (5, 4, 0.2)
    assert (s.rtt_min, s.rtt_max) == (1.0, 9.0)
    assert s.rtt_avg == pytest.approx(4.0)
    assert s.rtt_stdev == pytest.approx(statistics.pstdev(rtts))


def test_statistics_with_nothing_received():
    s = rtt_statistics([], sent=3)
    assert s.loss == 1.0
    assert s.as_dict() == {
        "sent": 3,
        "received": 0,
        "loss": 1.0,
        "rtt_ms": {"min": None, "avg": None, "max": None, "stdev": None},
    }
    assert "3 sent, 0 received, 100% lost" in s.summary()


def test_replies_matched_by_number_not_by_arrival():
    book = PingBook()
    t1 = book.sent(1, 10.0)
    t2 = book.sent(2, 11.0)
    # Reply 2 arrives before reply 1: each still gets its own RTT.
    assert book.reply(t2, 11.002)[0] == "reply"
    assert book.reply(t1, 11.003)[0] == "reply"
    assert book.pings[1].rtt_ms == pytest.approx(1003.0)
    assert book.pings[2].rtt_ms == pytest.approx(2.0)


def test_late_reply_is_reported_but_not_counted():
    book = PingBook()
    t1 = book.sent(1, 0.0)
    book.timed_out(1)
    t2 = book.sent(2, 1.0)
    # The classic bug: the late reply to ping 1 arrives while waiting for ping 2.
    kind, ping = book.reply(t1, 1.2)
    assert kind == "late" and ping.number == 1 and ping.late_rtt_ms == pytest.approx(1200.0)
    assert book.pings[2].rtt_ms is None  # not mistaken for reply 2
    assert book.reply(t2, 1.001)[0] == "reply"
    stats = book.statistics()
    assert (stats.sent, stats.received, book.late) == (2, 1, 1)
    assert stats.rtt_max == pytest.approx(1.0)


def test_duplicate_replies_count_once():
    book = PingBook()
    t1 = book.sent(1, 0.0)
    assert book.reply(t1, 0.001)[0] == "reply"
    assert book.reply(t1, 0.002)[0] == "duplicate"
    book.timed_out(1)  # too late to matter: it already has a reply
    assert book.pings[1].timed_out is False
    assert book.statistics().received == 1 and book.duplicates == 1


def test_late_reply_seen_twice_is_a_duplicate():
    book = PingBook()
    t1 = book.sent(1, 0.0)
    book.timed_out(1)
    assert book.reply(t1, 2.0)[0] == "late"
    assert book.reply(t1, 2.1)[0] == "duplicate"
    assert book.late == 1 and book.statistics().received == 0


def test_strays_are_not_replies():
    book = PingBook()
    book.sent(1, 5.0)
    assert book.reply("Ping 1 4.000000", 5.1)[0] == "stray"  # right number, wrong time stamp
    assert book.reply("Ping 9 5.000000", 5.1)[0] == "stray"
    assert book.reply("garbage", 5.1)[0] == "stray"
    assert book.strays == 3 and book.statistics().received == 0


def test_loss_fraction_in_json_shape():
    book = PingBook()
    texts = [book.sent(n, float(n)) for n in range(1, 5)]
    book.reply(texts[0], 1.010)
    book.reply(texts[2], 3.030)
    d = book.statistics().as_dict()
    assert d["sent"] == 4 and d["received"] == 2 and d["loss"] == 0.5
    assert d["rtt_ms"]["min"] == pytest.approx(10.0) and d["rtt_ms"]["max"] == pytest.approx(30.0)
    assert math.isclose(d["rtt_ms"]["avg"], 20.0)
