"""Turn a disclosure into the commands that record it (an ImportPlan), or refuse it.

Nothing here touches storage: the application executes the plan in one atomic save.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import classification
from ..domain.money import to_wan, wan_to_yuan
from ..domain.postings import Line, matches
from ..domain.rules import INVARIANTS, Invariant
from ..tables.definitions import cells_for, unit_context
from ..tables.layouts import DEFAULT, Layout, layout
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
    layout: str = DEFAULT  # the layout the document was read by (tables/layouts.py)
    phase: str = "budget"  # of the budget it records: budget (年初预算) | final (决算)
    inconsistencies: list[str] = field(default_factory=list)  # the document's own, reported (not refused)
    inconsistent_cells: list[dict[str, Any]] = field(default_factory=list)  # printed cells one place off
    notes: list[str] = field(default_factory=list)


@dataclass
class Reconciled:
    """What a document's tables come to: a posting per leaf, at exact amounts that reproduce
    every printed cell (within its printed place)."""

    lines: list[PlannedLine]
    rounding: list[dict[str, Any]]  # the leaves moved off their printed value, with their places
    rounding_cells: list[str]  # printed cells whose printed parts do not add up to them
    inconsistencies: list[str]  # printed summary cells one place off what the detail allows
    inconsistent_cells: list[dict[str, Any]]  # the same: table, row, column, printed, the amount recorded
    printed: dict[tuple[int, str, str], PrintedCell]
    totals: dict[tuple[int, str, str], Decimal]  # every cell, exact, from the solved leaves


def reconcile(read: dict[int, ReadTable], lay: Layout, agency: frozenset[str], name: str, sha256: str,
              exact: Sequence[tuple[str, dict[str, str], Decimal]] = (),
              invariants: Sequence[Invariant] = INVARIANTS) -> Reconciled:
    """Solve a document's leaves (DESIGN §4): every printed cell of every table bounds the leaves
    under it, the cross-axis rules are equalities, as are `exact` amounts (元: a filter of the
    leaves and the amount they sum to, e.g. a project's 绩效目标表 total). A remainder leaf is
    what its cell holds beyond the other leaves in it (computed from the tables in descending
    order, so that a summary table's remainder sees the detail tables' leaves). `invariants`
    are the cross-axis rules applied (all, unless a layout prints one side of a rule nowhere).
    Refuses the document (DocumentRejected) when no amounts exist."""
    money = lay.money
    tolerance = money.tolerance_fen()
    names = {t.number: t.name for t in lay.tables}
    tables = lay.tables
    printed = {(c.table, c.row, c.column): c for r in read.values() for c in r.cells.values()}

    def fen(cell: PrintedCell) -> int:
        return int(money.yuan(cell.value) * 100)

    def cell_name(key: tuple[int, str, str]) -> str:
        cell = printed.get(key)
        if cell is None:
            return f"{names[key[0]]} {key[1].split('/', 1)[1]} {key[2]} (文件中没有这一格)"
        return f"{names[key[0]]} {cell.where().describe()} {cell.row_label} {cell.column_label} {cell.value}"

    leaves: list[Leaf] = []
    bases: list[int] = []
    ranges: list[tuple[int, int]] = []
    membership: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    problems: list[Problem] = []

    def add(leaf: Leaf, base: int, lo: int, hi: int) -> None:
        index = len(leaves)
        leaves.append(leaf)
        bases.append(base)
        ranges.append((lo, hi))
        for key in cells_for(unit_context(leaf.dims, agency), tables):
            membership[key].append(index)

    for number in sorted(read):
        for leaf in read[number].leaves:
            if not leaf.remainder:
                add(leaf, fen(leaf.cell), -tolerance, max(tolerance - 1, 0))
    for number in sorted(read, reverse=True):
        for leaf in read[number].leaves:
            if not leaf.remainder:
                continue
            c = leaf.cell
            others = membership.get((c.table, c.row, c.column), [])
            base = fen(c) - sum(bases[i] for i in others)
            spread = tolerance * (len(others) + 1)
            if base + spread < 0:
                problems.append(Problem(c.line or None, (
                    f"{c.row_label} {c.column_label}: 印刷 {c.value}{money.unit}, 小于其他表已列的部分之和 "
                    f"{(Decimal(fen(c) - base) / 100 / money.per_unit).quantize(money.step)}{money.unit}"),
                    names[c.table], location=c.location))
                continue
            add(leaf, base, max(-base, -spread), spread)
    if problems:
        raise DocumentRejected(problems)

    bounds = []
    named: dict[str, tuple[int, str, str]] = {}
    for key in sorted(set(membership) | set(printed)):
        members = tuple(membership.get(key, ()))
        value = fen(printed[key]) if key in printed else 0
        if not members and value == 0:
            continue
        summary = not any(leaves[i].cell is printed.get(key) for i in members)
        named[cell_name(key)] = key
        bounds.append(CellBound.printed(cell_name(key), value, tolerance, members, summary))

    equalities = []
    for inv in invariants:
        groups: dict[tuple[str, ...], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i, leaf in enumerate(leaves):
            group = tuple(leaf.dims.get(g, "") for g in inv.group_by)
            if matches(leaf.dims, inv.left):
                groups[group][0].append(i)
            if matches(leaf.dims, inv.right):
                groups[group][1].append(i)
        for group, (left, right) in groups.items():
            equalities.append(Equality(f"{inv.statement}{''.join(f'[{g}]' for g in group if g)}", tuple(left), tuple(right)))
    for statement, where, amount in exact:
        members = tuple(i for i, leaf in enumerate(leaves) if matches(leaf.dims, where))
        equalities.append(Equality(statement, members, (), amount))

    # A summary cell one printed place off the detail is reported, not refused (rounding.py).
    solution = solve(bases, ranges, bounds, equalities, tolerate=2 * tolerance)
    if solution.conflicts:
        raise DocumentRejected(
            [Problem(None, f"印刷数之间的差异超出尾差 (±{Decimal(tolerance) / 100 / money.per_unit}{money.unit}), "
                           "找不到一组精确金额同时满足: " + c) for c in solution.conflicts]
        )

    totals: dict[tuple[int, str, str], Decimal] = defaultdict(Decimal)
    for i, leaf in enumerate(leaves):
        for cell in cells_for(unit_context(leaf.dims, agency), tables):
            totals[cell] += solution.amounts[i]

    def provenance(leaf: Leaf) -> dict[str, Any]:
        c = leaf.cell
        out: dict[str, Any] = {"document": name, "sha256": sha256, "table": names[c.table],
                               "row": c.row_label, "column": c.column_label}
        if c.line:
            out["line"] = c.line
        out["printed"] = str(c.value)
        if c.location is not None and c.location.page is not None:
            out["page"] = c.location.page
            if c.location.box is not None:
                box = c.location.box
                out["box"] = [round(box.x0, 1), round(box.top, 1), round(box.x1, 1), round(box.bottom, 1)]
        if leaf.remainder:
            out["remainder"] = True  # what the cell holds beyond the other tables' postings
        return out

    lines = [PlannedLine(Line.of(solution.amounts[i], **leaf.dims), provenance(leaf))
             for i, leaf in enumerate(leaves) if solution.amounts[i] != 0 or not leaf.remainder]
    rounding = [{**provenance(leaves[i]), "amount": str(solution.amounts[i])} for i in solution.adjusted
                if not leaves[i].remainder]
    off = []
    for cell in solution.tolerated:
        key = named[cell]
        c = printed[key]
        place = {"page": c.location.page} if c.location is not None and c.location.page is not None else {}
        if c.location is not None and c.location.box is not None:
            place["box"] = [round(c.location.box.x0, 1), round(c.location.box.top, 1)]
        if c.line:
            place["line"] = c.line
        off.append({"table": names[key[0]], "row": c.row_label, "column": c.column_label, "printed": str(c.value),
                    "amount": str(totals[key]), "where": c.where().describe(), **place})
    return Reconciled(lines, rounding, solution.rounding_cells, solution.tolerated, off, printed, totals)


def plan_document(data: bytes, name: str) -> ImportPlan:
    """The plan of any document the ledger reads: a PDF, or the text layout, of any layout in
    projections/layouts/ (the layout is found from the tables' titles)."""
    from .pdf import looks_like_pdf, read_pdf
    from .printed import choose_layout, fiscal_year, read
    from .textsource import read_text

    if looks_like_pdf(data) or name.lower().endswith(".pdf"):
        document = read_pdf(data, name)
    else:
        head = doc.decode(data, name)[:4000]
        document = read_text(data, name)
        if "部门预算公开" in head:
            # the seed's layout, read line by line (document.py), unless its titles are another
            # layout's (a 9-table 部门预算 may call itself 部门预算公开 too)
            try:
                other = choose_layout(document, fiscal_year(document)[0]).id != DEFAULT
            except DocumentRejected:
                other = False
            if not other:
                return plan_import(data, name)
    read_doc = read(document)
    if read_doc.layout.phase == "final":
        from .final import plan_final

        return plan_final(read_doc, document.sha256)
    if read_doc.layout.id != DEFAULT:
        from .budget_layout import plan_budget_layout

        return plan_budget_layout(read_doc, document.sha256)
    raise DocumentRejected([Problem(None, f"布局「{read_doc.layout.name}」的导入尚未实现; 能导入的: 部门预算公开 (文本), "
                                          "9张表的部门预算与单位预算 (元, PDF 或文本), 部门决算 (PDF 或文本)")])


def plan_import(data: bytes, name: str) -> ImportPlan:
    """The plan of a 部门预算公开 in the seed's text layout (13 tables, 万元)."""
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

    projects_equal = []
    for targets, project, _unit in projects:
        if targets is not None and targets.annual_amount is not None:
            projects_equal.append((f"项目「{project}」= 绩效目标表年度资金总额 {targets.annual_amount} 元 (第{targets.line}行)",
                                   {"project": project}, targets.annual_amount))
    result = reconcile(read, layout(), agency, name, disclosure.sha256, projects_equal)
    printed, totals, lines, rounding = result.printed, result.totals, result.lines, result.rounding

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
        tables={t.name: ("empty" if read[t.number].empty else "data") for t in layout().tables},
        projects=projects,
        lines=lines,
        priors=priors,
        prior_reasons=reasons,
        procurement=procurement,
        rounding=rounding,
        rounding_cells=result.rounding_cells,
        layout=layout().id,
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
