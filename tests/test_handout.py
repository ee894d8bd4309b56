"""The student version (python -m labsock.handout): solutions out, stubs in, and every notebook
still runs top to bottom in a real kernel, stopping only with one plain sentence."""

from __future__ import annotations

import ast
import configparser
import json
import re
from pathlib import Path

import nbformat
import pytest

from labsock.handout.solutions import (
    CLEAR_OUTPUT_TAG,
    MarkerError,
    exercise_cells,
    names_bound,
    outputs_to_clear,
    solution_lines,
    student_version,
)
from labsock.handout.writer import write_handout
from labsock.lessons.exercises import STUB, NotWrittenYet
from labsock.logic.errors import LabsockError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SANITIZE = REPO / "tests" / "nbval_sanitize.cfg"
FIRST_STUB_LINE = STUB.split("\n")[0]


def code(source, output=None, tags=()):
    cell = nbformat.v4.new_code_cell(source)
    if output is not None:
        cell.execution_count = 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def notebook(*cells):
    made = nbformat.v4.new_notebook()
    made.cells = list(cells)
    return made


# The three shapes of exercise cell.

DEF_BODY = 'def reverse_words(text):\n    ### BEGIN SOLUTION\n    return " ".join(text.split()[::-1])\n    ### END SOLUTION'  # noqa: E501
MAGIC = "%%background udp_server\n### BEGIN SOLUTION\nfrom socket import *\nserverSocket = socket(AF_INET, SOCK_DGRAM)\n### END SOLUTION"  # noqa: E501
PLAIN = "### BEGIN SOLUTION\nanswer = 6 * 7\n### END SOLUTION\nprint(answer)"


def test_a_function_body_becomes_the_stub_and_the_def_still_runs():
    [cell] = student_version(notebook(code(DEF_BODY, output="x"))).cells
    assert cell.source == "def reverse_words(text):\n" + "\n".join(
        "    " + line for line in STUB.split("\n")
    )
    namespace: dict = {}
    exec(cell.source, namespace)  # the def itself runs; calling it gives the sentence
    with pytest.raises(NotWrittenYet, match=r"^reverse_words\(\) is not written yet"):
        namespace["reverse_words"]("a b")
    assert cell.outputs == [] and cell.execution_count is None


def test_a_cell_magic_stays_and_only_its_body_becomes_the_stub():
    [cell] = student_version(notebook(code(MAGIC))).cells
    assert cell.source == "%%background udp_server\n" + STUB
    ast.parse(cell.source.split("\n", 1)[1])  # the body is a program of its own


def test_a_cell_magic_inside_the_solution_is_refused():
    with pytest.raises(MarkerError, match=r"lab\.ipynb, cell 1: keep the %%background line"):
        student_version(
            notebook(code("### BEGIN SOLUTION\n%%background s\n### END SOLUTION")), name="lab.ipynb"
        )


def test_a_plain_cell_stops_with_the_sentence():
    [cell] = student_version(notebook(code(PLAIN))).cells
    assert cell.source == STUB + "\nprint(answer)"
    with pytest.raises(NotWrittenYet, match="^This exercise is not written yet"):
        exec(cell.source, {})


def test_markdown_answers_and_nbgrader_solution_cells_follow_nbgraders_rules():
    answer = nbformat.v4.new_markdown_cell("Why?\n=== BEGIN SOLUTION\nBecause.\n=== END SOLUTION")
    whole = code("x = 1")
    whole.metadata["nbgrader"] = {"solution": True, "grade": False}
    student = student_version(notebook(answer, whole))
    assert student.cells[0].source == "Why?\nYOUR ANSWER HERE"
    assert student.cells[1].source == STUB


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("### BEGIN SOLUTION\nx = 1", "'BEGIN SOLUTION' without 'END SOLUTION'"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "a second 'BEGIN SOLUTION'"),
    ],
)
def test_markers_that_do_not_pair_up_name_the_notebook_and_cell(source, problem):
    with pytest.raises(MarkerError, match=rf"lab\.ipynb, cell 2: {problem}"):
        student_version(notebook(code("1"), code(source)), name="lab.ipynb")


