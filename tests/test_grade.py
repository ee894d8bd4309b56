"""The grader on real submissions of each kind: right, subtly wrong, the handout's stubs, a loop,
a fork that leaves its session, a flood of output, 2 GB, and a port held by another program.

Each student is graded in their own network and PID namespace (skipped where there are none),
so the lab's fixed ports are the students' own; the one test outside namespaces holds a port
the system chose (port 0)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from grade_samples import EXPECTED, FORKED_SLEEP, write_class

import labsock
from labsock.grade import Limits, grade
from labsock.grade.isolation import namespace_prefix

needs_namespaces = pytest.mark.skipif(
    namespace_prefix() is None, reason="no network and PID namespaces here (Linux, unshare)"
)


def forked_sleepers() -> list[str]:
    """Processes anywhere on this computer that a sample's fork left sleeping."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes() == b"sleep\0" + FORKED_SLEEP.encode() + b"\0":
                found.append(cmdline.parent.name)
        except OSError:
            pass  # ended while we looked
    return found


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """One class with every kind, graded once (about 20 s with two CPUs)."""
    folder = tmp_path_factory.mktemp("class")
    kinds = write_class(folder / "hand_ins", {kind: 1 for kind in EXPECTED})
    graded = grade(folder / "hand_ins", "task1", folder / "out")
    return kinds, graded


@needs_namespaces
def test_each_kind_of_submission_gets_its_points(graded_class):
    kinds, graded = graded_class
    totals = {r.student: sum(r.points(t) for t in graded.tests) for r in graded.results}
    assert totals == {student: EXPECTED[kind] for student, kind in kinds.items()}
    assert all(r.status == "graded" for r in graded.results)
    assert graded.exit_status == 0


@needs_namespaces
def test_a_stub_fails_with_the_handouts_sentence(graded_class):
    _, graded = graded_class
    [stub] = [r for r in graded.results if r.student == "stub_1"]
    hints = [p["hint"] for p in stub.tests["reverse_words"]["checklist"]["points"]]
    assert any("reverse_words() is not written yet" in hint for hint in hints)


@needs_namespaces
def test_a_loop_costs_the_limits_and_the_tests_after_it_still_run(graded_class):
    _, graded = graded_class
    [loop] = [r for r in graded.results if r.student == "loop_1"]
    assert loop.tests["reverse_words"]["status"] == "time limit"
    whats = [p["what"] for p in loop.tests["alnum_server"]["checklist"]["points"]]
    assert "alnum_server starts waiting within 3 s" in whats
    assert loop.points(next(t for t in graded.tests if t.name == "print_server")) == 2


@needs_namespaces
def test_nothing_a_student_forked_outlives_their_grading(graded_class):
    _, graded = graded_class
    [fork] = [r for r in graded.results if r.student == "fork_1"]
    assert fork.programs["print_server"]["state"]  # it ran (and forked) ...
    assert forked_sleepers() == []  # ... and its child, though it left its session, is gone


@needs_namespaces
def test_a_flood_of_output_reaches_the_feedback_as_its_last_lines(graded_class):
    _, graded = graded_class
    [flood] = [r for r in graded.results if r.student == "flood_1"]
    output = flood.programs["print_server"]["output"]
    assert output.count("\n") < 20 and "flood" in output
    page = (graded.out / "feedback" / "flood_1.html").read_text()
    assert len(page) < 100_000


@needs_namespaces
def test_two_gigabytes_fail_only_that_program(graded_class):
    _, graded = graded_class
    [memory] = [r for r in graded.results if r.student == "memory_1"]
    assert "MemoryError" in memory.programs["alnum_server"]["output"] + str(
        memory.programs["alnum_server"]
    )


