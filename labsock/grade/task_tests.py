"""Each task's graded tests: name, points, visible or hidden, the programs each needs, the check.

    graded_tests("task1")                                # the tests shipped with labsock
    graded_tests("task1", overrides="my_tests.toml")     # with the instructor's changes

A test starts the programs it needs (from the student's notebook, by name, in order), runs one
labsock self-check (or a trial of a function) with its arguments, and is worth its points when
every point of the check holds. `hidden_messages` are extra messages a server test also sends:
graded, but the feedback shows only whether each came back right, never the text. A hidden test
shows in the feedback as passed or failed only.

The instructor's file (TOML on Python 3.11+, or JSON everywhere: 3.10 has no TOML reader and a
grader should need nothing beyond requirements.txt) changes or adds tests by name:

    [tests.alnum_server]
    points = 5
    hidden_messages = ["ABC def 123", "no digits here"]

    [tests.my_extra]                  # a new test: every field
    points = 1
    check = "check_udp_server"
    programs = ["udp_server"]
    args = {port = 12000, program = "udp_server"}
    visible = false

`points = 0` leaves a shipped test out. Pure: no files are read but the one named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from labsock.logic.errors import LabsockError

# What a test's setup may start: labsock's servers, relay and slicer (their lab's helpers).
SETUPS = {"serve_udp", "serve_tcp", "relay_udp", "slice_tcp"}

# The checks a test may use: labsock's public self-checks, and the trial of a function.
CHECKS = {
    "check_server",
    "check_udp_server",
    "check_tcp_server",
    "check_printing_server",
    "check_counting_clients",
    "check_counting_server",
    "check_pinger",
    "check_framed_server",
    "try_reverse_words",
}


@dataclass(frozen=True)
class GradedTest:
    name: str
    points: float
    check: str  # a name in CHECKS
    programs: tuple[str, ...] = ()  # started in this order before the check
    args: dict = field(default_factory=dict)  # the check's keyword arguments
    function: str | None = None  # a student's function the check is given (by its def name)
    visible: bool = True
    hidden_messages: tuple[str, ...] = ()
    # labsock's own helpers started before the programs, by name: {"relay": ["relay_udp", {...}]};
    # an argument "@relay" of the check is that helper.
    setup: dict = field(default_factory=dict)
    seconds: float | None = None  # this test's time limit, when not the grader's --test-limit


def _server(name, points, port, program, *, proto="udp", reply="upper", hidden=(), visible=True):
    check = "check_udp_server" if proto == "udp" else "check_tcp_server"
    args = {"port": port, "program": program}
    if reply != "upper":
        args["reply"] = reply
    return GradedTest(name, points, check, (program,), args, None, visible, tuple(hidden))


TASKS: dict[str, list[GradedTest]] = {
    "task1": [
        _server("udp_server", 1, 12000, "udp_server"),
        _server("tcp_server", 1, 12000, "tcp_server", proto="tcp"),
        _server("alnum_server", 3, 12000, "alnum_server", reply="alnum"),
        _server(
            "alnum_server_more",
            2,
            12000,
            "alnum_server",
            reply="alnum",
            hidden=("ABC def 123", "...!!!", "Zürich 8000"),
            visible=False,
        ),
        GradedTest(
            "print_server",
            2,
            "check_printing_server",
            ("print_server",),
            {"port": 12001, "program": "print_server"},
        ),
        GradedTest("reverse_words", 2, "try_reverse_words", function="reverse_words"),
    ],
    "task2": [_server("lan_server", 2, 12000, "lan_server")],
    "task4": [
        GradedTest(
            "pinger",
            3,
            "check_pinger",
            ("pinger",),
            {"program": "pinger", "relay": "@relay"},
            setup={
                "server": ["serve_udp", {"port": 12000, "reply": "echo"}],
                "relay": ["relay_udp", {"listen_port": 12001, "network": "mobile", "seed": 7}],
            },
            seconds=45,
        ),
        GradedTest(
            "framed_server",
            3,
            "check_framed_server",
            ("framed_server", "framed_client"),
            setup={"framer": ["slice_tcp", {"listen_port": 12005, "to": "127.0.0.1:12004"}]},
        ),
    ],
    "task3": [
        GradedTest(
            "counting_clients",
            3,
            "check_counting_clients",
            ("server", "c1", "c2"),
            {"server": "server"},
        ),
        GradedTest("counting_server", 3, "check_counting_server", ("server", "c1", "c2")),
    ],
}


def _read(path: Path) -> dict:
    text = path.read_text("utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        raise LabsockError(
            f"{path.name}: reading TOML needs Python 3.11 or newer. Write the same as JSON "
            '({"tests": {"alnum_server": {"points": 5}}}) in a .json file.'
        ) from None
    return tomllib.loads(text)


def graded_tests(task: str, overrides: str | Path | None = None) -> list[GradedTest]:
    """The task's tests, with the instructor's file applied (changed, added, or points = 0)."""
    tests = {test.name: test for test in TASKS.get(task, [])}
    if overrides is not None:
        changes = _read(Path(overrides)).get("tests", {})
        known = {f.name for f in fields(GradedTest)} - {"name"}
        for name, change in changes.items():
            unknown = set(change) - known
            if unknown:
                raise LabsockError(
                    f"Test {name!r} in {Path(overrides).name}: unknown field(s) "
                    f"{sorted(unknown)}; the fields are {sorted(known)}."
                )
            change = {k: tuple(v) if isinstance(v, list) else v for k, v in change.items()}
            if name in tests:
                tests[name] = replace(tests[name], **change)
            elif "check" in change and "points" in change:
                tests[name] = GradedTest(name, **change)
            else:
                raise LabsockError(
                    f"Test {name!r} in {Path(overrides).name} is new to {task}: give it at "
                    "least points and check."
                )
    for test in tests.values():
        helpers = {helper for helper, _ in test.setup.values()}
        if not helpers <= SETUPS:
            raise LabsockError(
                f"Test {test.name!r}: setup {sorted(helpers - SETUPS)} is not one of "
                f"{sorted(SETUPS)}."
            )
        if test.check not in CHECKS:
            raise LabsockError(
                f"Test {test.name!r}: check {test.check!r} is not one of {sorted(CHECKS)}."
            )
    found = [test for test in tests.values() if test.points > 0]
    if not found:
        raise LabsockError(
            f"No tests for {task!r}: labsock ships tests for {', '.join(sorted(TASKS))}; "
            "give yours in a file (--tests FILE)."
        )
    return found


# Ports a check uses besides its "port" argument: Task 3's clients bind these.
_CLIENT_PORTS = {"check_counting_clients": (11000, 13000), "check_counting_server": (11000, 13000)}


def ports_used(tests: list[GradedTest]) -> set[int]:
    """The fixed ports the tests' programs and checks use (checked free between students)."""
    ports = set()
    for test in tests:
        ports.add(int(test.args.get("port", 12000)))
        for _helper, options in test.setup.values():
            ports.add(int(options.get("port", options.get("listen_port", 12000))))
        ports.update(_CLIENT_PORTS.get(test.check, ()))
    return ports
