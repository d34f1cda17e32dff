"""Documents written from a budget's events, in the text layouts the importer reads: a 部门决算
(a heading, each table's title, unit line and tab-separated rows, its 「本表无数据」 note, and the
narrative regenerated from the events), also as a PDF, which is what an audit of a recorded
budget reads (Ledger.audit_budget); a 部门预算公开 in the seed's layout (13 tables, 万元, the
narrative of 第三部分), from which a department's next year is made (devtools/nextyear.py); and a
部门预算 or 单位预算 in any other budget layout (budget_layout_text / _spec / _pdf: the 9 tables in
元, with a short 情况说明 of the totals and the 机关运行经费).
Tests and scenarios change them in one place. They reconcile by construction, since every
figure in them is rendered from the same events.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from ..tables.layouts import MoneyFormat, layout

if TYPE_CHECKING:
    from .ledger import Ledger

_SECTION = re.compile(r"^[一二三四五六七八九十]+、")


def _relabel(fiscal_year: int, year: int):  # type: ignore[no-untyped-def]
    """Text labelled with one year, labelled with another (titles and headers of a next year)."""
    return (lambda text: text.replace(f"{fiscal_year}年", f"{year}年")) if year != fiscal_year else str


def _table_lines(tables, under_title: list[str], relabel=str, title_mark: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    """Each table in the text layout: its title, the lines under it (部门名称, 单位), its header
    and its rows with any amount as tab-separated lines, its 「本表无数据」 note, a blank line."""
    lines: list[str] = []
    for table in tables:
        lines += [title_mark + relabel(table.title), *under_title]
        lines += ["\t".join(relabel(cell) for cell in row) for row in table.header]
        lines += ["\t".join(row.cells) for row in table.rows if any(c.strip() for c in row.cells)]
        if table.empty:
            lines.append("注：本表无数据。")
        lines.append("")
    return lines


def final_text(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "final-accounts", *,
               as_year: int | None = None, narrative: str | None = None) -> str:
    """The 决算 as the ledger holds it; `as_year` labels it with another year (the next year
    made from this one), `narrative` replaces the one regenerated from the events."""
    lay = layout(layout_id)
    year = as_year or fiscal_year
    lines = [department, f"{year}年度部门决算", "", f"第二部分 {department}{year}年度部门决算表", ""]
    lines += _table_lines(ledger.tables(department, fiscal_year, layout_id=lay.id), [f"单位：{lay.money.unit}"],
                          _relabel(fiscal_year, year))
    if narrative is None:
        narrative = ledger.explain_final_text(department, fiscal_year)
    return "\n".join(lines) + "\n" + narrative


def budget_text(ledger: Ledger, department: str, fiscal_year: int, *, as_year: int | None = None,
                narrative: str | None = None) -> str:
    """The 部门预算公开 of a budget as the ledger holds it now: its 13 tables as printed and its
    narrative (regenerated from the events, or the one given). `as_year` labels the document
    (titles, headers, heading) with another year: the next year made from this one's figures."""
    year = as_year or fiscal_year
    lines = [department, "", f"{year}年度部门预算公开", "", f"## 第二部分 {year}年部门预算报表", ""]
    lines += _table_lines(ledger.tables(department, fiscal_year), [f"部门名称：{department}", "单位：万元"],
                          _relabel(fiscal_year, year), title_mark="### ")
    text = narrative if narrative is not None else ledger.explain_text(department, fiscal_year)
    lines += ["## " + text.lstrip(), "", "## 第四部分 名词解释", ""]
    return "\n".join(lines)


def final_spec(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "final-accounts"):
    """The same document as a PDF's content (ingest/pdfwriter.py): a title page, each table on
    a page of its own with its merged header as printed, and the narrative. A test may change
    the spec (a row shifted, a table left out) before writing it."""
    from ..ingest.pdfwriter import DocumentSpec, PageBreak, Paragraph

    lay = layout(layout_id)
    blocks: list = [Paragraph(f"第二部分 {department}{fiscal_year}年度部门决算表", level=1)]
    blocks += _table_specs(ledger.tables(department, fiscal_year, layout_id=lay.id), f"单位：{lay.money.unit}")
    blocks.append(PageBreak())
    for paragraph in ledger.explain_final_text(department, fiscal_year).split("\n"):
        if paragraph.strip():
            level = 1 if paragraph.startswith("第三部分") else 2 if _SECTION.match(paragraph) else 0
            blocks.append(Paragraph(paragraph.strip(), level=level))
    return DocumentSpec(title=department, subtitle=f"{fiscal_year}年度部门决算", blocks=tuple(blocks))


def final_pdf(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "final-accounts") -> bytes:
    from ..ingest.pdfwriter import write_pdf

    return write_pdf(final_spec(ledger, department, fiscal_year, layout_id))


def _table_specs(tables, unit: str, wide: int = 8) -> list:
    """Each rendered table as a PDF table (ingest/pdfwriter.py): its merged header as printed,
    its rows with any amount, its 「本表无数据」 note; on a landscape page when it has more than
    `wide` columns."""
    from ..ingest.pdfwriter import Span, TableSpec

    out: list = []
    for table in tables:
        rows_of: dict[int, list] = {}
        for cell in table.header_cells:
            rows_of.setdefault(cell.row, []).append(cell)
        header = [[Span(c.text, c.colspan, c.rowspan) for c in sorted(rows_of[r], key=lambda c: c.column)]
                  for r in sorted(rows_of)]
        rows = [list(row.cells) for row in table.rows if any(c.strip() for c in row.cells)]
        out.append(TableSpec(title=table.title, header=header, rows=rows, unit=unit,
                             landscape=len(table.rows[0].cells) > wide,
                             note="注：本表无数据。" if table.empty else None))
    return out


