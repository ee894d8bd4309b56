"""What a self-check answers: a checklist of points, each with what was checked, ok, and a hint.

    report = labsock.check_udp_server(12000)
    report.passed                  # every point holds
    report.to_dict()               # {"title", "passed", "points": [{"what", "ok", "hint"}, ...]}
    report.assert_passed()         # the report itself, or an AssertionError whose message is it

The same object is the notebook's answer (a table), a terminal's (plain text), a grader's (data),
and an nbgrader grade cell's (`check_udp_server(12000).assert_passed()` fails with the checklist
as its message, not a bare AssertionError). A point can be hidden: a grader's extra message whose
text the student's feedback does not show, only whether it passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape


@dataclass
class Point:
    """One point of a checklist: what was checked, whether it holds, and what to look at."""

    what: str
    ok: bool | None  # None: could not be checked yet
    hint: str = ""
    hidden: bool = False  # a hidden test's point: feedback shows only whether it passed

    @property
    def mark(self) -> str:
        return {True: "ok", False: "NO", None: "--"}[self.ok]

    def to_dict(self) -> dict:
        return {"what": self.what, "ok": self.ok, "hint": self.hint, "hidden": self.hidden}


class ChecklistFailed(AssertionError):
    """A checklist that had to pass did not; its message is the whole checklist."""


@dataclass
class Checklist:
    title: str
    points: list[Point] = field(default_factory=list)

    def add(self, what: str, ok: bool | None, hint: str = "", *, hidden: bool = False) -> bool:
        self.points.append(Point(what, ok, "" if ok else hint, hidden))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return all(point.ok for point in self.points)

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "passed": self.passed,
            "points": [point.to_dict() for point in self.points],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Checklist:
        points = [
            Point(p["what"], p["ok"], p.get("hint", ""), p.get("hidden", False))
            for p in data["points"]
        ]
        return cls(data["title"], points)

    def assert_passed(self) -> Checklist:
        """This checklist when every point holds; else an AssertionError that reads as it."""
        __tracebackhide__ = True  # IPython and pytest show the student's line, not this one
        if not self.passed:
            raise ChecklistFailed("\n" + str(self))
        return self

    def summary(self) -> str:
        good = sum(1 for point in self.points if point.ok)
        if self.passed:
            return f"{self.title}: all {len(self.points)} checks pass."
        return f"{self.title}: {good} of {len(self.points)} checks pass."

    def __str__(self) -> str:
        lines = [self.summary()]
        for point in self.points:
            lines.append(f"  {point.mark:<2}  {point.what}")
            if point.hint:
                lines.append(f"        {point.hint}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {True: "#080", False: "#b00", None: "#888"}
        # Left-aligned, top-aligned (JupyterLab aligns table cells right): the mark, the point,
        # and a NO's hint right after its point, so each row reads left to right.
        cell = "style='text-align: left; vertical-align: top'"
        rows = "".join(
            f"<tr><td {cell[:-1]}; color:{colour[p.ok]}; font-weight: bold'>{p.mark}</td>"
            f"<td {cell}>{escape(p.what)}"
            + (f" — <i>{escape(p.hint)}</i>" if p.hint else "")
            + "</td></tr>"
            for p in self.points
        )
        return f"<div><b>{escape(self.summary())}</b><table>{rows}</table></div>"


# nbgrader's autograde runs the notebook as it is: a self-check cell shows its checklist and
# raises nothing, so a grade cell would always pass. With this variable set (in nbgrader_config.py:
# os.environ["LABSOCK_GRADE_CELLS"] = "1"), a cell whose last line gives a checklist that did not
# pass fails with the checklist as its message; the notebook students open is not changed.
GRADE_CELLS = "LABSOCK_GRADE_CELLS"


def must_pass(value):
    """value itself; a Checklist must have passed (assert_passed)."""
    __tracebackhide__ = True
    if isinstance(value, Checklist):
        value.assert_passed()
    return value


class _LastValueMustPass:
    """An IPython AST transformer: the cell's last expression goes through must_pass."""

    def visit(self, tree):
        import ast

        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = tree.body[-1]
            checker = ast.parse(
                "__import__('labsock.lessons.checklist').lessons.checklist.must_pass"
            )
            last.value = ast.Call(checker.body[0].value, [last.value], [])
            ast.fix_missing_locations(tree)
        return tree


def grade_cells(ipython) -> None:
    """With LABSOCK_GRADE_CELLS set, make failing self-checks fail their cells (see above)."""
    import os

    if os.environ.get(GRADE_CELLS) and not any(
        isinstance(t, _LastValueMustPass) for t in ipython.ast_transformers
    ):
        ipython.ast_transformers.append(_LastValueMustPass())
