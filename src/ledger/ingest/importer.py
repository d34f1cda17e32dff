"""Turn a disclosure into the commands that record it (an ImportPlan), or refuse it.

Nothing here touches storage: the application executes the plan in one atomic save.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import classification
from ..domain.money import to_wan, wan_to_yuan
from ..domain.postings import Line, matches
from ..domain.rules import INVARIANTS
from ..tables.definitions import cells_for, load_tables, unit_context
from . import document as doc
from .errors import DocumentRejected, Problem
from .narrative import Narrative, check_percent, parse_narrative
from .targets import PerformanceTable, parse_performance
from .rounding import CellBound, Equality, solve
from .tables import Leaf, PrintedCell, ReadTable, read_table

# Where the narrative's figures stand in the tables: (table, row key, column key).
FIGURE_CELLS = {
    ("income_total", None): (1, "0/income_total", "amount"),
    ("expenditure_total", None): (1, "1/expenditure_total", "total"),
    ("general_public_current", None): (5, "0/total", "total"),
    ("operating_cost", None): (11, "0/total", "total"),
    ("three_public", None): (10, "0/total", "total"),
    ("three_public", "overseas"): (10, "0/overseas", "total"),
    ("three_public", "reception"): (10, "0/reception", "total"),
    ("three_public", "vehicle_purchase"): (10, "0/vehicle_purchase", "total"),
    ("three_public", "vehicle_operation"): (10, "0/vehicle_operation", "total"),
}


@dataclass
class PlannedLine:
    line: Line
    provenance: dict[str, Any]


@dataclass
class ImportPlan:
    name: str
    sha256: str
    department: str
    fiscal_year: int
    units: list[dict[str, str]]
    effective: date
    tables: dict[str, str]  # 表一 → data | empty
    projects: list[tuple[PerformanceTable | None, str, str]]  # (targets, project, unit)
    lines: list[PlannedLine]
    priors: list[PlannedLine]
    prior_reasons: list[str]
    procurement: list[PlannedLine]
    rounding: list[dict[str, Any]] = field(default_factory=list)
    rounding_cells: list[str] = field(default_factory=list)


def plan_import(data: bytes, name: str) -> ImportPlan:
    disclosure = doc.parse(data, name)
    problems: list[Problem] = []
    narrative = parse_narrative(disclosure.lines, disclosure.narrative_start, problems)
    ctx: dict[str, Any] = {"department": disclosure.department, "year": disclosure.fiscal_year, "units": []}

    read: dict[int, ReadTable] = {11: read_table(disclosure.tables[11], ctx, problems)}
    units = read[11].units or [disclosure.department]
    ctx["units"] = units
    for number, printed in disclosure.tables.items():
        if number != 11:
            read[number] = read_table(printed, ctx, problems)
    if problems:
        raise DocumentRejected(problems)

    category = narrative.unit_category or ("参公事业单位" if not read[11].empty else "事业单位")
    unit_rows = [{"name": u, "category": category} for u in units]
    agency = classification.agency_units(unit_rows)

    performance = parse_performance(disclosure.lines, disclosure.narrative_start, problems)
    by_name = {p.name: p for p in performance}
    projects = []
    listed: set[str] = set()
    for table_no in (12, 13):
        for project, unit in read[table_no].projects:
            if project not in listed:
                listed.add(project)
                projects.append((by_name.get(project), project, unit))
    for table in performance:
        if table.name and table.name not in listed:
            problems.append(Problem(table.line, f"绩效目标表的项目「{table.name}」不在表十二/表十三中"))
    _check_project_amounts(projects, read, problems)

    leaves: list[Leaf] = [leaf for number in sorted(read) for leaf in read[number].leaves]
    for leaf in leaves:
        if "economic" in leaf.dims and "unit" not in leaf.dims:
            if len(units) != 1:
                problems.append(Problem(leaf.cell.line, "多单位部门: 表六的经济分类无法分到单位, 暂不支持", "表六"))
                break
            leaf.dims["unit"] = units[0]
    if problems:
        raise DocumentRejected(problems)

    definitions = load_tables()
    names = {t.number: t.name for t in definitions}
    printed = {(c.table, c.row, c.column): c for r in read.values() for c in r.cells.values()}
    membership: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for i, leaf in enumerate(leaves):
        for cell in cells_for(unit_context(leaf.dims, agency), definitions):
            membership[cell].append(i)

    def cell_name(key: tuple[int, str, str]) -> str:
        cell = printed.get(key)
        if cell is None:
            return f"{names[key[0]]} {key[1].split('/', 1)[1]} {key[2]} (文件中没有这一格)"
        return f"{names[key[0]]} 第{cell.line}行 {cell.row_label} {cell.column_label} {cell.value}"

    bounds = []
    for key in sorted(set(membership) | set(printed)):
        members = tuple(membership.get(key, ()))
        value = printed[key].value if key in printed else Decimal(0)
        if not members and value == 0:
            continue
        bounds.append(CellBound(cell_name(key), value, members))

    equalities = []
    for inv in INVARIANTS:
        groups: dict[tuple[str, ...], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i, leaf in enumerate(leaves):
            group = tuple(leaf.dims.get(g, "") for g in inv.group_by)
            if matches(leaf.dims, inv.left):
                groups[group][0].append(i)
            if matches(leaf.dims, inv.right):
                groups[group][1].append(i)
        for group, (left, right) in groups.items():
            equalities.append(Equality(f"{inv.statement}{''.join(f'[{g}]' for g in group if g)}", tuple(left), tuple(right)))
    for targets, project, _unit in projects:
        if targets is not None and targets.annual_amount is not None:
            members = tuple(i for i, leaf in enumerate(leaves) if leaf.dims.get("project") == project)
            equalities.append(
                Equality(f"项目「{project}」= 绩效目标表年度资金总额 {targets.annual_amount} 元 (第{targets.line}行)",
                         members, (), targets.annual_amount)
            )

    solution = solve([leaf.cell.value for leaf in leaves], bounds, equalities)
    if solution.conflicts:
        raise DocumentRejected(
            [Problem(None, "印刷数之间的差异超出尾差 (±0.005万元), 找不到一组精确金额同时满足: " + c)
             for c in solution.conflicts]
        )

    totals: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    for i, leaf in enumerate(leaves):
        for cell in cells_for(unit_context(leaf.dims, agency), definitions):
            totals[cell] += solution.amounts[i]

    def provenance(leaf: Leaf) -> dict[str, Any]:
        c = leaf.cell
        return {"document": name, "sha256": disclosure.sha256, "table": names[c.table],
                "row": c.row_label, "column": c.column_label, "line": c.line, "printed": str(c.value)}

    lines = [
        PlannedLine(Line.of(solution.amounts[i], **leaf.dims), provenance(leaf)) for i, leaf in enumerate(leaves)
    ]
    rounding = [
        {**provenance(leaves[i]), "amount": str(solution.amounts[i])} for i in solution.adjusted
    ]

    priors, reasons = _priors(narrative, printed, totals, name, disclosure.sha256, problems)
    procurement = []
    if narrative.procurement is not None:
        p = narrative.procurement
        for kind, value in (("goods", p.goods), ("works", p.works), ("services", p.services)):
            if value:
                procurement.append(PlannedLine(
                    Line.of(wan_to_yuan(value), measure="budget", procurement=kind),
                    {"document": name, "sha256": disclosure.sha256, "section": "九、政府采购情况",
                     "line": p.line, "printed": str(value)},
                ))
    if problems:
        raise DocumentRejected(problems)

    return ImportPlan(
        name=name,
        sha256=disclosure.sha256,
        department=disclosure.department,
        fiscal_year=disclosure.fiscal_year,
        units=unit_rows,
        effective=date(disclosure.fiscal_year, 1, 1),
        tables={t.name: ("empty" if read[t.number].empty else "data") for t in definitions},
        projects=projects,
        lines=lines,
        priors=priors,
        prior_reasons=reasons,
        procurement=procurement,
        rounding=rounding,
        rounding_cells=solution.rounding_cells,
    )


def _check_project_amounts(projects, read: dict[int, ReadTable], problems: list[Problem]) -> None:
    """A project's printed 万元 must be its 绩效目标表 amount in 元, rounded: name both places
    here, where the solver could only say that its equalities cannot all hold."""
    totals: dict[str, list[PrintedCell]] = defaultdict(list)
    for number in (12, 13):
        for (row, column), cell in read[number].cells.items():
            if column == "total" and row.split("/", 1)[1].startswith("project:"):
                totals[row.split("/", 1)[1].removeprefix("project:")].append(cell)
    for targets, project, _unit in projects:
        if targets is None or targets.annual_amount is None:
            continue
        cells = totals[project]
        printed = sum((c.value for c in cells), Decimal(0))
        if cells and abs(printed * 10000 - targets.annual_amount) > 50 * len(cells):
            where = f" (第{'、'.join(str(c.line) for c in cells)}行合计)" if len(cells) > 1 else ""
            problems.append(Problem(cells[0].line, (
                f"项目「{project}」印刷 {printed} 万元{where}, 但其绩效目标表 (第{targets.line}行) 的年度资金总额为 "
                f"{targets.annual_amount} 元, 即 {to_wan(targets.annual_amount)} 万元; 差异超出尾差"),
                "表十二" if cells[0].table == 12 else "表十三"))


def _priors(narrative: Narrative, printed, totals, name: str, sha: str, problems: list[Problem]):
    priors, reasons = [], []
    items = {p.item for p in narrative.priors if p.figure == "three_public" and p.item}
    for p in narrative.priors:
        key = FIGURE_CELLS[(p.figure, p.item)]
        cell = printed.get(key)
        table_value = to_wan(totals.get(key, Decimal(0)))
        if cell is not None and cell.value != p.current_wan:
            problems.append(Problem(p.line, f"情况说明写{p.current_wan}万元, 表中为{cell.value}万元: {p.sentence}"))
            continue
        if cell is None and table_value != p.current_wan:
            problems.append(Problem(p.line, f"情况说明写{p.current_wan}万元, 表中为{table_value}万元: {p.sentence}"))
            continue
        check_percent(p, problems)
        if p.figure == "three_public" and p.item is None and items:
            continue  # the items are recorded; the total is their sum
        dims = {"measure": "prior_year", "figure": p.figure, "three_public": p.item}
        priors.append(PlannedLine(
            Line.of(wan_to_yuan(p.prior_wan), **dims),
            {"document": name, "sha256": sha, "section": "第三部分 情况说明", "line": p.line, "text": p.sentence,
             "stated_reason": p.reason},
        ))
        reasons.append(p.reason or "上年预算数, 由情况说明的比较推得")
    return priors, reasons
