"""Task 5's self-checks: the student's web server, tried from outside as a browser would.

    labsock.check_web_server(6789, program="web_server", folder="web")
    labsock.check_two_at_once(6789, program="threaded_server")

check_web_server asks for every file of the folder, a missing file, a request cut in two TCP
segments, a second request after the first, and a file outside the folder (/../). What browsers
forgive (no Content-Type, lines ending in \\n alone) is advice under the checklist, not a failure.
check_two_at_once opens a connection that stays silent (a slow client) and asks on a second
one: a server with a thread per connection answers the second at once, a server that serves one
connection at a time makes it wait; its timeline shows which.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote

from labsock.lessons.self_check import Checklist, _ended, _listens, _program
from labsock.logic.exchanges import Lane
from labsock.logic.http import advice
from labsock.logic.text import escape_controls
from labsock.net.interrupts import interruptible
from labsock.net.web_client import Conversation, converse, request_bytes, wait_for_its_end

MAX_FILES = 20  # files of the folder asked for
MAX_FILE = 4 * 1024 * 1024  # larger ones are left out of the check
MISSING = "/no-such-file-here.html"


@dataclass
class WebChecklist(Checklist):
    """A Checklist with advice: what browsers forgive, said once under the points."""

    advice: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [super().__str__()]
        lines += [f"  advice: {escape_controls(note)}" for note in self.advice]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{escape(note)}</li>" for note in self.advice)
        tips = f"<div><i>Advice (browsers forgive these):</i><ul>{notes}</ul></div>"
        return super()._repr_html_() + (tips if notes else "")


def folder_files(folder: Path) -> list[Path]:
    """The files a check asks for: visible ones, in name order, at most MAX_FILES."""
    found = [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and path.stat().st_size <= MAX_FILE
    ]
    return found[:MAX_FILES]


def _url_path(folder: Path, path: Path) -> str:
    return "/" + quote(path.relative_to(folder).as_posix())


# A browser sends the cookies of its host with every request, whatever the port: in JupyterLab
# its own cookies come along, and the request grows past 1,024 bytes.
COOKIES = "Cookie: " + "; ".join(f"cookie{n}={'x' * 40}" for n in range(50)) + "\r\n"


def _ask(host, port, path: str, timeout: float, *, split=False, cookies=False) -> Conversation:
    request = request_bytes(path, host, port, extra=COOKIES if cookies else "")
    if not split:
        return converse(host, port, [request], timeout=timeout)
    # Cut inside the Host header: the request line whole in the first segment, the rest later.
    cut = request.index(b"Host: ") + 8
    return converse(host, port, [request[:cut], request[cut:]], pause=0.2, timeout=timeout)


def _said(talk: Conversation) -> str:
    """What the server sent, for a hint: its first bytes, escaped."""
    if not talk.received:
        return ""
    return f" It sent {escape_controls(repr(talk.received[:70]))}."


def _why_not(talk: Conversation, program) -> str:
    """A hint for an answer that was not the file: the likeliest cause first."""
    if talk.refused:
        why = (
            "Nothing listens on the port any more: the server must go back to accept() after "
            "each request (accept and everything after it inside while True:)."
        )
    else:
        why = talk.error or ""
    if program is not None and talk.response is None:
        wait_for_its_end(program, talk)  # a program that failed on this request
    if program is not None and not program.running:
        error = program.error or ""
        why += f" ({program.state()}; its cell says why.)"
        if "UnicodeDecodeError" in error:
            why += (
                " It read a file as text: open it in binary mode, open(..., 'rb'), and send "
                "its bytes as they are (a picture is not text)."
            )
    return why.strip()


def _file_point(checklist, talk: Conversation, path: str, want: bytes, program) -> bool:
    what = f"GET {path}: status 200 and the file's {len(want):,} bytes, exactly"
    response = talk.response
    if response is None or talk.error:
        return checklist.add(what, False, _why_not(talk, program) + _said(talk))
    if response.status != 200:
        hint = (
            f"The status line was {response.head.first_line!r}. Is the file's name right? "
            f"The server reads it from the request's first line, after GET (here {path})."
        )
        return checklist.add(what, False, hint)
    if response.body != want:
        hint = (
            f"The file came back changed: {len(response.body):,} bytes instead of "
            f"{len(want):,}. Open it in binary mode, open(..., 'rb'), and send its bytes as they "
            "are, with sendall: a picture is not text, and reading it as text changes it."
        )
        return checklist.add(what, False, hint)
    return checklist.add(what, True)


def _gone(checklist, what: str) -> None:
    checklist.add(what, None, "Not checked: the server no longer answers (see above).")


def check_web_server(
    port: int = 6789,
    *,
    program: str | None = "web_server",
    folder="web",
    host: str = "127.0.0.1",
    timeout: float = 2.0,
) -> WebChecklist:
    """Check a student's web server on every point of Task 5 (see the module docstring)."""
    folder = Path(folder)
    checklist = WebChecklist(f"Your web server on port {port}")
    found = _program(program, checklist)
    if program is not None and found is None:
        return checklist
    _listens(found, "tcp", port, checklist)
    files = folder_files(folder) if folder.is_dir() else []
    if not checklist.add(
        f"the folder {folder} has files to ask for",
        bool(files),
        f"{str(folder.resolve())!r} holds no file: give check_web_server the folder your server "
        "serves from, folder='...'.",
    ):
        return checklist
    with interruptible(f"the answers of the web server on port {port}"):
        _check_files(checklist, host, port, folder, files, found, timeout)
    return checklist


