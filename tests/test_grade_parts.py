"""The grader's pure parts: what it takes from a notebook, the tests table and the instructor's
changes, where submissions are, the checklist as data, and the pages it writes."""

from __future__ import annotations

import json
import sys

import pytest

from labsock.grade.notebook import functions_in, programs_in
from labsock.grade.report import feedback_page, write_grades
from labsock.grade.runner import StudentResult
from labsock.grade.submissions import file_name, find_submissions
from labsock.grade.task_tests import GradedTest, graded_tests, ports_used
from labsock.lessons.checklist import Checklist, ChecklistFailed
from labsock.logic.errors import LabsockError

pytestmark = pytest.mark.fast


def notebook(*sources: str) -> dict:
    return {"cells": [{"cell_type": "code", "source": s, "metadata": {}} for s in sources]}


# -- a notebook's programs and functions ---------------------------------------------------------


def test_each_program_is_the_last_cell_of_its_name_with_its_set_values_written_in():
    found = programs_in(
        notebook(
            "%%background udp_server\nprint('first try')",
            "%%client udp_client --set serverPort=12002 --type hello --type 'two words'\n"
            "serverPort = 12000\nprint(serverPort)",
            "%%background udp_server\nprint('second try')",
            "print('a plain cell')",
        )
    )
    assert sorted(found) == ["udp_client", "udp_server"]
    assert found["udp_server"].code == "print('second try')"
    client = found["udp_client"]
    assert client.magic == "client" and client.typed == ("hello", "two words")
    assert "serverPort = 12002" in client.code and "12000" not in client.code


def test_a_set_value_from_the_kernel_is_left_out_with_a_note():
    [program] = programs_in(
        notebook("%%client lan_client --set serverName={partner.address}\nserverName = 'x'\n")
    ).values()
    assert "serverName = 'x'" in program.code
    assert "left out" in program.notes[0] and "partner.address" in program.notes[0]


def test_a_cell_with_a_bad_magic_line_is_no_program():
    assert programs_in(notebook("%%background\nprint(1)", "%%background 'unclosed\n")) == {}


def test_only_imports_and_definitions_are_kept_of_the_other_cells():
    code = functions_in(
        notebook(
            "import os\nos.remove('everything')\ndef reverse_words(text):\n    return text",
            "%%background server\ndef in_a_program(): pass",
            "%matplotlib inline\nclass Helper:\n    pass\nwhile True:\n    pass",
            "def broken(:\n",
        )
    )
    assert "import os" in code and "def reverse_words" in code and "class Helper" in code
    assert "remove" not in code and "while" not in code
    assert "in_a_program" not in code and "broken" not in code
    namespace: dict = {}
    exec(code, namespace)  # runs at once: nothing but definitions
    assert namespace["reverse_words"]("x") == "x"


# -- the tests table --------------------------------------------------------------------------


def test_task1_ships_tests_with_points_programs_and_a_hidden_one():
    tests = {t.name: t for t in graded_tests("task1")}
    assert tests["udp_server"].programs == ("udp_server",)
    assert tests["reverse_words"].function == "reverse_words"
    hidden = [t for t in tests.values() if not t.visible]
    assert hidden and all(t.hidden_messages for t in hidden)
    assert ports_used(tests.values()) == {12000, 12001}
    assert {11000, 13000} <= ports_used(graded_tests("task3"))


def test_the_instructors_json_file_changes_removes_and_adds_tests(tmp_path):
    changes = tmp_path / "tests.json"
    changes.write_text(
        json.dumps(
            {
                "tests": {
                    "alnum_server": {"points": 5, "hidden_messages": ["a1"]},
                    "tcp_server": {"points": 0},
                    "mine": {
                        "points": 1,
                        "check": "check_udp_server",
                        "programs": ["udp_server"],
                        "visible": False,
                    },
                }
            }
        )
    )
    tests = {t.name: t for t in graded_tests("task1", changes)}
    assert tests["alnum_server"].points == 5 and tests["alnum_server"].hidden_messages == ("a1",)
    assert "tcp_server" not in tests
    mine = GradedTest("mine", 1, "check_udp_server", ("udp_server",), visible=False)
    assert tests["mine"] == mine


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_the_instructors_toml_file_reads_as_the_json_one(tmp_path):
    changes = tmp_path / "tests.toml"
    changes.write_text('[tests.alnum_server]\npoints = 5\nhidden_messages = ["a1"]\n')
    tests = {t.name: t for t in graded_tests("task1", changes)}
    assert tests["alnum_server"].points == 5 and tests["alnum_server"].hidden_messages == ("a1",)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"udp_server": {"pionts": 2}}, "unknown field"),
        ({"new_one": {"points": 2}}, "give it at least points and check"),
        ({"udp_server": {"check": "os.system"}}, "is not one of"),
    ],
)
def test_a_mistake_in_the_instructors_file_is_said_plainly(tmp_path, change, words):
    changes = tmp_path / "tests.json"
    changes.write_text(json.dumps({"tests": change}))
    with pytest.raises(LabsockError, match=words):
        graded_tests("task1", changes)


