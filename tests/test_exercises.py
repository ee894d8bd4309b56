"""The exercises' stub stops with one sentence; the self-check says so instead of failing."""

import textwrap

import pytest

from labsock.lessons.exercises import STUB, NotWrittenYet, try_reverse_words


def run_stub_in(code: str, call: str | None = None) -> NotWrittenYet:
    namespace: dict = {}
    with pytest.raises(NotWrittenYet) as raised:
        exec(compile(code, "<cell>", "exec"), namespace)
        if call:
            eval(call, namespace)
    return raised.value


def one_line(error: NotWrittenYet) -> str:
    [line] = error._render_traceback_()  # what a notebook shows: this line, no traceback
    assert "\n" not in line and "Traceback" not in line
    return line


def test_stub_in_a_function_body_names_the_function_when_called():
    code = "def reverse_words(text):\n" + textwrap.indent(STUB, "    ") + "\n"
    error = run_stub_in(code, call="reverse_words('a b')")
    assert error.function_name == "reverse_words"
    assert "reverse_words() is not written yet" in one_line(error)


def test_stub_at_the_top_of_a_cell_stops_that_cell():
    error = run_stub_in("x = 1\n" + STUB + "\nprint('never')\n")
    assert error.function_name is None
    assert "This exercise is not written yet" in one_line(error)


def test_check_of_the_stub_is_one_sentence_not_a_failure_list():
    code = "def reverse_words(text):\n" + textwrap.indent(STUB, "    ") + "\n"
    namespace: dict = {}
    exec(code, namespace)
    report = try_reverse_words(namespace["reverse_words"])
    assert not report.passed
    text = repr(report)
    assert text.startswith("reverse_words() is not written yet") and "\n" not in text


def test_check_passes_a_correct_function_and_lists_a_wrong_one():
    assert try_reverse_words(lambda text: " ".join(reversed(text.split()))).passed
    wrong = try_reverse_words(lambda text: text)
    assert not wrong.passed and "NO  sent 'one two'" in repr(wrong)


def test_a_bug_in_the_students_function_shows_in_the_report_not_as_a_traceback():
    def reverse_words(text):
        return text.no_such_method()

    report = try_reverse_words(reverse_words)
    assert not report.passed
    assert "AttributeError" in repr(report) and "line" in repr(report)
