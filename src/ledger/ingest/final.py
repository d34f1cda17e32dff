"""Plan the import of a 部门决算 (final accounts): what a budget's year came to, recorded as
events of that budget (measure `final`), with what its narrative states beyond the tables:
last year's figures (prior_year), the budget it compares the year with (budget_stated),
government procurement.

A published 决算 is a final record: a narrative figure that contradicts the tables, or a
summary cell one printed place off its detail, is reported with the import (and in full by
an audit) rather than a reason to refuse the tables the document prints consistently. What
cannot be reconciled (a table missing, a row that reads as nothing, amounts no rounding
explains) is refused, naming page, table, row and column.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.postings import Line
from .errors import DocumentRejected, Problem
from .final_narrative import Stated, parse
from .importer import ImportPlan, PlannedLine, reconcile
from .printed import ReadDocument
from .rounding import CellBound, solve
from .tables import read_as_one_unit

# Where the narrative's figures stand in the 决算 tables: (table, row key, column key).
FIGURE_CELLS = {
    "income_expenditure_total": (1, "0/total", "amount"),
    "fiscal_total": (4, "0/total", "amount"),
    "general_public_expenditure": (5, "0/total", "total"),
    "operating_cost": (6, "1/total", "amount"),
    "three_public": (7, "0/amounts", "final_total"),
    "budget_general": (5, "0/total", "total"),
    "budget_three_public": (7, "0/amounts", "final_total"),
}
LABELS = {
    "income_expenditure_total": "收入支出总计", "fiscal_total": "财政拨款收入支出总计",
    "general_public_expenditure": "一般公共预算财政拨款支出", "operating_cost": "机关运行经费",
    "three_public": "“三公”经费财政拨款支出", "budget_general": "一般公共预算财政拨款支出",
    "budget_three_public": "“三公”经费财政拨款支出", "budget_item": "项目支出决算",
}
WAN = Decimal(10000)
# The prior_year figure each comparison records (决算 figures apart from a budget's own).
PRIOR_FIGURES = {"income_expenditure_total": "income_expenditure_total", "fiscal_total": "fiscal_total",
                 "general_public_expenditure": "general_public_expenditure",
                 "operating_cost": "final_operating_cost", "three_public": "final_three_public"}


def plan_final(read_doc: ReadDocument, data_sha256: str) -> ImportPlan:
    lay = read_doc.layout
    name, year, department = read_doc.name, read_doc.fiscal_year, read_doc.department
    narrative = parse(read_doc.flow)
    # One unit (the department): a 决算's tables are the department's; a multi-unit 决算 lists
    # its units in 第一部分 but prints no table by unit. 机关运行经费 is reported only by
    # administrative (and 参公) units, so a narrative that states it names an agency.
    agency_named = any(s.figure == "operating_cost" for s in narrative.statements)
    category = "行政单位" if agency_named else "事业单位"
    read, units, agency = read_as_one_unit(read_doc, category)
    result = reconcile(read, lay, agency, name, data_sha256)
    notes = list(read_doc.notes)
    if category == "行政单位":
        notes.append("单位类别: 情况说明列有机关运行经费, 按行政单位 (或参公事业单位) 记录")
    inconsistencies = [f"印刷数与明细相差一个印刷单位, 已按明细记录: {c}" for c in result.inconsistencies]

    priors: list[PlannedLine] = []
    reasons: list[str] = []
    stated: list[PlannedLine] = []

    def provenance(s: Stated) -> dict[str, Any]:
        at = narrative.locate(s)
        out: dict[str, Any] = {"document": name, "sha256": data_sha256, "section": "第三部分 情况说明",
                               "text": s.sentence, "span": [s.start, s.end]}
        if at.page is not None:
            out["page"] = at.page
        if at.line is not None:
            out["line"] = at.line
        return out

    for s in narrative.statements:
        where = narrative.locate(s).describe()
        key = FIGURE_CELLS.get(s.figure)
        if s.figure == "budget_item":
            key = (5, f"0/code:{s.code}", "total")
        if s.figure == "procurement":
            stated += _procurement(s, provenance(s), lay.money.tolerance_fen())
            continue
        table_value = lay.money.rounded(result.totals.get(key, Decimal(0))) if key else None
        if key is not None and table_value != s.current_wan:
            inconsistencies.append(f"{where} 情况说明写{LABELS.get(s.figure, s.figure)}{s.current_wan}万元, "
                                   f"表中为{table_value}万元: {s.sentence}")
            continue
        if s.prior_wan is not None and s.prior_year is not None:
            if s.prior_year != year - 1:
                inconsistencies.append(f"{where} 情况说明与{s.prior_year}年度比较, 不是上年 ({year - 1}年度): {s.sentence}")
                continue
            if s.figure == "three_public" and s.direction == "持平":
                prior = s.current_wan if s.prior_wan is None else s.prior_wan
            else:
                prior = s.prior_wan
            priors.append(PlannedLine(Line.of(prior * WAN, measure="prior_year", figure=PRIOR_FIGURES[s.figure]),
                                      {**provenance(s), "stated_reason": s.reason}))
            reasons.append(s.reason or f"{year - 1}年度决算数, 由情况说明的比较推得")
        elif s.figure == "three_public":
            priors.append(PlannedLine(Line.of(s.current_wan * WAN, measure="prior_year", figure="final_three_public"),
                                      {**provenance(s), "stated_reason": None}))
            reasons.append(f"{year - 1}年度决算数, 由情况说明的比较推得")
        if s.budget_wan is not None:
            dims: dict[str, str] = {"measure": "budget_stated", "plan": "original"}
            if s.figure == "budget_general":
                dims.update(flow="expenditure", source="general")
            elif s.figure == "budget_item":
                dims.update(flow="expenditure", source="general", code=s.code)
            elif s.figure == "budget_three_public":
                continue  # table 7 states the 三公 budget by item; its total is checked there
            stated.append(PlannedLine(Line.of(s.budget_wan * WAN, **dims), provenance(s)))
    for text, start, end in narrative.unresolved:
        at = read_doc.flow.location_at(start).describe()
        inconsistencies.append(f"{at} 情况说明的科目名称对不上功能分类: {text[:60]}")

    return ImportPlan(
        name=name, sha256=data_sha256, department=department, fiscal_year=year, units=units,
        effective=date(year, 12, 31),
        tables={t.name: ("empty" if read[t.number].empty else "data") for t in lay.tables},
        projects=[], lines=result.lines, priors=priors, prior_reasons=reasons, procurement=stated,
        rounding=result.rounding, rounding_cells=result.rounding_cells, layout=lay.id, phase="final",
        inconsistencies=inconsistencies, inconsistent_cells=result.inconsistent_cells, notes=notes,
    )


def _procurement(s: Stated, provenance: dict[str, Any], tolerance: int) -> list[PlannedLine]:
    """Procurement by kind at exact amounts that reproduce the printed kinds and total."""
    kinds = ("goods", "works", "services")
    printed = [int(v * WAN * 100) for v in s.parts]
    leaves = [i for i, v in enumerate(printed) if v]
    bases = [printed[i] for i in leaves]
    ranges = [(-tolerance, max(tolerance - 1, 0))] * len(leaves)
    total = CellBound.printed("政府采购总额", int(s.current_wan * WAN * 100), tolerance, tuple(range(len(leaves))))
    solution = solve(bases, ranges, [total], [])
    if solution.conflicts:
        raise DocumentRejected([Problem(None, f"政府采购: 货物、工程、服务之和与总额{s.current_wan}万元相差超出尾差: {s.sentence}")])
    return [PlannedLine(Line.of(amount, measure="final", procurement=kinds[i]), {**provenance, "printed": str(s.parts[i])})
            for i, amount in zip(leaves, solution.amounts, strict=True)]