class _Asker:
    """Asks the server, one connection a request, and stops asking once it stopped listening:
    the points after that are 'not checked', not failures that all repeat one cause."""

    def __init__(self, checklist, host, port, timeout):
        self.checklist, self.host, self.port, self.timeout = checklist, host, port, timeout
        self.alive = True
        self.answered_last = True

    def ask(self, what: str, path: str, **how) -> Conversation | None:
        if not self.alive:
            _gone(self.checklist, what)
            return None
        talk = _ask(self.host, self.port, path, self.timeout, **how)
        if talk.refused:
            self.alive = False
            if not self.answered_last:  # it died on the last request: that point said why
                _gone(self.checklist, what)
                return None
        self.answered_last = talk.response is not None
        return talk


def _check_files(checklist, host, port, folder, files, program, timeout) -> None:
    asker = _Asker(checklist, host, port, timeout)
    first, *others = files
    url = _url_path(folder, first)
    talk = asker.ask(f"GET {url}", url)
    if talk is not None:
        _file_point(checklist, talk, url, first.read_bytes(), program)
        if talk.response is not None:
            checklist.advice = advice(talk.response.head, has_body=bool(talk.response.body))
    again = others[0] if others else first  # one file only: the second request asks again
    url = _url_path(folder, again)
    talk = asker.ask("a second request, on a new connection, is answered too", url)
    if talk is not None:
        _second_point(checklist, talk, program)
        if others and not asker.alive:
            _gone(checklist, f"GET {url}")
        elif others:
            _file_point(checklist, talk, url, again.read_bytes(), program)
    for path in others[1:]:
        url = _url_path(folder, path)
        talk = asker.ask(f"GET {url}", url)
        if talk is not None:
            _file_point(checklist, talk, url, path.read_bytes(), program)
    what = f"GET {MISSING} (no such file): status 404, with a page saying so"
    talk = asker.ask(what, MISSING)
    if talk is not None:
        _missing_point(checklist, talk, what, program)
    _whole_page_point(
        checklist,
        asker,
        "a request that comes in two TCP segments, 0.2 s apart, is answered",
        folder,
        first,
        broken=lambda talk: talk.error,
        hint=lambda talk: (
            "recv may return part of a request (here the request line and half a header); the "
            "rest comes in the next recv. Read until the blank line has come: "
            "while b'\\r\\n\\r\\n' not in message: message += connectionSocket.recv(1024). "
            + _why_not(talk, program)
        ).strip(),
        split=True,
    )
    _whole_page_point(
        checklist,
        asker,
        f"a long request ({len(COOKIES) + 100:,} bytes: a browser's, with its cookies) is answered",
        folder,
        first,
        broken=lambda talk: talk.reset,
        hint=lambda talk: (
            "The connection was reset: your server read only the start of the request and "
            "closed the connection with the rest unread, so the system reset it, and a browser "
            "then shows an error (ERR_CONNECTION_RESET) instead of your page. In JupyterLab "
            "the browser's requests carry its cookies and are longer than 1024 bytes. Read until "
            "the blank line: while b'\\r\\n\\r\\n' not in message: message += "
            "connectionSocket.recv(1024)."
            if talk.reset
            else _why_not(talk, program) + _said(talk)
        ),
        cookies=True,
    )
    _outside_point(checklist, asker, folder, first, program)