def test_outputs_that_came_from_a_solution_are_cleared_and_the_others_kept():
    cells = [
        code("import labsock", output="before"),
        code(DEF_BODY, output="ex"),
        code("check(reverse_words)", output="uses it"),
        code("pairs = [reverse_words(s) for s in SENTENCES]", output="binds from it"),
        code("print(pairs)", output="uses what came from it"),
        code("print(try_reverse_words, server.reverse_words)", output="other names"),
        code("labsock.send_udp('hi', port=12000)", output="tagged", tags=[CLEAR_OUTPUT_TAG]),
        code("print(42)", output="independent"),
    ]
    assert exercise_cells(cells) == {1}
    assert outputs_to_clear(cells, {1}) == {1, 2, 3, 4, 6}
    student = student_version(notebook(*cells))
    kept = [cell.outputs[0].text for cell in student.cells if cell.outputs]
    assert kept == ["before", "other names", "independent"]


def test_names_a_cell_binds_at_its_top_level():
    assert names_bound("%%background udp_server --port 12000\nx = 1") == {"udp_server"}
    source = "import a.b as c, d.e\nfrom f import g\ndef h():\n    local = 1\nfor i, (j, k) in z:\n    m = 2\nclass N: pass"  # noqa: E501
    assert names_bound(source) == {"c", "d", "g", "h", "i", "j", "k", "m", "N"}
    assert names_bound("%time x = slow()\ny = 2") == {"y"}


def test_the_handout_never_writes_over_the_reference_notebooks(tmp_path):
    for place in (REPO, REPO / "notebooks", REPO / "labsock" / "x"):
        with pytest.raises(LabsockError, match="would overwrite"):
            write_handout(place, say=lambda _: None)


# Every notebook, built and run as a student gets it.


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    written = write_handout(out, say=lambda _: None)
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    for name in ("requirements.txt", "pyproject.toml", "README.md", "labsock/__init__.py"):
        assert (out / name).is_file(), f"{name}: a student installs from it"
    return out / "notebooks"


def execute(student, folder):
    """Run a notebook top to bottom in a fresh kernel of this Python, as nbval does."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    kernel = KernelManager(
        kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager()
    )
    client = NotebookClient(
        student,
        km=kernel,
        timeout=120,
        allow_errors=True,  # a student may run every cell: each must end well on its own
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        client.execute()
    finally:
        # nbclient shuts down only a kernel it made itself; this one (and any program it
        # started, a notebook's server on 12000 say) must not outlive its notebook.
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=True)
    return student


@pytest.fixture(scope="module")
def executed(handout):
    """The student notebooks after a top-to-bottom run (each run once, on first use)."""
    runs = {}

    def run(name):
        if name not in runs:
            runs[name] = execute(nbformat.read(handout / name, as_version=4), handout)
        return runs[name]

    return run


def output_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.traceback)
    return output.get("data", {}).get("text/plain", "")


def coalesced(outputs) -> list[str]:
    """Each output's text, consecutive streams of one name joined (as nbval compares them): how
    a program's output was cut into messages on its way is not part of what it printed."""
    texts, last_stream = [], None
    for output in outputs:
        stream = output.get("name") if output.output_type == "stream" else None
        if stream is not None and stream == last_stream:
            texts[-1] += output_text(output)
        else:
            texts.append(output_text(output))
        last_stream = stream
    return texts


def sanitize(text: str) -> str:
    rules = configparser.ConfigParser()
    rules.read(SANITIZE)
    for section in rules.sections():
        text = re.sub(rules[section]["regex"], rules[section]["replace"], text)
    return text


TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^-{20,}|Cell In\[|File \"", re.M)


def solution_text(reference) -> set[str]:
    """Lines of the reference solutions that appear nowhere else in the reference notebook."""
    lines = set()
    for index in exercise_cells(reference.cells):
        lines |= {line.strip() for line in solution_lines(reference.cells[index].source)}
    elsewhere = "\n".join(
        "\n".join(
            line for line in cell.source.split("\n") if line not in solution_lines(cell.source)
        )
        for cell in reference.cells
    )
    return {line for line in lines if line and line not in elsewhere}


def appears(line: str, text: str) -> bool:
    """The solution line in text, not as part of a longer word: `break` is in no CSS rule's
    `word-break`."""
    return re.search(rf"(?<![\w-]){re.escape(line)}(?![\w-])", text) is not None


