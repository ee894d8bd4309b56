"""What a %%client cell shows when its program asks for a line with input(prompt).

The magic runs in this process; `ask=` stands in for Jupyter's stdin box (input()). The prompt
the program printed is not printed as output: it is held back and given to the box, which
JupyterLab shows with the typed line after it on one line (tests/test_browser_programs.py).
"""

from __future__ import annotations

import pytest

import labsock
from labsock.show import magics

ASKS = """\
print("Hello.")
said = input("Say something: ")
print("you said", said)
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield
    labsock.stop_all()


def test_the_prompt_goes_to_the_box_not_the_output(capsys):
    asked = []

    def box(prompt):
        asked.append(prompt)
        return "hello from the box"

    magics.client("asker", ASKS, ask=box)
    out = capsys.readouterr().out
    # JupyterLab adds one space between the prompt and the typed line.
    assert asked == ["Say something:"]
    assert out == "Hello.\nyou said hello from the box\n"


def test_a_prompt_after_other_text_on_its_line_is_held_whole(capsys):
    asked = []
    code = 'print("a", end="")\nprint("b\\nc", end="")\nx = input("> ")\nprint(x)\n'
    magics.client("asker", code, ask=lambda prompt: asked.append(prompt) or "typed")
    assert asked == ["c>"]
    assert capsys.readouterr().out == "ab\ntyped\n"


def test_without_a_box_the_prompt_shows_and_the_advice_follows(capsys):
    magics.client("asker", ASKS, ask=lambda prompt: None)
    out = capsys.readouterr().out
    assert out.startswith("Hello.\nSay something: \nasker asks for a line to type")
    assert "input('Say something: ')" in out
    assert '%%client asker --type "your message"' in out


def test_a_line_without_end_is_not_held_past_a_bound(capsys):
    # Held text is a possible prompt; a long unterminated line is output, shown as it comes.
    dots = magics.HELD_AT_MOST + 1
    code = f'print("." * {dots}, end="", flush=True)\nimport time\ntime.sleep(30)\n'
    shown = []
    job = labsock.background(code, "dots")
    printed, held = 0, ""
    for _ in range(10):  # each wait ends at a change of the program (its output grew)
        printed, held = magics._print_new(job, printed, held, hold=True)
        shown.append(capsys.readouterr().out)
        if "".join(shown):
            break
        job.wait_for_change(job.version, 5)
    job.stop()
    assert "".join(shown) == "." * (magics.HELD_AT_MOST + 1) and held == ""
