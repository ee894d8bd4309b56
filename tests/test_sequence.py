"""The sequence tracker, with plain data and against a simple reference model (hypothesis)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsock.logic.sequence import (
    RATE_SAMPLES,
    SequenceTracker,
    current_rate,
    describe_runs,
    parse_number,
)

pytestmark = pytest.mark.fast  # no sockets, threads or processes: pytest -m fast


def fed(numbers, sender="c1", **kwargs):
    tracker = SequenceTracker(**kwargs)
    kinds = [tracker.feed(sender, n) for n in numbers]
    return tracker.stats(sender), kinds


def counting(start, count, lap=100):
    """What a counting client sends: start, start+1, ... rolling from lap back to 1."""
    return [(start - 1 + i) % lap + 1 for i in range(count)]


# -- plain data ---------------------------------------------------------------------------------


def test_clean_stream_past_the_wrap():
    s, kinds = fed(counting(1, 130))
    assert (s.received, s.unique, s.missing, s.duplicates, s.out_of_order) == (130, 130, 0, 0, 0)
    assert (s.wraps, s.last, s.highest) == (1, 30, 30)
    assert kinds == ["first"] + ["next"] * 129
    assert s.clean


def test_three_laps_count_three_wraps():
    s, _ = fed(counting(1, 301))
    assert (s.wraps, s.highest, s.missing) == (3, 1, 0)


def test_loss_across_the_wrap_is_missing_and_still_a_wrap():
    s, kinds = fed([97, 98, 3, 4])
    assert kinds == ["first", "next", "gap", "next"]
    assert (s.missing, s.wraps, s.highest) == (4, 1, 4)
    assert s.missing_numbers == (99, 100, 1, 2)
    assert not s.clean


def test_reordering_across_the_wrap_is_late_not_missing():
    s, kinds = fed([99, 1, 100, 2])
    assert kinds == ["first", "gap", "late", "next"]
    assert (s.missing, s.out_of_order, s.duplicates, s.wraps, s.last, s.highest) == (
        0,
        1,
        0,
        1,
        2,
        2,
    )


def test_late_message_fills_its_gap():
    s, _ = fed([1, 2, 4, 5])
    assert (s.missing, s.missing_numbers) == (1, (3,))
    s, _ = fed([1, 2, 4, 5, 3])
    assert (s.missing, s.out_of_order, s.unique, s.last, s.highest) == (0, 1, 5, 3, 5)


def test_duplicates_of_the_highest_and_of_older_numbers():
    s, kinds = fed([1, 2, 2, 3, 1, 3])
    assert kinds == ["first", "next", "duplicate", "next", "duplicate", "duplicate"]
    assert (s.received, s.unique, s.duplicates, s.out_of_order) == (6, 3, 3, 0)


def test_a_late_number_before_the_first_extends_the_range():
    s, kinds = fed([5, 6, 3])
    assert kinds == ["first", "next", "late"]
    assert (s.missing, s.missing_numbers, s.out_of_order) == (1, (4,), 1)


def test_late_first_number_across_the_wrap_counts_the_wrap():
    s, _ = fed([1, 2, 100])
    assert (s.wraps, s.out_of_order, s.missing, s.highest) == (1, 1, 0, 2)


def test_half_a_lap_ahead_is_forward_more_is_behind():
    s, kinds = fed([1, 51])
    assert kinds[1] == "gap" and s.missing == 49
    s, kinds = fed([1, 52])  # 50 behind 1 in the previous lap: read as late
    assert kinds[1] == "late" and s.highest == 1 and s.wraps == 1


def test_a_gap_too_far_behind_stays_missing():
    # 3 is lost; 49 places on, a late 3 still fills its gap ...
    numbers = [1, 2] + list(range(4, 53))
    s, _ = fed(numbers + [3])
    assert s.missing == 0 and s.out_of_order == 1
    # ... but 50 places on, "3" means the next lap's 3 (50 ahead of 53).
    s, kinds = fed(numbers + [53, 3], keep_missing=100)
    assert kinds[-1] == "gap"
    assert s.missing == 1 + 49 and s.missing_numbers[0] == 3 and s.highest == 3


def test_invalid_numbers_are_counted_apart():
    s, kinds = fed([1, 0, 101, None, "7", True, 2])
    assert kinds == ["first"] + ["invalid"] * 5 + ["next"]
    assert (s.received, s.invalid, s.missing, s.last) == (2, 5, 0, 2)
    assert not s.clean


def test_senders_are_kept_apart_in_first_seen_order():
    tracker = SequenceTracker()
    tracker.feed_many([(13000, 1), (11000, 1), (13000, 2), (11000, 3)])
    assert tracker.senders() == [13000, 11000]
    assert tracker.stats(13000).missing == 0
    assert tracker.stats(11000).missing == 1
    assert [s.sender for s in tracker.all_stats()] == [13000, 11000]
    assert 11000 in tracker and len(tracker) == 2


def test_smaller_lap():
    s, _ = fed([1, 2, 3, 1, 2, 3, 1], lap=3)
    assert (s.wraps, s.missing, s.duplicates) == (2, 0, 0)


def test_rate_from_arrival_times():
    tracker = SequenceTracker(rate_window=5.0)
    for i in range(21):  # 10 a second for 2 s
        tracker.feed("c1", i % 100 + 1, time=1000.0 + i * 0.1)
    assert tracker.stats("c1").rate == pytest.approx(10.0)
    # Measured to "now": it falls once the sender stops, and is 0 once the window is quiet.
    assert tracker.stats("c1", now=1002.0).rate == pytest.approx(10.0)
    falling = [tracker.stats("c1", now=1002.0 + s).rate for s in (0.5, 1.0, 2.0, 4.0)]
    assert falling == sorted(falling, reverse=True) and falling[-1] < 3.0
    assert tracker.stats("c1", now=1010.0).rate == 0.0
    assert tracker.stats("c1").first_time == 1000.0


def test_rate_after_a_pause_is_the_pace_since_it_resumed():
    # The case seen in class: a client sending 3.3 a second, paused, then resumed. An average
    # over the window (pause included) said 1.6/s.
    tracker = SequenceTracker(rate_window=5.0)
    number = 0
    for start, count in ((0.0, 10), (3.0 + 9 * 0.3, 7)):  # 2.7 s, a 3 s pause, then 1.8 s
        for i in range(count):
            number += 1
            tracker.feed("c1", number, time=100.0 + start + i * 0.3)
    now = 100.0 + 5.7 + 6 * 0.3 + 0.1
    assert tracker.stats("c1", now=now).rate == pytest.approx(1 / 0.3)
    # The same with a pause longer than the window: nothing of the time before it counts.
    late = SequenceTracker(rate_window=5.0)
    for i in range(5):
        late.feed("c1", i + 1, time=float(i))
    for i in range(4):
        late.feed("c1", i + 6, time=60.0 + i * 0.25)
    assert late.stats("c1", now=60.8).rate == pytest.approx(4.0)


def test_rate_of_a_slow_sender_is_its_pace():
    tracker = SequenceTracker(rate_window=5.0)
    for i in range(6):  # one every 2 s: at most three arrivals in any 5 s
        tracker.feed("c1", i + 1, time=10.0 + 2 * i)
    for since_last in (0.1, 1.0, 1.9):
        assert tracker.stats("c1", now=20.0 + since_last).rate == pytest.approx(0.5)


@pytest.mark.parametrize("times", [[], [5.0]])
def test_rate_needs_an_interval(times):
    assert current_rate(times) is None


def test_rate_of_a_fast_sender_from_its_latest_samples():
    tracker = SequenceTracker()
    for i in range(20 * RATE_SAMPLES):  # 100,000 a second; only the latest samples are kept
        tracker.feed("c1", i % 100 + 1, time=i * 1e-5)
    assert tracker.stats("c1").rate == pytest.approx(100_000)


def test_rate_window_forgets_old_arrivals():
    tracker = SequenceTracker(rate_window=1.0)
    for i in range(10):  # 1 a second ...
        tracker.feed("c1", i + 1, time=float(i))
    for i in range(11):  # ... then 10 a second
        tracker.feed("c1", 11 + i, time=10.0 + i * 0.1)
    assert tracker.stats("c1").rate == pytest.approx(10.0)


def test_no_times_no_rate():
    s, _ = fed([1, 2, 3])
    assert s.rate is None and s.first_time is None


def test_parse_number():
    assert parse_number("37") == 37
    assert parse_number(b"37\n") == 37
    assert parse_number(" 5 ") == 5
    assert parse_number(12) == 12
    for bad in ["", "hello", "+5", "1_000", "-3", "3.0", "١٢", None, True, b"\xff", "9" * 40]:
        assert parse_number(bad) is None, bad


# -- property tests against a reference model ---------------------------------------------------
#
# The model knows the true place of every message (0, 1, 2, ... as sent) and computes each
# count straight from the definitions, with no wrap at all. The tracker only sees place % 100 + 1.


def reference(places):
    seen = set()
    duplicates = out_of_order = 0
    for place in places:
        if place in seen:
            duplicates += 1
        elif seen and place < max(seen):
            out_of_order += 1
        seen.add(place)
    low, high = min(seen), max(seen)
    return {
        "received": len(places),
        "unique": len(seen),
        "missing": (high - low + 1) - len(seen),
        "duplicates": duplicates,
        "out_of_order": out_of_order,
        "wraps": high // 100 - low // 100,
        "last": places[-1] % 100 + 1,
        "highest": high % 100 + 1,
    }


@st.composite
def impaired_streams(draw):
    """Places as they might arrive: losses (runs up to 25), duplicates, bounded reordering.

    Each copy is held up by up to 20 places, and at most 25 in a row are lost, so no arrival
    is more than 49 places behind the highest nor more than 50 ahead: the range in which a
    number names one place only (see the module docstring of labsock.logic.sequence).
    """
    start = draw(st.integers(0, 99))
    steps = draw(st.lists(st.integers(1, 26), min_size=1, max_size=300))  # 1 = nothing lost
    places = []
    place = start
    for step in steps:
        place += step
        places.append(place)
    copies = draw(st.lists(st.integers(1, 3), min_size=len(places), max_size=len(places)))
    sent = [p for p, n in zip(places, copies, strict=True) for _ in range(n)]
    delays = draw(st.lists(st.integers(0, 20), min_size=len(sent), max_size=len(sent)))
    order = sorted(range(len(sent)), key=lambda i: sent[i] + delays[i])
    return [sent[i] for i in order]


def stats_dict(s):
    return {key: getattr(s, key) for key in reference([0])}


@settings(max_examples=300, deadline=None)
@given(impaired_streams())
def test_tracker_matches_reference_model(places):
    tracker = SequenceTracker()
    for place in places:
        tracker.feed("c", place % 100 + 1)
    assert stats_dict(tracker.stats("c")) == reference(places)


@settings(max_examples=100, deadline=None)
@given(impaired_streams(), impaired_streams(), st.randoms(use_true_random=False))
def test_interleaved_senders_do_not_disturb_each_other(a, b, rnd):
    merged = [("a", p) for p in a] + [("b", p) for p in b]
    rnd.shuffle(merged)
    # Keep each sender's own order: interleave, don't reorder within a sender.
    queues = {"a": iter(a), "b": iter(b)}
    arrivals = [(sender, next(queues[sender])) for sender, _ in merged]
    tracker = SequenceTracker()
    for sender, place in arrivals:
        tracker.feed(sender, place % 100 + 1)
    assert stats_dict(tracker.stats("a")) == reference(a)
    assert stats_dict(tracker.stats("b")) == reference(b)


@settings(max_examples=100, deadline=None)
@given(impaired_streams())
def test_missing_numbers_are_the_true_gaps(places):
    tracker = SequenceTracker(keep_missing=1000)
    for place in places:
        tracker.feed("c", place % 100 + 1)
    gaps = sorted(set(range(min(places), max(places) + 1)) - set(places))
    assert tracker.stats("c").missing_numbers == tuple(p % 100 + 1 for p in gaps)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-5, 205), st.text(max_size=3))))
def test_any_input_is_counted_once(values):
    tracker = SequenceTracker()
    for value in values:
        tracker.feed("c", value)
    if values:
        s = tracker.stats("c")
        assert s.received + s.invalid == len(values)
        assert s.unique + s.duplicates <= s.received
        assert s.missing >= 0 and s.wraps >= 0


def test_describe_runs():
    assert describe_runs(list(range(1, 101)) + [1, 2, 3]) == "1..100, 1..3"
    assert describe_runs([1, 2, 4, 3, 5, 6, 7]) == "1, 2, 4, 3, 5..7"
    assert describe_runs([]) == "nothing"
    assert describe_runs([1, 3, 5, 7, 9, 11], limit=3) == "1, 3, 5, ... (3 more runs)"


def test_totals_sum_every_sender():
    tracker = SequenceTracker()
    tracker.feed_many([("a", 1), ("a", 3), ("b", 1), ("b", 1), ("b", 7), ("b", 6), ("c", 0)])
    assert tracker.totals() == {
        "senders": 3,
        "received": 6,
        "missing": 1 + 4,
        "duplicates": 1,
        "out_of_order": 1,
        "invalid": 1,
    }


@pytest.mark.fast
def test_in_order_a_burst_of_losses_across_the_wrap_is_lost_not_copied():
    # A flooded server loses 80 in a row (41..100, 1..20): 21 then reads 19 places behind,
    # where a 21 already arrived. Over a relay it may be a copy; on loopback it is a jump.
    arrivals = [("c1", n) for n in [*range(1, 41), *range(21, 31)]]
    anywhere, on_loopback = SequenceTracker(), SequenceTracker(in_order=True)
    anywhere.feed_many(arrivals)
    on_loopback.feed_many(arrivals)
    assert anywhere.stats("c1").duplicates == 10
    s = on_loopback.stats("c1")
    assert (s.duplicates, s.out_of_order, s.missing, s.wraps) == (0, 0, 80, 1)


@pytest.mark.fast
def test_in_order_a_number_sent_twice_in_a_row_is_still_a_duplicate():
    tracker = SequenceTracker(in_order=True)
    tracker.feed_many(("c1", n) for n in [1, 2, 3, 3, 4])
    assert (tracker.stats("c1").duplicates, tracker.stats("c1").missing) == (1, 0)
