"""Plan the import of a 部门预算 or 单位预算 printed in a layout of projections/layouts/ other than
the seed's (e.g. budget-9-yuan: the national 9 tables in 元): the budget's 年初预算 (measure
`budget`), read table by table (ingest/printed.py, ingest/tables.py), its leaves solved by the
one 尾差 solver (importer.reconcile; in 元 with 分 every printed cell is exact, so the leaves are
the printed amounts and every sum must hold to the 分).

Amounts printed as whole 元 (integers, as some documents print a 元 layout) say each amount to
±0.5元: the solver then finds the 分 as it does for 万元 (尾差), and the import says so.

A 单位 layout (scope: unit) is one unit's budget: the unit is the name of its 「单位名称：」 line
(or its heading), the budget is that unit's, and every posting it records carries the unit. A
部门 layout records the department as its one unit (the 9 tables do not split by unit), as a
决算 does.

The unit's category (an agency, 行政单位 or 参公事业单位, whose 公用经费 is its 机关运行经费) is
not printed in the tables: a document whose running text states a 机关运行经费 names an agency
(参公事业单位 where it says 参照公务员法管理), as ingest/final.py reads a 决算; its figure is
checked against 表六's 公用经费 and a difference is reported with the import. These layouts
print no project tables and no 上年 figures: such an import records no named projects and no
prior-year figures; its project spending (by code, 表五/表八/表九) is recorded as one project,
「未列明的项目支出」 of the unit, per source and period, so that the rule 项目支出按功能分类 =
按项目 holds and later commands on named projects keep it.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ..domain.postings import Line, matches
from ..domain.rules import INVARIANTS
from .importer import ImportPlan, PlannedLine, reconcile
from .printed import ReadDocument, normal
from .tables import read_as_one_unit

# 「机关运行经费预算1,862,100.00元」 or 「机关运行经费186.21万元」 in the running text
_OPERATING = re.compile(r"机关运行经费[^。；;]*?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(万元|元)")
_WAN = Decimal(10000)
# The one project that stands for the project spending a layout without project tables does not list.
UNLISTED = "未列明的项目支出"


def plan_budget_layout(read_doc: ReadDocument, data_sha256: str) -> ImportPlan:
    lay = read_doc.layout
    name, year, department = read_doc.name, read_doc.fiscal_year, read_doc.department
    flow = normal(read_doc.flow.text)
    stated = _OPERATING.search(flow)
    stated_yuan = None
    if stated is not None:
        stated_yuan = Decimal(stated.group(1).replace(",", "")) * (_WAN if stated.group(2) == "万元" else 1)
    agency_named = stated_yuan is not None and stated_yuan > 0
    category = ("参公事业单位" if "参照公务员法管理" in flow else "行政单位") if agency_named else "事业单位"
    read, units, agency = read_as_one_unit(read_doc, category, every_leaf=lay.scope == "unit")
    # 元 printed as whole 元 (no decimal point in any amount) says each amount to ±0.5元: the
    # solver then looks for the 分 within that (尾差), as for 万元.
    amounts = [c.value for t in read.values() for c in t.cells.values() if c.value]
    whole = bool(lay.money.unit == "元" and lay.money.decimals and amounts
                 and all(v.as_tuple().exponent == 0 for v in amounts))
    if whole:
        lay = dataclasses.replace(lay, money=dataclasses.replace(lay.money, decimals=0))
    # The 9 tables name no project: project spending stands by code only, so the rule that ties
    # it to projects is applied after, to one project for what the document does not list.
    leaves = [leaf for table in read.values() for leaf in table.leaves]
    by_project = any("project" in leaf.dims for leaf in leaves)
    rules = [inv for inv in INVARIANTS if by_project or not matches({"measure": "budget", "project": "x"}, inv.right)]
    result = reconcile(read, lay, agency, name, data_sha256, invariants=rules)
    lines = list(result.lines)
    projects: list[tuple[None, str, str]] = []
    if not by_project:
        unlisted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for planned in result.lines:
            d = planned.line.d
            if d.get("kind") == "project" and "code" in d and planned.line.amount:
                unlisted[(d["source"], d["period"])] += planned.line.amount
        for (source, period), amount in sorted(unlisted.items()):
            lines.append(PlannedLine(
                Line.of(amount, measure="budget", source=source, period=period, project=UNLISTED, unit=department),
                {"document": name, "sha256": data_sha256, "derived": "项目支出按功能分类之和; 文件未列明项目"}))
        if unlisted:
            projects.append((None, UNLISTED, department))
    notes = list(read_doc.notes)
    if whole:
        notes.append("金额印为整数元: 每个印刷数表示 ±0.5元 以内的精确金额, 按尾差求解到分")
    if lay.scope == "unit":
        notes.append(f"单位预算: 记为单位「{department}」的预算, 每笔记录都带有该单位")
    notes.append(f"单位类别: {category}" + ("(情况说明列有机关运行经费)" if agency_named else "(情况说明未列机关运行经费)"))
    inconsistencies = [f"印刷数与明细相差一个印刷单位, 已按明细记录: {c}" for c in result.inconsistencies]
    if agency_named:
        # 机关运行经费 is the agency's 公用经费 (表六), compared at the places the sentence prints
        operating = result.totals.get((6, "0/total", "operating"), Decimal(0))
        printed_unit = stated.group(2)
        printed = Decimal(stated.group(1).replace(",", ""))
        step = Decimal(1).scaleb(printed.as_tuple().exponent)
        table_value = (operating / (_WAN if printed_unit == "万元" else 1)).quantize(step, rounding=ROUND_HALF_UP)
        if table_value != printed:
            inconsistencies.append(f"情况说明写机关运行经费{stated.group(1)}{printed_unit}, "
                                   f"表六公用经费为{table_value}{printed_unit}")
    return ImportPlan(
        name=name, sha256=data_sha256, department=department, fiscal_year=year, units=units,
        effective=date(year, 1, 1),
        tables={t.name: ("empty" if read[t.number].empty else "data") for t in lay.tables},
        projects=projects, lines=lines, priors=[], prior_reasons=[], procurement=[],
        rounding=result.rounding, rounding_cells=result.rounding_cells, layout=lay.id, phase="budget",
        inconsistencies=inconsistencies, inconsistent_cells=result.inconsistent_cells, notes=notes,
    )