@needs_namespaces
def test_the_files_written(graded_class):
    kinds, graded = graded_class
    rows = (graded.out / "grades.csv").read_text().splitlines()
    assert rows[0].split(",")[:2] == ["student", "udp_server"]
    assert rows[0].split(",")[-4:] == ["total", "maximum", "seconds", "status"]
    assert sorted(row.split(",")[0] for row in rows[1:]) == sorted(kinds)
    data = json.loads((graded.out / "results.json").read_text())
    points = data["students"][0]["tests"]["udp_server"]["checklist"]["points"]
    assert {"what", "ok", "hint"} <= set(points[0])
    page = (graded.out / "feedback" / "wrong_1.html").read_text()
    assert "alnum_server_more: 0 of 2 points" in page and "A hidden test: failed." in page
    assert "ABC def 123" not in page  # a hidden message's text stays the instructor's


@needs_namespaces
def test_programs_are_saved_in_the_graders_folder_not_the_current_one(graded_class, tmp_path):
    _, graded = graded_class
    saved = list(graded.out.glob("work-*/right_1/programs/udp_server.py"))
    assert len(saved) == 1 and "recvfrom" in saved[0].read_text()
    assert not Path("programs/alnum_server.py").exists() or Path.cwd() == graded.out


@needs_namespaces
def test_tests_finished_before_the_students_limit_keep_their_points(tmp_path):
    write_class(tmp_path / "in", {"loop": 1})
    changes = tmp_path / "tests.json"
    first_two = {"tcp_server": {"points": 0}, "alnum_server": {"points": 0}}
    first_two |= {"alnum_server_more": {"points": 0}, "print_server": {"points": 0}}
    changes.write_text(json.dumps({"tests": first_two}))
    graded = grade(
        tmp_path / "in",
        "task1",
        tmp_path / "out",
        tests_file=changes,
        limits=Limits(test=600, student=8),
    )
    [loop] = graded.results
    assert loop.status == "time limit"
    assert [loop.points(t) for t in graded.tests] == [1, 0]  # udp_server kept; reverse_words not
    page = (tmp_path / "out" / "feedback" / "loop_1.html").read_text()
    assert "time limit" in page and "Not run" in page


def test_a_port_held_by_another_program_is_a_grader_error_never_a_zero(tmp_path):
    write_class(tmp_path / "in", {"right": 1})
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        port = other.getsockname()[1]
        changes = tmp_path / "tests.json"
        only = {name: {"points": 0} for name in ("tcp_server", "alnum_server", "print_server")}
        only |= {"alnum_server_more": {"points": 0}, "reverse_words": {"points": 0}}
        only["udp_server"] = {"args": {"port": port, "program": "udp_server"}}
        changes.write_text(json.dumps({"tests": only}))
        out = tmp_path / "out"
        graded = grade(tmp_path / "in", "task1", out, tests_file=changes, isolate=False)
    [result] = graded.results
    assert result.status == "grader error" and f"UDP {port}" in result.error
    assert graded.exit_status == 1
    row = (tmp_path / "out" / "grades.csv").read_text().splitlines()[1]
    assert row.startswith("right_1,,,") and row.endswith("grader error")