def reprinted(table, money: MoneyFormat, layout_id: str):
    """A rendered table with its amounts printed another way (e.g. whole 元 instead of 元 with 分)."""
    definition = layout(layout_id).table(table.number)
    rows = []
    for row in table.rows:
        cells, amounts, offset = list(row.cells), list(row.amounts), 0
        for panel, (_index, key) in zip(definition.panels, row.keys, strict=True):
            if key is not None:
                for j in range(len(panel.columns)):
                    cells[offset + panel.label_width + j] = money.text(amounts.pop(0)[2])
            offset += panel.width
        rows.append(dataclasses.replace(row, cells=cells))
    return dataclasses.replace(table, rows=rows)


def _budget_layout_parts(ledger: Ledger, department: str, fiscal_year: int, layout_id: str,
                         decimals: int | None = None):
    """What a budget layout's document says: its layout (amounts with `decimals` places if
    given), the heading, the line naming the department (or unit), the tables and a short
    情况说明 (figures of the events)."""
    lay = layout(layout_id)
    if lay.phase != "budget":
        raise ValueError(f"布局 {lay.id} 不是预算布局")
    tables = ledger.tables(department, fiscal_year, layout_id=lay.id)
    if decimals is not None and decimals != lay.money.decimals:
        lay = dataclasses.replace(lay, money=dataclasses.replace(lay.money, decimals=decimals))
        tables = [reprinted(t, lay.money, lay.id) for t in tables]
    seed = ledger.tables(department, fiscal_year)
    name_word = "单位" if lay.scope == "unit" else "部门"

    def amount(number: int, row: str, column: str) -> Decimal:
        for table in seed:
            if table.number == number:
                for r in table.rows:
                    for key, col, value in r.amounts:
                        if key == row and col == column:
                            return value
        return Decimal(0)

    text, unit = lay.money.text, lay.money.unit
    operating = amount(11, "0/total", "total")
    categories = {u.get("category") for u in ledger.budget(department, fiscal_year).budget.units}
    narrative = [f"第三部分 {department}{fiscal_year}年{name_word}预算情况说明",
                 f"一、收支预算总体情况：{fiscal_year}年收入预算"
                 f"{text(amount(1, '0/income_total', 'amount'), blank_zero=False)}{unit}，"
                 f"支出预算{text(amount(1, '1/expenditure_total', 'total'), blank_zero=False)}{unit}。"]
    if operating:
        kind = "，本单位参照公务员法管理" if "参公事业单位" in categories else ""
        narrative.append(f"二、机关运行经费：{fiscal_year}年财政拨款安排机关运行经费预算"
                         f"{text(operating, blank_zero=False)}{unit}{kind}。")
    heading = lay.document.format(year=fiscal_year)
    part = f"第二部分 {department}{fiscal_year}年{name_word}预算表"
    return lay, heading, part, f"{name_word}名称：{department}", tables, narrative


def budget_layout_text(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "budget-9-yuan",
                          decimals: int | None = None) -> str:
    """A budget as the ledger holds it now, printed in a budget layout (e.g. the 9 tables in 元):
    the heading, each table's title, its 部门名称/单位名称 line, unit line and tab-separated rows,
    its 「本表无数据」 note, and a short 情况说明. The text layout the importer reads. `decimals=0`
    prints whole 元 (as some documents of a 元 layout do)."""
    lay, heading, part, name_line, tables, narrative = _budget_layout_parts(ledger, department, fiscal_year,
                                                                            layout_id, decimals)
    lines = [department, heading, "", part, ""]
    lines += _table_lines(tables, [name_line, f"单位：{lay.money.unit}"])
    return "\n".join(lines + narrative) + "\n"


def budget_layout_spec(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "budget-9-yuan",
                          decimals: int | None = None):
    """The same document as a PDF's content: a title page, the 部门名称/单位名称 line, each table
    on a page of its own, then the 情况说明. A test may change the spec before writing it."""
    from ..ingest.pdfwriter import DocumentSpec, PageBreak, Paragraph

    lay, heading, part, name_line, tables, narrative = _budget_layout_parts(ledger, department, fiscal_year,
                                                                            layout_id, decimals)
    blocks: list = [Paragraph(part, level=1), Paragraph(name_line)]
    # amounts in 元 are long: a table of more than 6 columns goes on a landscape page
    blocks += _table_specs(tables, f"单位：{lay.money.unit}", wide=6 if lay.money.unit == "元" else 8)
    blocks.append(PageBreak())
    for i, paragraph in enumerate(narrative):
        blocks.append(Paragraph(paragraph, level=1 if i == 0 else 0))
    return DocumentSpec(title=department, subtitle=heading, blocks=tuple(blocks))


def budget_layout_pdf(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "budget-9-yuan",
                         decimals: int | None = None) -> bytes:
    from ..ingest.pdfwriter import write_pdf

    return write_pdf(budget_layout_spec(ledger, department, fiscal_year, layout_id, decimals))
