"""Tables as text (a terminal, a printed report) and as HTML (Jupyter): pure string building.

Every table labsock prints goes through text_table(), and the simple HTML ones through
html_table(), so columns line up the same way everywhere and every cell is escaped.
"""

from __future__ import annotations


def text_table(rows: list, align: str = "") -> list[str]:
    """The rows (the first is usually the heading) as lines with aligned columns.

    align: one letter per column, "l" (the default) or "r"; each line loses its trailing spaces.
    """
    rows = [[str(cell) for cell in row] for row in rows]
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(columns)]
    align = align.ljust(columns, "l")
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if side == "r" else cell.ljust(width)
            for cell, width, side in zip(row, widths, align, strict=False)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def html_table(head: list[str], rows: list, *, code: bool = False) -> str:
    """An HTML table with a heading row; every cell escaped (code: each cell in <code>)."""
    from html import escape  # here: html.entities costs 1-2 ms of `import labsock`

    def cell(value, tag: str) -> str:
        text = escape(str(value))
        return (
            f"<{tag}><code>{text}</code></{tag}>"
            if code and tag == "td"
            else f"<{tag}>{text}</{tag}>"
        )

    heading = "".join(cell(h, "th") for h in head)
    body = "".join("<tr>" + "".join(cell(v, "td") for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{heading}</tr>{body}</table>"


class TableReport:
    """A result that shows itself as a table and a conclusion: text in a terminal, HTML in Jupyter.

    A subclass gives HEAD (the column headings, or a head() method), rows() and conclusion()
    (words that repeat from run to run, for a notebook's check cell); code_cells puts each HTML
    cell in <code>.
    """

    HEAD: tuple = ()
    code_cells = False

    def head(self) -> tuple:
        return self.HEAD

    def rows(self) -> list:
        raise NotImplementedError

    def conclusion(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return "\n".join([*text_table([self.head(), *self.rows()]), "", self.conclusion()])

    def _repr_html_(self) -> str:
        from labsock.logic.sentences import sentence_html

        table = html_table(self.head(), self.rows(), code=self.code_cells)
        return f"{table}<p>{sentence_html(self.conclusion())}</p>"
