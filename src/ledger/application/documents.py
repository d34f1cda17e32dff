"""Documents written from a budget's events, in the text layouts the importer reads: a 部门决算
(a heading, each table's title, unit line and tab-separated rows, its 「本表无数据」 note, and the
narrative regenerated from the events), also as a PDF, which is what an audit of a recorded
budget reads (Ledger.audit_budget); and a 部门预算公开 in the seed's layout (13 tables, 万元, the
narrative of 第三部分), from which a department's next year is made (devtools/nextyear.py).
Tests and scenarios change them in one place. They reconcile by construction, since every
figure in them is rendered from the same events.
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

from ..tables.layouts import layout

if TYPE_CHECKING:
    from .ledger import Ledger

_SECTION = re.compile(r"^[一二三四五六七八九十]+、")


def final_text(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "final-accounts", *,
               as_year: int | None = None, narrative: str | None = None) -> str:
    """The 决算 as the ledger holds it; `as_year` labels it with another year (the next year
    made from this one), `narrative` replaces the one regenerated from the events."""
    lay = layout(layout_id)
    year = as_year or fiscal_year
    relabel = (lambda text: text.replace(f"{fiscal_year}年", f"{year}年")) if year != fiscal_year else str
    lines = [department, f"{year}年度部门决算", "", f"第二部分 {department}{year}年度部门决算表", ""]
    for table in ledger.tables(department, fiscal_year, layout_id=lay.id):
        lines += [relabel(table.title), f"单位：{lay.money.unit}"]
        lines += ["\t".join(relabel(cell) for cell in row) for row in table.header]
        lines += ["\t".join(row.cells) for row in table.rows if any(c.strip() for c in row.cells)]
        if table.empty:
            lines.append("注：本表无数据。")
        lines.append("")
    if narrative is None:
        narrative = ledger.explain_final_text(department, fiscal_year)
    return "\n".join(lines) + "\n" + narrative


def budget_text(ledger: Ledger, department: str, fiscal_year: int, *, as_year: int | None = None,
                narrative: str | None = None) -> str:
    """The 部门预算公开 of a budget as the ledger holds it now: its 13 tables as printed and its
    narrative (regenerated from the events, or the one given). `as_year` labels the document
    (titles, headers, heading) with another year: the next year made from this one's figures."""
    year = as_year or fiscal_year
    relabel = (lambda text: text.replace(f"{fiscal_year}年", f"{year}年")) if year != fiscal_year else str
    lines = [department, "", f"{year}年度部门预算公开", "", f"## 第二部分 {year}年部门预算报表", ""]
    for table in ledger.tables(department, fiscal_year):
        lines += [f"### {relabel(table.title)}", f"部门名称：{department}", "单位：万元"]
        lines += ["\t".join(relabel(cell) for cell in row) for row in table.header]
        lines += ["\t".join(row.cells) for row in table.rows if any(c.strip() for c in row.cells)]
        if table.empty:
            lines.append("注：本表无数据。")
        lines.append("")
    text = narrative if narrative is not None else ledger.explain_text(department, fiscal_year)
    lines += ["## " + text.lstrip(), "", "## 第四部分 名词解释", ""]
    return "\n".join(lines)


def final_spec(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "final-accounts"):
    """The same document as a PDF's content (ingest/pdfwriter.py): a title page, each table on
    a page of its own with its merged header as printed, and the narrative. A test may change
    the spec (a row shifted, a table left out) before writing it."""
    from ..ingest.pdfwriter import DocumentSpec, PageBreak, Paragraph, Span, TableSpec

    lay = layout(layout_id)
    blocks: list = [Paragraph(f"第二部分 {department}{fiscal_year}年度部门决算表", level=1)]
    for table in ledger.tables(department, fiscal_year, layout_id=lay.id):
        rows_of: dict[int, list] = {}
        for cell in table.header_cells:
            rows_of.setdefault(cell.row, []).append(cell)
        header = [[Span(c.text, c.colspan, c.rowspan) for c in sorted(rows_of[r], key=lambda c: c.column)]
                  for r in sorted(rows_of)]
        rows = [list(row.cells) for row in table.rows if any(c.strip() for c in row.cells)]
        blocks.append(TableSpec(title=table.title, header=header, rows=rows, unit=f"单位：{lay.money.unit}",
                                landscape=len(table.rows[0].cells) > 8,
                                note="注：本表无数据。" if table.empty else None))
    blocks.append(PageBreak())
    for paragraph in ledger.explain_final_text(department, fiscal_year).split("\n"):
        if paragraph.strip():
            level = 1 if paragraph.startswith("第三部分") else 2 if _SECTION.match(paragraph) else 0
            blocks.append(Paragraph(paragraph.strip(), level=level))
    return DocumentSpec(title=department, subtitle=f"{fiscal_year}年度部门决算", blocks=tuple(blocks))


def final_pdf(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "final-accounts") -> bytes:
    from ..ingest.pdfwriter import write_pdf

    return write_pdf(final_spec(ledger, department, fiscal_year, layout_id))
