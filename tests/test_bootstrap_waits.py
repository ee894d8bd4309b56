"""The bootstrap's watch of a program's first wait where it cannot be run here: Windows'
asyncio loop (IocpProactor) through a stand-in class with the same select(), and the hook that
watches a module only once the program imports it. Pure: no sockets, no process."""

from __future__ import annotations

import sys

import pytest

from labsock.net.programs import bootstrap


class Reporter:
    """The bootstrap's Reporter, as the watch sees it: waited, and waiting(how)."""

    def __init__(self):
        self.waited = False
        self.waits: list[str] = []

    def waiting(self, how: str) -> None:
        self.waited = True
        self.waits.append(how)


def proactor_class():
    """IocpProactor's select as asyncio's loop calls it: completions already in _results are
    returned without waiting; otherwise it waits up to `timeout` (None: for ever)."""

    class IocpProactor:
        def __init__(self, results=()):
            self._results = list(results)
            self.selected: list = []

        def select(self, timeout=None):
            self.selected.append(timeout)
            results, self._results = self._results, []
            return results

    return IocpProactor


@pytest.mark.parametrize(
    ("results", "timeout", "waits"),
    [
        ((), None, ["select"]),  # the loop has nothing to do: it waits for ever
        ((), 0.5, ["select"]),  # a timer ahead: still a wait
        ((), 0, []),  # callbacks ready: the loop only looks
        (("done",), None, []),  # a completion waiting: returned at once, no wait
    ],
)
def test_the_proactors_first_real_wait_is_the_programs(results, timeout, waits):
    proactor, reporter = proactor_class(), Reporter()
    bootstrap._watch_proactor(proactor, reporter)
    loop_proactor = proactor(results)
    assert loop_proactor.select(timeout) == list(results)  # what it returns is unchanged
    assert loop_proactor.selected == [timeout]
    assert reporter.waits == waits


def test_only_the_first_wait_is_reported():
    proactor, reporter = proactor_class(), Reporter()
    bootstrap._watch_proactor(proactor, reporter)
    loop_proactor = proactor()
    loop_proactor.select(None)
    loop_proactor.select(None)
    assert reporter.waits == ["select"]


def test_a_module_is_watched_once_the_program_imports_it(tmp_path, monkeypatch):
    (tmp_path / "labsock_fake_loop.py").write_text("class IocpProactor:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.delitem(sys.modules, "labsock_fake_loop", raising=False)
    finders = len(sys.meta_path)
    seen = []
    bootstrap._when_imported("labsock_fake_loop", seen.append)
    assert seen == []  # nothing imported by the hook itself
    import labsock_fake_loop  # noqa: PLC0415 (the program's import, after the hook)

    assert seen == [labsock_fake_loop]
    assert hasattr(seen[0], "IocpProactor")  # called once the module had run
    assert len(sys.meta_path) == finders  # the hook took itself out: once is enough
    sys.modules.pop("labsock_fake_loop")
