"""Students' submissions of Task 1 for the grader's tests and bench: each kind a student hands in.

    write_class(folder, {"right": 2, "stub": 1})   # folder/right_1.ipynb, right_2.ipynb, ...

Each notebook is the lab's own task1 notebook with its exercise cells replaced by one kind of
work: the reference solutions (right), a subtle mistake (wrong), the handout's stubs (stub), a
program that never waits and a function that never returns (loop), a server that forks a child
which leaves its session and sleeps (fork), a server that prints without end (flood), a server
that takes 2 GB (memory).
"""

from __future__ import annotations

import json
from pathlib import Path

from labsock.lessons.exercises import STUB

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "task1_udp_tcp.ipynb"
FORKED_SLEEP = "4321.5"  # a forked child sleeps this long: findable among all processes

SERVE_ALNUM = """from socket import *
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', 12000))
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    kept = ''.join(ch for ch in message.decode() if ch.{test}())
    serverSocket.sendto((str(len(kept)) + ' alphanumeric: ' + kept).encode(), clientAddress)
"""
SERVE_PRINT = """from socket import *
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', 12001))
print("Waiting for messages")
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    print(clientAddress[1], 'says:', message.decode())
"""
FORK = f"""import os, time
if os.fork() == 0:
    os.setsid()
    os.execvp("sleep", ["sleep", "{FORKED_SLEEP}"])
"""
FLOOD = """print("Waiting for messages")
while True:
    print("flood " * 20)
"""
BIND_THEN_SPIN = """from socket import *
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', 12000))
while True:
    pass
"""
TAKE_2_GB = "hoard = bytearray(2 * 1024**3)\n"

# kind -> what its exercise cells hold: {program name or function: code}
KINDS = {
    "right": {},
    "wrong": {
        "alnum_server": SERVE_ALNUM.format(test="isalpha"),  # forgets the digits
        "reverse_words": 'return " ".join(text.split()[::-1][:3])',  # loses a fourth word
    },
    "stub": {"alnum_server": STUB, "print_server": STUB, "reverse_words": STUB},
    "loop": {"alnum_server": BIND_THEN_SPIN, "reverse_words": "while True:\n    pass"},
    "fork": {"print_server": FORK + SERVE_PRINT},
    "flood": {"print_server": FLOOD},
    "memory": {"alnum_server": TAKE_2_GB + SERVE_ALNUM.format(test="isalnum")},
}

# The points each kind earns of Task 1's 11 (the tests in labsock/grade/task_tests.py).
EXPECTED = {
    "right": 11,
    "wrong": 4,  # all but both alnum tests (the visible one sends digits too) and reverse
    "stub": 2,  # udp, tcp: the given programs
    "loop": 4,  # udp, tcp, print
    "fork": 11,  # a fork is no fault; it just must not outlive the grading
    "flood": 9,  # all but print
    "memory": 6,  # all but the two alnum tests
}


def _replace(source: str, code: str) -> str:
    first, _, body = source.partition("\n")
    if first.startswith("%%"):
        return first + "\n" + code
    indent = "    "
    return first + "\n" + "\n".join(indent + line for line in code.splitlines())


def submission(kind: str) -> dict:
    """The task1 notebook as a student of this kind hands it in."""
    notebook = json.loads(NOTEBOOK.read_text("utf-8"))
    for name, code in KINDS[kind].items():
        heads = (f"%%background {name}", f"def {name}(")
        for cell in notebook["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and source.startswith(heads):
                cell["source"] = _replace(source, code)
    return notebook


def write_class(folder: Path, counts: dict[str, int]) -> dict[str, str]:
    """Notebooks KIND_N.ipynb in folder; student name -> kind."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {}
    for kind, count in counts.items():
        notebook = json.dumps(submission(kind))
        for number in range(1, count + 1):
            student = f"{kind}_{number}"
            (folder / f"{student}.ipynb").write_text(notebook, "utf-8")
            kinds[student] = kind
    return kinds
