"""A figure or a table cell of one department across its years and phases (issue 19 item 3).

For each year the ledger holds a budget of, the points are its publications in order (年初预算,
调整预算 …, each as published), its latest state (最新), and its 决算 where it has one (for a
figure the 决算 narrative also states). A cell's row named by a functional code is followed
through the years' crosswalks: in another year it is the row (or rows) that code maps to, named
in the point; a code with no counterpart in a year gives no amount there, and says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from ..domain import crosswalk, names
from ..explain.figures import TOTALS
from ..explain.model import Money
from ..readmodel.queries import NotFound, Point

if TYPE_CHECKING:
    from .ledger import Ledger

# Figures of the budget explanation (Explanation.totals) → the 决算 figure of the same money.
FIGURES = {
    "income_total": ("预算收入总计", None),
    "expenditure_total": ("支出总计", "expenditure"),
    "general_public_current": ("一般公共预算当年支出", "general"),
    "basic": ("基本支出", "basic"),
    "project": ("项目支出", "project"),
    "personnel": ("人员经费", None),
    "operating": ("公用经费", None),
    "three_public": ("“三公”经费", "final_three_public"),
    "operating_cost": ("机关运行经费", "final_operating_cost"),
    "procurement": ("政府采购", None),
}


class SeriesPoint(BaseModel):
    fiscal_year: int
    phase: str = Field(description="发布节点名称 (如 年初预算), 最新, 或 决算", examples=["年初预算"])
    position: int | None = Field(None, description="该点所含的最后一个事件位置")
    amount: Money | None = Field(None, description="该点的数; 无从得出时为空 (见 note)")
    rows: list[str] | None = Field(None, description="表格单元: 该年度所取的行 (经科目对照表)")
    note: str | None = None


class Series(BaseModel):
    department: str
    label: str = Field(examples=["一般公共预算当年支出"])
    figure: str | None = None
    table: int | None = None
    row: str | None = None
    column: str | None = None
    points: list[SeriesPoint]


def _phases(ledger: Ledger, department: str, year: int) -> list[tuple[str, Point]]:
    detail = ledger.budget(department, year)
    return [(p["name"], Point(publication=p["name"])) for p in detail.publications] + [("最新", Point())]


def figure_series(ledger: Ledger, department: str, figure: str) -> Series:
    """Any figure of the explanation's totals (FIGURES names and labels the usual ones)."""
    if figure not in TOTALS:
        raise NotFound(f"没有这个数「{figure}」; 可选: {', '.join(TOTALS)}")
    years = _years(ledger, department)
    label, final_key = FIGURES.get(figure, (figure, None))
    points = []
    for year in years:
        for phase, point in _phases(ledger, department, year):
            e = ledger.explain(department, year, point)
            points.append(SeriesPoint(fiscal_year=year, phase=phase, position=e.position, amount=e.totals[figure]))
        if "final-accounts" in ledger.layouts(department, year):
            if final_key is None:
                points.append(SeriesPoint(fiscal_year=year, phase="决算", note=f"决算没有与「{label}」同口径的数"))
            else:
                f = ledger.explain_final(department, year)
                points.append(SeriesPoint(fiscal_year=year, phase="决算", position=f.position,
                                          amount=f.totals[final_key]))
    return Series(department=department, label=label, figure=figure, points=points)


def _years(ledger: Ledger, department: str) -> list[int]:
    wanted = {department, names.fold(department)}
    years = sorted(b.fiscal_year for b in ledger.budgets() if b.department in wanted)
    if not years:
        raise NotFound(f"没有部门「{department}」的预算")
    return years


def _codes_in(ledger: Ledger, code: str, anchor: int, year: int) -> tuple[list[str], str | None]:
    """The codes of `year` that a code of year `anchor` is, through the crosswalks between, and
    a caveat where they hold more than that code's money (the whole of a code split since, or
    of the codes merged into it)."""
    codes = {code}
    wider = False
    step = 1 if year > anchor else -1
    for y in range(anchor, year, step):
        walk = crosswalk.crosswalk(min(y, y + step), max(y, y + step), ledger.crosswalks)
        entries = walk.entries if walk is not None else ()
        out: set[str] = set()
        for c in codes:
            if step == 1:
                used = [e for e in entries if e.prior == c]
                out |= {e.current for e in used} or {c}
                wider |= any(e.change == "merged" for e in used)
            else:
                used = [e for e in entries if e.current == c]
                out |= {e.prior for e in used} or ({c} if not any(e.prior == c for e in entries) else set())
                wider |= any(e.change == "split" for e in used)
        codes = out
    caveat = None
    if wider:
        caveat = (f"{year}年度的 {'、'.join(sorted(codes))} 是{'拆分前' if step == -1 else '合并后'}的整体, "
                  f"含{anchor}年度其他科目的钱")
    return sorted(codes), caveat


def cell_series(ledger: Ledger, department: str, table: int, row: str, column: str,
                anchor: int | None = None) -> Series:
    """A cell of the 13-table 部门预算 across years and phases; a row given as a 7-digit code is
    the code of year `anchor` (default: the last year), mapped to each other year."""
    years = _years(ledger, department)
    anchor = anchor or years[-1]
    is_code = row.strip().isdigit() and len(row.strip()) == 7
    label = None
    points = []
    for year in years:
        rows, caveat = _codes_in(ledger, row.strip(), anchor, year) if is_code else ([row], None)
        mapped = f"{year}年度按科目对照表取 {'、'.join(rows)}" if is_code and rows and rows != [row.strip()] else None
        mapped = "；".join(filter(None, [mapped, caveat])) or None
        for phase, point in _phases(ledger, department, year):
            position = ledger.budget(department, year, point).position
            if not rows:
                points.append(SeriesPoint(fiscal_year=year, phase=phase, position=position, rows=[],
                                          note=f"{year}年度没有与{anchor}年度科目 {row} 对应的科目"))
                continue
            total, found, absent = Decimal("0.00"), [], []
            for r in rows:
                try:
                    cell = ledger.history(department, year, table, r, column, point, limit=1)
                except NotFound:
                    absent.append(r)  # the table prints no row for it then: nothing under it
                    continue
                total += cell.amount.value
                found.append(cell.row)
                label = label or f"{cell.table_name} {cell.row_label} {cell.column_label}"
            note = "；".join(filter(None, [mapped, f"表中无 {'、'.join(absent)} 行 (该时点无数)" if absent else None]))
            points.append(SeriesPoint(fiscal_year=year, phase=phase, position=position, amount=Money.of(total),
                                      rows=found, note=note or None))
    if label is None:
        raise NotFound(f"表{table}中没有行「{row}」列「{column}」的数 (任何年度)")
    return Series(department=department, label=label, table=table, row=row, column=column, points=points)