def _second_point(checklist, talk: Conversation, program) -> None:
    checklist.add(
        "a second request, on a new connection, is answered too",
        talk.response is not None,
        _why_not(talk, program),
    )


def _missing_point(checklist, talk: Conversation, what: str, program) -> None:
    if talk.response is None:
        checklist.add(what, False, _why_not(talk, program) + _said(talk))
    elif talk.response.status != 404:
        checklist.add(
            what,
            False,
            f"The status line was {talk.response.head.first_line!r}. When open() fails "
            "(except IOError:), send 'HTTP/1.1 404 Not Found', the blank line, and a short page.",
        )
    else:
        checklist.add(
            what,
            bool(talk.response.body.strip()),
            "The status was right, but no page came with it: the browser shows an empty page. "
            "Send a line of HTML after the blank line, e.g. <h1>404 Not Found</h1>.",
        )


def _whole_page_point(checklist, asker, what, folder, page, *, broken, hint, **how) -> None:
    """A request sent in an awkward way (how: asker.ask's split=, cookies=) gets the whole
    page: status 200, the file's bytes, and nothing broken(talk); hint(talk) says why not."""
    talk = asker.ask(what, _url_path(folder, page), **how)
    if talk is not None:
        ok = talk.status == 200 and talk.response.body == page.read_bytes() and not broken(talk)
        checklist.add(what, ok, hint(talk))


def _outside_point(checklist, asker: _Asker, folder: Path, first: Path, program) -> None:
    root = folder.resolve()
    outside = [p for p in sorted(root.parent.iterdir()) if p.is_file() and p.stat().st_size]
    target = outside[0] if outside else first.resolve()
    path = "/../" + (target.name if outside else f"{root.name}/{first.name}")
    what = f"GET {path} (a file outside the folder) is not served"
    talk = asker.ask(what, path)
    if talk is None:
        return
    body = talk.response.body if talk.response is not None else b""
    served = talk.status == 200 and bool(body) and target.read_bytes().startswith(body)
    checklist.add(
        what,
        not served,
        f"Your server sent {target.name}, which is outside {folder}: anyone who can reach it "
        "can read any file your account can. A browser never sends '..', but other programs "
        "do: refuse a file name with '..' in it (a 404 or 403).",
    )


# -- Two connections at once (the threaded server) ----------------------------------------------


@dataclass
class TwoConnections:
    checklist: Checklist
    lanes: list[Lane]
    hold: float
    at_once: bool = False  # B was answered while A was still silent

    def _repr_html_(self) -> str:
        from labsock.show.web_view import lanes_html

        return self.checklist._repr_html_() + lanes_html(self.lanes)

    def __str__(self) -> str:
        from labsock.show.web_view import lanes_text

        return f"{self.checklist}\n\n{lanes_text(self.lanes)}"

    __repr__ = __str__

    def plot(self, ax=None):
        from labsock.show.web_view import plot_lanes

        how = "B answered while A is silent" if self.at_once else "B waits until A is done"
        return plot_lanes(self.lanes, ax, title=f"Two connections at once: {how}")


