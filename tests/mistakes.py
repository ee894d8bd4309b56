"""The mistakes students make, and what labsock says to each: one list for the tests and the README.

tests/test_mistakes.py makes each mistake with real programs and checks that what labsock says
holds every excerpt in `says` and none of the words in `not_said` (what a wrong hint said before).
The README's table "Mistakes students make, and what labsock says" is rendered from this list:

    python -m tests.mistakes          print the table
    python -m tests.mistakes --write  write it into README.md (between its two markers)

and tests/test_mistakes.py fails when the README's table differs from the list.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- mistakes table: python -m tests.mistakes --write -->"
END = "<!-- end of mistakes table -->"


@dataclass(frozen=True)
class Mistake:
    key: str  # test_mistakes.py has test_<key>
    mistake: str  # what the student does, in the README's words
    # Excerpts of what labsock says. {port} and {next_port} stand for the port the test used
    # (and the next); the README shows them as the lab's 12000 and 12001.
    says: tuple[str, ...]
    not_said: tuple[str, ...] = ()  # what a hint that blamed the wrong thing said


MISTAKES = (
    Mistake(
        "endless_client",
        "a `while True` client with no pause, run with `%%client` (it never ends)",
        (
            "was still sending when it was stopped after 2 s",
            "udp_server received",
            "messages, so the server is running",
            "At line 6, `while True:` never ends (nothing in it pauses",
            "%%background flooder",
        ),
        ("Is the server running",),
    ),
    Mistake(
        "paced_endless_client",
        "the same client with a pause in its loop (it still never ends)",
        (
            "At line 7, `while True:` never ends (it pauses, but nothing in it ends it)",
            "`%%background flooder`",
        ),
        ("Is the server running",),
    ),
    Mistake(
        "recvfrom_on_listening_tcp",
        "`recvfrom` on a TCP socket that listens (Errno 107)",
        (
            "serverSocket is a TCP socket that listens for connections (line 5: "
            "`serverSocket.listen(1)`)",
            "`connectionSocket, addr = serverSocket.accept()`",
            "Your program stopped at line 7",
        ),
        ("Is the server running", "Could not receive"),
    ),
    Mistake(
        "listen_on_udp",
        "`listen` on a UDP socket (Errno 95)",
        (
            "serverSocket is a UDP socket (line 3: `serverSocket = socket(AF_INET, SOCK_DGRAM)`), "
            "and only TCP has connections to listen",
            "Your program stopped at line 5",
        ),
    ),
    Mistake(
        "sendto_on_unconnected_tcp",
        "`sendto` on a TCP socket that never connected (broken pipe)",
        (
            "clientSocket is a TCP socket with no connection",
            "`clientSocket.connect((serverName, serverPort))`, then "
            "`clientSocket.send(message.encode())`",
        ),
        ("Is the server running",),
    ),
    Mistake(
        "reply_not_encoded",
        "a server that sends its reply without `.encode()`",
        (
            "modifiedMessage is text (a str): encode it as you send it, "
            "`serverSocket.sendto(modifiedMessage.encode(), clientAddress)`",
            "Your program stopped at line 9",
        ),
        ("clientSocket", "serverName"),
    ),
    Mistake(
        "port_held_outside",
        "a server whose port another program (outside labsock) holds",
        (
            "is already in use, so serverSocket cannot bind it",
            "holds it. Your program asks for it at line 2: `serverPort = {port}`",
            "change line 2 to `serverPort = {next_port}`, and the client's serverPort with it",
        ),
        ("port=12001", "port=0"),
    ),
    Mistake(
        "port_held_by_another_notebook",
        "a server whose port a program of another notebook holds",
        (
            "Your program asks for it at line 2: `serverPort = {port}`. old_server holds port",
            "The button below stops it, then runs this cell again",
        ),
        ("port=12001", "port=0"),
    ),
    Mistake(
        "plain_cell_server",
        "a server in a plain cell (no `%%background`): before it blocks",
        (
            "this cell runs a server in the notebook's own kernel",
            "the whole notebook freezes with it",
            "Put `%%background udp_server` on the first line of this cell",
        ),
    ),
    Mistake(
        "port_held_by_this_kernel",
        "then the same server with `%%background`, the plain cell's socket still open",
        (
            "This notebook's own kernel holds it",
            "run `serverSocket.close()` in a cell",
        ),
        ("another notebook",),
    ),
    Mistake(
        "character_split",
        "a TCP server that decodes each `recv` and meets a character cut in two",
        (
            "one recv can end in the middle of a character",
            "Keep the bytes as they come (buffer += data), cut whole lines at b'\\n'",
            "Your program stopped at line 8",
        ),
    ),
    Mistake(
        "pinger_after_relay_stopped",
        "`check_pinger` run after the relay was stopped",
        ("The relay was stopped (relay.stop() ran)",),
        ("match replies by number",),
    ),
    Mistake(
        "answered_by_an_earlier_server",
        "a client answered by a server from an earlier cell, not the one just written",
        (
            "This reply came from udp_server, not from alnum_server, the program of your latest "
            "%%background cell",
            "udp_server, from an earlier cell: running",
            "alnum_server: not written yet",
        ),
    ),
    Mistake(
        "answered_by_no_program_of_this_notebook",
        "a client answered by a program outside this notebook",
        ("which none of this notebook's programs holds",),
    ),
    Mistake(
        "accept_without_listen",
        "a TCP server that calls `accept` without `listen` (Errno 22)",
        (
            "serverSocket never listened",
            "Add `serverSocket.listen(1)` after bind, before accept",
            "Your program stopped at line 6",
        ),
    ),
    Mistake(
        "misspelt_socket_method",
        "a misspelt socket method (`recvFrom`)",
        ("did you mean recvfrom, `serverSocket.recvfrom(2048)`?",),
    ),
    Mistake(
        "forgotten_bind",
        "a UDP server without `bind`, and its client",
        (
            "udp_server waits in recvfrom on a socket it never bound, so it has no port and no "
            "client can reach it",
            "`serverSocket.bind(('127.0.0.1', {port}))`",
        ),
        ("Is the server running",),
    ),
    Mistake(
        "server_never_replies",
        "a server that receives but never sends a reply, and its client",
        (
            "udp_server received it (labsock saw it arrive), but no reply came back",
            "`serverSocket.sendto(reply.encode(), clientAddress)`",
        ),
        ("Is the server running",),
    ),
    Mistake(
        "server_fails_on_the_message",
        "a server that fails on the client's message, and that client",
        ("udp_server received it, then failed at line 8",),
        ("Is the server running",),
    ),
)


IN_THE_LAB = {"port": 12000, "next_port": 12001}


def excerpts(mistake: Mistake, **values) -> list[str]:
    """The mistake's excerpts with the ports filled in (the lab's, unless given)."""
    return [words.format(**{**IN_THE_LAB, **values}) for words in mistake.says]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table() -> str:
    """The README's table, one row per mistake: the excerpts of what labsock says."""
    rows = [
        "| Mistake | What labsock says (excerpts of one message, joined by …) |",
        "|---|---|",
    ]
    rows += [f"| {_cell(m.mistake)} | {_cell(' … '.join(excerpts(m)))} |" for m in MISTAKES]
    return "\n".join(rows)


def readme_table(text: str) -> str | None:
    """The table between the README's markers, or None when the markers are missing."""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def write_readme() -> None:
    text = README.read_text(encoding="utf-8")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    README.write_text(f"{before}{BEGIN}\n{table()}\n{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write_readme()
    else:
        print(table())
