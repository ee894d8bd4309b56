"""Two catch_ups at once each wait for their own flush: one never takes, nor clears, the other's
answer. The program's side is played here (its answers delivered by hand), so which answer
comes when is fixed, not left to a race; return values and joins are the verdicts."""

from __future__ import annotations

import threading

from labsock.logic.program_reports import Request
from labsock.net.programs.job import Job


class Running:
    """A process that has not ended."""

    def poll(self):
        return None


def a_job(tmp_path, answer) -> Job:
    """A job that looks running, whose requests to the program go to answer(job, request)."""
    job = Job("pass\n", "flusher", folder=tmp_path)
    job._process = Running()
    job._control = object()  # never used: _answer is replaced
    job._answer = lambda request: answer(job, request)
    return job


def flushed(job: Job) -> None:
    job._carry_out(Request("flushed"))  # what the reader does with the program's answer


def in_thread(call) -> tuple[threading.Thread, list]:
    returned: list = []
    thread = threading.Thread(target=lambda: returned.append(call()), daemon=True)
    thread.start()
    return thread, returned


def test_a_later_catch_up_does_not_clear_an_earlier_ones_answer(tmp_path):
    b_asked = threading.Event()

    def answer(job, request):
        if threading.current_thread().name == "A":
            flushed(job)  # A's answer comes at once...
            assert b_asked.wait(30)  # ...and B asks before A looks at it
        else:
            b_asked.set()

    job = a_job(tmp_path, answer)
    returned_a: list = []
    a = threading.Thread(target=lambda: returned_a.append(job.catch_up(3)), name="A", daemon=True)
    a.start()
    b, returned_b = in_thread(lambda: job.catch_up(60))
    a.join(30)
    assert returned_a == [True]  # its answer came: B's asking does not undo it
    flushed(job)  # B's answer
    b.join(30)
    assert returned_b == [True]


def test_one_answer_does_not_answer_two_catch_ups(tmp_path):
    asked = threading.Semaphore(0)
    job = a_job(tmp_path, lambda job, request: asked.release())
    a, returned_a = in_thread(lambda: job.catch_up(60))
    assert asked.acquire(timeout=30)
    b, returned_b = in_thread(lambda: job.catch_up(1))
    assert asked.acquire(timeout=30)
    flushed(job)  # the answer to A's flush; B's never comes
    a.join(30)
    b.join(30)
    assert returned_a == [True]
    assert returned_b == [False]  # its own flush was not answered: the log may lack its part
