"""The exercises' two sides: the stub a student starts from, and trying what they wrote.

In the student version of a notebook (python -m labsock.handout) every reference solution is
replaced by STUB. Running the stub raises NotWrittenYet, which a notebook shows as one sentence:
a cell after an unsolved exercise stops with that sentence, never with a traceback. A trial runs
the student's function as a real server's reply and compares the answers with the expected ones.
"""

from __future__ import annotations

import sys

from labsock.lessons.checklist import Checklist
from labsock.logic.errors import LabsockError, NotWrittenYet
from labsock.net.clients import send_udp
from labsock.net.servers import UDPServer

# Self-contained (it imports what it calls) so it runs wherever a solution stood: in a function
# body, at the top of a cell, or in a program that runs outside the notebook's kernel.
STUB = "# YOUR CODE HERE\nfrom labsock import your_code_here; your_code_here()"

REVERSE_WORDS_CASES = {
    "the quick brown fox": "fox brown quick the",
    "hello": "hello",
    "one two": "two one",
    "UDP is fast": "fast is UDP",
}


def your_code_here():
    """What the stub calls: stop with one sentence that names the unwritten function."""
    caller = sys._getframe(1).f_code.co_name
    # A cell or a program runs as "<module>"; a function body runs under the function's name.
    raise NotWrittenYet(None if caller.startswith("<") else caller)


class TrialReport(Checklist):
    """What a trial found: a checklist (one point per message sent), shown as a short text."""

    def __init__(self, title: str, results: list[tuple[str, str, str]], not_written: str = ""):
        super().__init__(title)
        self.results = results  # (sent, expected, got)
        self.not_written = not_written  # the stub's sentence, if the function is still the stub
        if not_written:
            self.add(f"{title} is written", False, not_written)
        for sent, expected, got in results:
            self.add(f"{sent!r} gives {expected!r}", expected == got, f"It gave {got!r}.")

    def __str__(self) -> str:
        if self.not_written:
            return self.not_written
        if self.passed:
            return f"{self.title}: all {len(self.results)} checks pass. Well done!"
        lines = [f"{self.title}: not yet."]
        for sent, expected, got in self.results:
            mark = "ok " if expected == got else "NO "
            lines.append(f"  {mark} sent {sent!r}: expected {expected!r}, got {got!r}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> None:
        return None  # the notebook shows the short text above, as it always has


def still_the_stub(function, sample: str) -> str:
    """The stub's sentence if function is still the stub, else "" (its other errors show later)."""
    try:
        function(sample)
    except NotWrittenYet as stub:
        return str(stub)
    except Exception:
        pass  # a bug of the student's own: the server run reports it, line and all
    return ""


def try_reverse_words(function) -> TrialReport:
    """Run function as a UDP server's reply and compare its answers with the expected ones."""
    if not callable(function):
        raise LabsockError(
            "Pass your function itself, without brackets: try_reverse_words(reverse_words)."
        )
    not_written = still_the_stub(function, next(iter(REVERSE_WORDS_CASES)))
    if not_written:
        return TrialReport("reverse_words", [], not_written)
    results = []
    with UDPServer(port=0, reply=function) as server:
        for sent, expected in REVERSE_WORDS_CASES.items():
            try:
                got = str(send_udp(sent, port=server.port, timeout=2))
            except LabsockError:
                got = "(no reply: did your function return None?)"
            results.append((sent, expected, got))
    return TrialReport("reverse_words", results)