def test_a_task_without_tests_says_which_have_them():
    with pytest.raises(LabsockError, match="task1, task2, task3"):
        graded_tests("task9")


# -- where the submissions are ------------------------------------------------------------------


def test_a_folder_of_notebooks_and_nbgraders_submitted_layout(tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "alice.ipynb").write_text("{}")
    (tmp_path / "flat" / ".ipynb_checkpoints").mkdir()
    assert list(find_submissions(tmp_path / "flat", "task1")) == ["alice"]

    course = tmp_path / "course"
    for student, names in {"bob": ["task1_udp_tcp", "task3_two_clients"], "eve": ["mine"]}.items():
        folder = course / "submitted" / student / "lab1"
        folder.mkdir(parents=True)
        for name in names:
            (folder / f"{name}.ipynb").write_text("{}")
    found = find_submissions(course, "task1")
    assert found["bob"].name == "task1_udp_tcp.ipynb" and found["eve"].name == "mine.ipynb"
    assert find_submissions(course / "submitted", "task3")["bob"].name.startswith("task3")
    with pytest.raises(LabsockError, match="No notebooks"):
        find_submissions(tmp_path / "flat" / ".ipynb_checkpoints", "task1")


def test_a_students_name_is_a_safe_file_name():
    assert file_name("../../etc/passwd") == "_.._etc_passwd"
    assert file_name("anna.lee@uni") == "anna.lee@uni"


# -- the checklist as data ----------------------------------------------------------------------


def test_a_checklist_is_data_and_fails_with_itself_as_the_message():
    checklist = Checklist("Your UDP server")
    checklist.add("it listens", True, "never shown")
    checklist.add("it answers", False, "Send the reply to clientAddress.")
    checklist.add("hidden message 1", False, "Sent 'x'", hidden=True)
    data = checklist.to_dict()
    assert data["passed"] is False
    assert data["points"][0] == {"what": "it listens", "ok": True, "hint": "", "hidden": False}
    assert Checklist.from_dict(data) == checklist
    with pytest.raises(AssertionError) as failed:
        checklist.assert_passed()
    assert isinstance(failed.value, ChecklistFailed)
    assert "1 of 3 checks pass" in str(failed.value) and "clientAddress" in str(failed.value)
    passing = Checklist("ok")
    passing.add("fine", True)
    assert passing.assert_passed() is passing


# -- the pages ---------------------------------------------------------------------------------


def result_with(points: list[dict], output: str = "", status: str = "graded") -> StudentResult:
    checklist = {"title": "Your server", "passed": all(p["ok"] for p in points), "points": points}
    return StudentResult(
        "ann <b>",
        "ann.ipynb",
        status,
        tests={"shown": {"checklist": checklist}, "secret": {"checklist": checklist}},
        programs={"srv": {"code": "print('<script>x</script>')", "output": output, "state": "s"}},
    )


TESTS = [
    GradedTest("shown", 2, "check_udp_server", ("srv",)),
    GradedTest("secret", 3, "check_udp_server", ("srv",), visible=False),
]


def test_the_feedback_page_escapes_and_hides_what_is_hidden():
    points = [
        {"what": "it <answers>", "ok": False, "hint": "got '<img src=x>'", "hidden": False},
        {"what": "hidden message 1", "ok": False, "hint": "Sent 'SECRET'", "hidden": True},
    ]
    page = feedback_page(result_with(points, output="<script>alert(1)</script>"), TESTS, "task1")
    assert "<script>" not in page and "<img" not in page and "<b>" not in page.split("<h1>")[1][:40]
    assert "&lt;script&gt;alert(1)" in page and "it &lt;answers&gt;" in page
    assert "SECRET" not in page and "Hidden messages: 0 of 1 right" in page
    assert "A hidden test: failed." in page
    assert "0 of 5 points" in page


def test_grades_csv_has_a_column_per_test_and_no_zero_for_a_grader_error(tmp_path):
    right = [{"what": "w", "ok": True, "hint": "", "hidden": False}]
    failed = result_with(right, status="grader error")
    failed.student = "bob"
    write_grades(tmp_path / "grades.csv", [result_with(right), failed], TESTS)
    rows = (tmp_path / "grades.csv").read_text().splitlines()
    assert rows[0] == "student,shown,secret,total,maximum,seconds,status"
    assert rows[1].startswith("ann <b>,2,3,5,5,")
    assert rows[2].startswith("bob,,,,5,") and rows[2].endswith("grader error")