@needs_namespaces
def test_the_command_shows_progress_and_exits_non_zero_only_for_a_grader_error(tmp_path):
    write_class(tmp_path / "in", {"right": 1, "stub": 1})
    done = subprocess.run(
        [sys.executable, "-m", "labsock.grade", str(tmp_path / "in"), "--task", "task1"]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2/2 students" in done.stderr and "[####" in done.stderr
    assert (tmp_path / "out" / "feedback" / "stub_1.html").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "labsock.grade", str(tmp_path / "in"), "--task", "task9"]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "No tests for 'task9'" in bad.stderr


def test_try_reverse_words_answers_a_checklist():
    report = labsock.try_reverse_words(lambda text: text)
    assert isinstance(report, labsock.Checklist) and not report.passed
    failing = [p for p in report.to_dict()["points"] if not p["ok"]]
    assert failing and "It gave" in failing[0]["hint"]
    with pytest.raises(AssertionError, match="NO  sent"):
        report.assert_passed()


@needs_namespaces
def test_the_test_limit_holds_in_a_grader_started_in_the_background(tmp_path):
    # A shell's `grader &` starts it with SIGINT ignored, which the limit's interrupt relies on.
    write_class(tmp_path / "in", {"loop": 1})
    changes = tmp_path / "tests.json"
    others = ("udp_server", "tcp_server", "alnum_server", "alnum_server_more", "print_server")
    changes.write_text(json.dumps({"tests": {name: {"points": 0} for name in others}}))
    done = subprocess.run(
        [sys.executable, "-m", "labsock.grade", str(tmp_path / "in"), "--task", "task1"]
        + ["--out", str(tmp_path / "out"), "--tests", str(changes), "--test-limit", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert done.returncode == 0, done.stderr
    [student] = json.loads((tmp_path / "out" / "results.json").read_text())["students"]
    assert student["status"] == "graded"
    assert student["tests"]["reverse_words"]["status"] == "time limit"


@needs_namespaces
def test_ctrl_c_ends_every_students_programs_at_once(tmp_path):
    write_class(tmp_path / "in", {"loop": 3, "fork": 3})
    grader = subprocess.Popen(
        [sys.executable, "-m", "labsock.grade", str(tmp_path / "in"), "--task", "task1"]
        + ["--out", str(tmp_path / "out"), "--workers", "2", "--student-limit", "600"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("out/work-*/*/results.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the first student's first result: no event to wait on
    grader.send_signal(signal.SIGINT)
    _, stderr = grader.communicate(timeout=60)  # far below the 600 s a student may take
    assert grader.returncode == 130 and "Stopped" in stderr
    assert forked_sleepers() == []


def test_without_namespaces_students_are_graded_one_at_a_time(tmp_path):
    from labsock.grade.isolation import held_ports

    if held_ports({12000, 12001}):
        pytest.skip("the lab's ports are in use here: run in a network namespace (unshare -n)")
    write_class(tmp_path / "in", {"right": 2})
    graded = grade(tmp_path / "in", "task1", tmp_path / "out", isolate=False)
    assert [sum(r.points(t) for t in graded.tests) for r in graded.results] == [11, 11]


@pytest.mark.skipif(
    namespace_prefix() is None
    or subprocess.run(["unshare", "--user", "--map-root-user", "--net", "true"]).returncode,
    reason="no unprivileged user namespaces here",
)
def test_unprivileged_user_namespaces_serve_as_well(tmp_path, monkeypatch):
    import labsock.grade.runner as runner

    as_a_user = ("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child")
    monkeypatch.setattr(runner, "namespace_prefix", lambda: as_a_user)
    write_class(tmp_path / "in", {"right": 1, "fork": 1})
    graded = grade(tmp_path / "in", "task1", tmp_path / "out")
    assert [sum(r.points(t) for t in graded.tests) for r in graded.results] == [11, 11]
    assert forked_sleepers() == []


TASK_NOTEBOOKS = {
    "task2": "task2_two_laptops",
    "task3": "task3_two_clients",
    "task4": "task4_network_misbehaves",
}


@needs_namespaces
@pytest.mark.parametrize("task", sorted(TASK_NOTEBOOKS))
def test_each_tasks_tests_give_the_reference_all_points_and_the_handout_none(task, tmp_path):
    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    subprocess.run(
        [sys.executable, "-m", "labsock.handout", str(tmp_path / "student")],
        check=True,
        capture_output=True,
    )
    name = TASK_NOTEBOOKS[task]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "reference.ipynb").write_bytes((notebooks / f"{name}.ipynb").read_bytes())
    handout = tmp_path / "student" / "notebooks" / f"{name}.ipynb"
    (tmp_path / "in" / "stub.ipynb").write_bytes(handout.read_bytes())
    graded = grade(tmp_path / "in", task, tmp_path / "out")
    totals = {r.student: sum(r.points(t) for t in graded.tests) for r in graded.results}
    failed = [
        (r.student, name, p["what"], p["hint"][:200])
        for r in graded.results
        for name, record in r.tests.items()
        for p in record["checklist"]["points"]
        if not p["ok"] and r.student == "reference"
    ]
    assert totals == {"reference": sum(t.points for t in graded.tests), "stub": 0}, failed
