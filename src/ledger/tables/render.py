"""Lay out a table as the document prints it, from its cells (exact 元 amounts).

This is the one place where 元 become printed amounts (万元 or 元, as the layout prints them:
layouts.MoneyFormat).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ..domain import classification
from .definitions import HeaderCell, Panel, RowSpec, TableDef, class_codes, class_label, code_cells
from .layouts import MoneyFormat

WAN = MoneyFormat()  # 万元 with two decimals, empty for zero: the 13-table 部门预算

Cells = Mapping[tuple[str, str], Decimal]  # (row key, column key) → 元


@dataclass(frozen=True)
class Context:
    """What a table needs besides its cells: names and the order of projects and units."""

    department: str
    fiscal_year: int
    units: Sequence[str]
    projects: Sequence[tuple[str, str]]  # (project, unit) in registration order


@dataclass(frozen=True)
class RenderedRow:
    cells: list[str]  # label and amount cells as printed
    keys: list[tuple[int, str | None]]  # (panel, row key) for each panel part
    amounts: list[tuple[str, str, Decimal]]  # (row key, column key, 元) of the amount cells

    def trimmed(self) -> list[str]:
        out = [c.strip() for c in self.cells]
        while out and out[-1] == "":
            out.pop()
        return out


@dataclass(frozen=True)
class RenderedTable:
    number: int
    name: str
    title: str
    header: list[list[str]]  # each header row as printed (a merged cell's other places are "")
    rows: list[RenderedRow]
    empty: bool
    header_cells: list[HeaderCell] = field(default_factory=list)  # the same, with each cell's spans
    unit: str = "万元"  # of the printed amounts (the layout's)
    layout: str = "department-budget"  # the layout whose table this is (tables/layouts.py)


def _present(cells: Cells, prefix: str) -> set[str]:
    """Row keys under a prefix that carry an amount (trees print only those)."""
    return {row[len(prefix):] for (row, _col), amount in cells.items() if amount != 0 and row.startswith(prefix)}


def panel_rows(panel: Panel, specs: Sequence[RowSpec], cells: Cells, ctx: Context,
               table_empty: bool) -> list[tuple[str | None, list[str]]]:
    """(row key, label cells) for each printed row of one panel part."""
    p = f"{panel.index}/"
    width = panel.label_width
    out: list[tuple[str | None, list[str]]] = []

    def label(*parts: str) -> list[str]:
        cells_ = list(parts)[:width]
        return cells_ + [""] * (width - len(cells_))

    for spec in specs:
        if spec.kind == "blank":
            out.append((None, label()))
        elif spec.kind == "fixed":
            if table_empty and not spec.show_empty:
                continue
            text = [t.format(department=ctx.department, year=ctx.fiscal_year) for t in spec.label]
            out.append((p + spec.key, label(*text)))
        elif spec.kind == "classes":
            for code in class_codes(spec):
                out.append((f"{p}class:{code}", label(class_label(code, spec.label_format, spec.only))))
        elif spec.kind == "tree_code":
            catalogue = classification.functional()
            for code in sorted(_present(cells, p + "code:")):
                out.append((f"{p}code:{code}", label(*code_cells(code, spec.split), catalogue.names.get(code, "?"))))
        elif spec.kind == "tree_economic_code":
            dept = classification.economic_departmental()
            if spec.items:
                printed = list(spec.items)
            else:
                present = _present(cells, p + "econ:")
                groups = list(spec.only) or sorted({k[:3] for k in present})
                printed = [c for g in groups if g in present for c in
                           (g, *sorted(k for k in present if len(k) == 5 and k.startswith(g)))]
            for code in printed:
                out.append((f"{p}econ:{code}", label(code[:3], code[3:], dept.names.get(code, code))))
        elif spec.kind == "tree_economic":
            dept = classification.economic_departmental()
            gov = classification.economic_governmental()
            present = _present(cells, p + "econ:")
            for group in sorted(k for k in present if "/" not in k):
                out.append((f"{p}econ:{group}", label(dept.names.get(group, group), "")))
                for member in sorted(k for k in present if k.startswith(group) and "/" in k):
                    d, g = member.split("/")
                    out.append((f"{p}econ:{member}", label(dept.names.get(d, d), gov.names.get(g, g))))
        elif spec.kind == "each_unit":
            present = _present(cells, p + "unit:")
            for unit in [u for u in ctx.units if u in present]:
                out.append((f"{p}unit:{unit}", label(unit)))
        elif spec.kind == "tree_unit_project":
            units = _present(cells, p + "unit:")
            projects = _present(cells, p + "project:")
            for unit in [u for u in ctx.units if u in units]:
                out.append((f"{p}unit:{unit}", label(unit)))
                for name, owner in ctx.projects:
                    if owner == unit and name in projects:
                        out.append((f"{p}project:{name}", label(name)))
    return out


def render(table: TableDef, cells: Cells, ctx: Context, money: MoneyFormat = WAN,
           layout_id: str = "department-budget") -> RenderedTable:
    empty = not any(amount != 0 for amount in cells.values())
    rows: list[RenderedRow] = []
    for part in ("rows", "footer"):
        parts = [panel_rows(panel, getattr(panel, part), cells, ctx, empty) for panel in table.panels]
        for i in range(max((len(x) for x in parts), default=0)):
            printed: list[str] = []
            keys: list[tuple[int, str | None]] = []
            amounts: list[tuple[str, str, Decimal]] = []
            for panel, entries in zip(table.panels, parts, strict=True):
                if i < len(entries):
                    key, label = entries[i]
                else:
                    key, label = None, [""] * panel.label_width
                printed += label
                keys.append((panel.index, key))
                for column in panel.columns:
                    amount = cells.get((key, column.key), Decimal(0)) if key else Decimal(0)
                    printed.append(money.text(amount))
                    if key:
                        amounts.append((key, column.key, amount))
            rows.append(RenderedRow(printed, keys, amounts))
    header = [[c.format(year=ctx.fiscal_year) for c in row] for row in table.header]
    cells = [replace(c, text=c.text.format(year=ctx.fiscal_year)) for c in table.header_cells]
    return RenderedTable(table.number, table.name, table.title_for(ctx.fiscal_year), header, rows, empty, cells,
                         unit=money.unit, layout=layout_id)
