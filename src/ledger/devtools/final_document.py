"""A 部门决算 document written from a budget's events, in the text layout the importer reads
(a heading, each table's title, unit line and tab-separated rows, its 「本表无数据」 note, and the
narrative regenerated from the events): for tests and scenarios that need a 决算 other than the
corpus PDF, or a copy of one changed in one place. It reconciles by construction, since every
figure in it is rendered from the same events.
"""

from __future__ import annotations

from ..application import Ledger
from ..tables.layouts import layout


def final_text(ledger: Ledger, department: str, fiscal_year: int, layout_id: str = "final-accounts") -> str:
    lay = layout(layout_id)
    lines = [department, f"{fiscal_year}年度部门决算", "", f"第二部分 {department}{fiscal_year}年度部门决算表", ""]
    for table in ledger.tables(department, fiscal_year, layout_id=lay.id):
        lines += [table.title, f"单位：{lay.money.unit}"]
        lines += ["\t".join(row) for row in table.header]
        lines += ["\t".join(row.cells) for row in table.rows if any(c.strip() for c in row.cells)]
        if table.empty:
            lines.append("注：本表无数据。")
        lines.append("")
    narrative = ledger.explain_final_text(department, fiscal_year)
    return "\n".join(lines) + "\n" + narrative