def test_the_notebooks_hold_an_exercise_to_hand_out():
    exercises = [exercise_cells(nbformat.read(p, as_version=4).cells) for p in NOTEBOOKS]
    assert any(exercises), "no notebook has a ### BEGIN SOLUTION region"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_version_runs_top_to_bottom_without_a_traceback(path, handout, executed):
    reference = nbformat.read(path, as_version=4)
    written = nbformat.read(handout / path.name, as_version=4)
    ran = executed(path.name)
    exercises = exercise_cells(reference.cells)
    cleared = outputs_to_clear(reference.cells, exercises)

    # No solution text survives, in the code or in any output, before or after the run.
    for line in solution_text(reference):
        assert not appears(line, json.dumps(written.cells)), line
        assert not appears(line, json.dumps(ran.cells)), line

    # The stubs are there, one per exercise; every other cell is as the reference has it.
    assert len(written.cells) == len(reference.cells)
    for index, (mine, theirs) in enumerate(zip(written.cells, reference.cells, strict=True)):
        if index in exercises:
            assert FIRST_STUB_LINE in mine.source or mine.source == "YOUR ANSWER HERE"
        else:
            assert mine.source == theirs.source

    first_exercise = min(exercises, default=len(ran.cells))
    for index, cell in enumerate(ran.cells):
        if cell.cell_type != "code":
            continue
        where = f"{path.name}, cell {index + 1}"
        for output in cell.outputs:
            assert not TRACEBACK.search(output_text(output)), (
                f"{where} shows a traceback in the student version. A cell after an unsolved "
                "exercise may use what a function or a program exercise defines, not the names "
                f"a plain-cell exercise binds (README, 'The student version'):\n"
                f"{output_text(output)}"
            )
            if output.output_type == "error":
                # One plain line; and only an unsolved exercise may stop a cell.
                assert len(output.traceback) == 1 and "\n" not in output.traceback[0], where
                assert output.ename == "NotWrittenYet" and index >= first_exercise, (
                    f"{where}: {output.ename}: {output.evalue}"
                )
        stored = written.cells[index].outputs
        if (
            index > first_exercise
            and stored
            and "nbval-ignore-output" not in cell.metadata.get("tags", [])
        ):
            # A stored output kept after an exercise must be what the unsolved notebook shows
            # too; otherwise it came from a solution (tag the cell handout-clear-output).
            assert [sanitize(text) for text in coalesced(cell.outputs)] == [
                sanitize(text) for text in coalesced(stored)
            ], where
        if index in cleared:
            assert not stored, f"{where}: its stored output came from a solution"


def test_task1_self_check_says_the_stub_sentence(executed):
    ran = executed("task1_udp_tcp.ipynb")
    [check] = [cell for cell in ran.cells if "try_reverse_words(reverse_words)" in cell.source]
    [result] = check.outputs
    assert result.output_type == "execute_result"  # the cell ran: nothing stops after it
    assert result.data["text/plain"].startswith("reverse_words() is not written yet:")


def test_in_a_kernel_an_unwritten_exercise_stops_its_cells_with_one_line(tmp_path):
    reference = notebook(
        code(PLAIN),
        code(DEF_BODY),
        code("reverse_words('one two')"),
        code("print('the cells after it still run')"),
    )
    ran = execute(student_version(reference), tmp_path)
    errors = [[o for o in cell.outputs if o.output_type == "error"] for cell in ran.cells]
    assert [len(e) for e in errors] == [1, 0, 1, 0]
    plain, call = errors[0][0], errors[2][0]
    assert plain.ename == call.ename == "NotWrittenYet"
    [plain_line] = plain.traceback  # what the student sees: this line and no traceback
    [call_line] = call.traceback
    assert "This exercise is not written yet" in plain_line
    assert "reverse_words() is not written yet" in call_line
    assert ran.cells[3].outputs[0].text == "the cells after it still run\n"


def test_the_self_checks_of_unwritten_programs_say_not_written_yet(executed):
    # The student version's alnum server, printing server and typing client are stubs: their
    # checks say so, not "failed at line 2 (exit code 1)".
    ran = executed("task1_udp_tcp.ipynb")
    checks = {
        program: cell
        for cell in ran.cells
        for program in ("alnum_server", "print_server", "typing_client")
        if cell.cell_type == "code" and "check_" in cell.source and f'"{program}"' in cell.source
    }
    assert sorted(checks) == ["alnum_server", "print_server", "typing_client"]
    for program, cell in checks.items():
        said = "".join(output_text(o) for o in cell.outputs)
        assert f"The program {program} is not written yet" in said, said
        assert "failed at line" not in said, said


def test_the_folders_the_notebooks_read_are_beside_them(handout):
    # Task 5's server serves web/ from beside its notebook
    picture = REPO / "notebooks" / "web" / "picture.png"
    assert (handout / "web" / "picture.png").read_bytes() == picture.read_bytes()
