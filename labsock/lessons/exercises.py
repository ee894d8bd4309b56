"""Trying a student's exercise: their function runs as a real server's reply, and the answers
are compared with the expected ones."""

from __future__ import annotations

from labsock.logic.errors import LabsockError
from labsock.net.clients import send_udp
from labsock.net.servers import UDPServer

REVERSE_WORDS_CASES = {
    "the quick brown fox": "fox brown quick the",
    "hello": "hello",
    "one two": "two one",
    "UDP is fast": "fast is UDP",
}


class TrialReport:
    """What a trial found; shows itself as a short text in the notebook."""

    def __init__(self, title: str, results: list[tuple[str, str, str]]):
        self.title = title
        self.results = results  # (sent, expected, got)

    @property
    def passed(self) -> bool:
        return all(expected == got for _sent, expected, got in self.results)

    def __repr__(self) -> str:
        if self.passed:
            return f"{self.title}: all {len(self.results)} checks pass. Well done!"
        lines = [f"{self.title}: not yet."]
        for sent, expected, got in self.results:
            mark = "ok " if expected == got else "NO "
            lines.append(f"  {mark} sent {sent!r}: expected {expected!r}, got {got!r}")
        return "\n".join(lines)


def try_reverse_words(function) -> TrialReport:
    """Run function as a UDP server's reply and compare its answers with the expected ones."""
    if not callable(function):
        raise LabsockError(
            "Pass your function itself, without brackets: try_reverse_words(reverse_words)."
        )
    results = []
    with UDPServer(port=0, reply=function) as server:
        for sent, expected in REVERSE_WORDS_CASES.items():
            try:
                got = str(send_udp(sent, port=server.port, timeout=2))
            except LabsockError:
                got = "(no reply: did your function return None?)"
            results.append((sent, expected, got))
    return TrialReport("reverse_words", results)
