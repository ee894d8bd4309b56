"""Judging a counting client by the numbers it sent: pure logic."""

from __future__ import annotations

import pytest

from labsock.logic.counting_check import first_mistake, saw_the_wrap

RIGHT = [*range(1, 101), 1, 2, 3]


@pytest.mark.fast
@pytest.mark.parametrize(
    "numbers, kind, described",
    [
        (RIGHT, None, ""),
        ([*range(1, 102)], "wrap", "after 100 it sent 101, not 1"),
        ([*range(1, 100), 0, 1], "wrap", "after 99 it sent 0, not 100"),
        ([*range(1, 100), 1], "wrap", "after 99 it sent 1, not 100"),
        ([0, 1, 2], "start", "it started at 0, not at 1"),
        ([1, 2, 4], "step", "after 2 it sent 4, not 3"),
        ([1, 2, 3, 1], "wrap", "after 3 it sent 1, not 4"),
    ],
)
def test_the_first_mistake_is_found_and_named(numbers, kind, described):
    mistake = first_mistake(numbers)
    assert (mistake.kind if mistake else None) == kind
    assert (mistake.describe() if mistake else "") == described


@pytest.mark.fast
def test_a_record_that_starts_late_is_not_judged_on_its_start():
    assert first_mistake([57, 58, 59], from_start=False) is None
    assert first_mistake([57, 58, 59]).kind == "start"


@pytest.mark.fast
def test_the_wrap_is_judged_only_once_a_number_follows_100():
    assert not saw_the_wrap(range(1, 101))
    assert saw_the_wrap(RIGHT)
    assert saw_the_wrap([*range(1, 102)])