def _lane(name: str, talk: Conversation, origin: float, piece_names: list) -> Lane:
    shift = talk.started - origin
    events = [(shift, "connected")]
    events += [
        (shift + at, what)
        for at, what in zip(talk.sent_at, piece_names, strict=False)
        if what is not None
    ]
    if talk.first_byte_at is not None:
        answer = f"answer: {talk.status or '?'}"
        events.append((shift + talk.first_byte_at, answer))
    end = talk.ended_at if talk.ended_at is not None else talk.gave_up_at
    if end is not None:
        events.append((shift + end, "closed" if talk.ended_at is not None else "gave up"))
    return Lane(name, sorted(events), shift, None if end is None else shift + end)


def _met(conversation: Conversation | None) -> str:
    """What one connection of check_two_at_once met, for a hint (no full stop: the hint goes on)."""
    if conversation is None:
        return "did not run"
    return (conversation.error or f"status {conversation.status}").rstrip(".")


def check_two_at_once(
    port: int = 6789,
    *,
    program: str | None = "threaded_server",
    path: str = "/HelloWorld.html",
    host: str = "127.0.0.1",
    hold: float = 1.0,
) -> TwoConnections:
    """Connection A connects and says nothing for `hold` seconds (a slow client); meanwhile
    connection B asks for the same file. A thread per connection answers B while A waits; a
    server that serves one connection at a time answers B only after A."""
    checklist = Checklist(f"Two connections at once, port {port}")
    found = _program(program, checklist)
    if program is not None and found is None:
        return TwoConnections(checklist, [], hold)
    request = request_bytes(path, host, port)
    a_open, release = threading.Event(), threading.Event()
    results: dict[str, Conversation] = {}
    origin = time.monotonic()

    def hold_open():
        a_open.set()
        release.wait(hold + 5)  # the main thread releases it after `hold`

    def slow():
        # Connected, then silent: the server has accepted it and waits in recv.
        results["A"] = converse(host, port, [b"", request], pause=hold_open, timeout=hold + 3)

    def quick():
        results["B"] = converse(host, port, [request], timeout=hold + 3)

    with interruptible(f"two connections to port {port}"):
        first = threading.Thread(target=slow, daemon=True)
        first.start()
        a_open.wait(hold + 5)  # B must come after A: a busy laptop may take a while to connect
        second = threading.Thread(target=quick, daemon=True)
        second.start()
        # A stays silent for the whole hold, so the timeline shows what B met meanwhile.
        release.wait(hold)  # (set by nobody else: a wait that Interrupt can end)
        release.set()
        first.join(hold + 5)
        second.join(hold + 5)
    a, b = results.get("A"), results.get("B")
    lanes = []
    if a is not None:
        lanes.append(_lane("A (slow)", a, origin, [None, "whole request"]))
    if b is not None:
        lanes.append(_lane("B", b, origin, ["whole request"]))
    both = a is not None and b is not None and a.status == 200 and b.status == 200
    # A program that ended during the check (the student version's stub ends at its first
    # accept) explains both points better than what the two connections met.
    ended = _ended(found)
    if ended:
        # "a program called ... runs" held when the check began; shown now, it would read "ok"
        # above two points that say the program ended.
        checklist.points[0].ok, checklist.points[0].hint = False, ended
    checklist.add(
        "both connections get the file (status 200)",
        both,
        ended
        or f"A: {_met(a)}; B: {_met(b)}. Run check_web_server first: each request on its own "
        "must work.",
    )
    # B's answer began before A had sent its request: the server served both at once.
    served_first = (
        a is not None
        and b is not None
        and b.first_byte_at is not None
        and len(a.sent_at) == 2
        and b.started + b.first_byte_at < a.started + a.sent_at[1]
    )
    checklist.add(
        f"B is answered while A is still silent (A waits {hold:g} s before its request)",
        served_first,
        ended
        or "B waited until A was done: the server serves one connection at a time. Give each "
        "connection a thread of its own: after accept(), start a threading.Thread whose target "
        "is the function that serves one connection, and go straight back to accept().",
    )
    return TwoConnections(checklist, lanes, hold, served_first)
