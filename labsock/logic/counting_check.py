"""Judging a counting client by what it sent: pure logic, no sockets.

A Task 3 client sends 1, 2, ..., 100, then 1 again, for ever. Given the numbers one client sent,
in the order it sent them (read from what labsock saw it send, so nothing is lost on the way),
`first_mistake` finds where it first went wrong, and says which kind of mistake that is:

    start   the first number is not 1 (only judged when the numbers start at its first send)
    step    a number is not the one before it plus 1 (e.g. 5 after 3)
    wrap    what follows 100 is not 1, or it goes back early: 101 after 100, 0 after 99,
            1 after 99

`saw_the_wrap` says whether the numbers reach past 100, so that the wrap could be judged at all.
"""

from __future__ import annotations

from typing import NamedTuple

from labsock.logic.sequence import LAP


class Mistake(NamedTuple):
    kind: str  # "start", "step" or "wrap"
    index: int  # of the number that is wrong
    before: int | None  # the number before it (None for a wrong start)
    got: int

    def describe(self, lap: int = LAP) -> str:
        if self.kind == "start":
            return f"it started at {self.got}, not at 1"
        wanted = 1 if self.before == lap else self.before + 1
        return f"after {self.before} it sent {self.got}, not {wanted}"


def next_number(number: int, lap: int = LAP) -> int:
    """What a right client sends after `number`."""
    return 1 if number >= lap else number + 1


def first_mistake(numbers, lap: int = LAP, from_start: bool = True) -> Mistake | None:
    """The first place where `numbers` (in the order sent) is not 1, 2, ..., lap, 1, 2, ...

    from_start: the numbers begin with the client's first send (else the start is not judged).
    """
    numbers = list(numbers)
    if not numbers:
        return None
    if from_start and numbers[0] != 1:
        return Mistake("start", 0, None, numbers[0])
    for index in range(1, len(numbers)):
        before, got = numbers[index - 1], numbers[index]
        if got == next_number(before, lap) and before <= lap:
            continue
        near_the_end = before >= lap - 1 or got in (0, 1) or got > lap or before > lap
        return Mistake("wrap" if near_the_end else "step", index, before, got)
    return None


def saw_the_wrap(numbers, lap: int = LAP) -> bool:
    """True once some number follows a `lap` (or a higher one): what the client does at the end
    of a lap can be judged. (A client that goes back early shows it in first_mistake.)"""
    numbers = list(numbers)
    return any(before >= lap for before in numbers[:-1])
