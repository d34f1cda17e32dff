"""Read printed table rows back into cells keyed like the read model, and into the leaf
postings that an import records (the inverse of readmodel.render)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain import classification
from ..domain.money import MAX_YUAN, WAN
from ..tables.definitions import Panel, RowSpec, TableDef, class_label
from .document import PrintedTable, label_problem, trimmed
from .errors import Problem

# ASCII digits only: \d would also take full-width and other scripts' digits.
_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$", re.ASCII)
MAX_WAN = MAX_YUAN / WAN


@dataclass(frozen=True)
class PrintedCell:
    table: int
    row: str  # read-model row key (with panel prefix)
    column: str
    value: Decimal  # 万元 as printed
    line: int
    row_label: str
    column_label: str


@dataclass(frozen=True)
class Leaf:
    """A printed cell an import records as a posting (its exact 元 amount is solved later)."""

    cell: PrintedCell
    dims: dict[str, str]


@dataclass
class ReadTable:
    number: int
    cells: dict[tuple[str, str], PrintedCell] = field(default_factory=dict)
    leaves: list[Leaf] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    projects: list[tuple[str, str]] = field(default_factory=list)  # (project, unit)

    @property
    def empty(self) -> bool:
        return not any(c.value != 0 for c in self.cells.values())


def parse_amount_cell(text: str, line: int, table: str, what: str, problems: list[Problem]) -> Decimal:
    text = text.strip()
    if text == "":
        return Decimal(0)
    if text.startswith("-") or text.startswith("−"):
        problems.append(Problem(line, f"{what}: 金额不能为负数「{text}」", table))
        return Decimal(0)
    if not _NUMBER.match(text):
        hint = " (数字应为半角)" if any(ch.isdigit() and not ch.isascii() for ch in text) else ""
        problems.append(Problem(line, f"{what}: 不是金额「{text}」{hint}", table))
        return Decimal(0)
    value = Decimal(text.replace(",", ""))
    if value != value.quantize(Decimal("0.01")):
        problems.append(Problem(line, f"{what}: 万元金额最多两位小数「{text}」", table))
    elif value > MAX_WAN:
        problems.append(Problem(line, f"{what}: 金额大得不合理「{text}」万元", table))
    return value


def _concrete(where: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in where.items() if isinstance(v, str) and not v.endswith("*")}


class _PanelReader:
    def __init__(self, table: TableDef, panel: Panel, ctx: dict[str, Any], out: ReadTable,
                 problems: list[Problem]):
        self.table, self.panel, self.ctx, self.out, self.problems = table, panel, ctx, out, problems
        self.used: set[str] = set()
        self.specs = panel.rows + panel.footer
        self.kinds = {s.kind for s in self.specs}
        self.unit: str | None = None
        self.codes_seen: set[str] = set()
        self.projects_seen: set[tuple[str, str]] = set()

    def fixed_label(self, spec: RowSpec) -> list[str]:
        text = [t.format(department=self.ctx["department"], year=self.ctx["year"]) for t in spec.label]
        return trimmed(text + [""] * (self.panel.label_width - len(text)))

    def identify(self, label: list[str], line: int) -> tuple[str, dict[str, str], bool, str] | None:
        """(row key, dims, leaf?, printed label) of a printed row part; None if not a row."""
        wanted = trimmed(label)
        text = " ".join(c for c in label if c)
        for spec in self.specs:
            if spec.kind == "fixed" and spec.key not in self.used and self.fixed_label(spec) == wanted:
                self.used.add(spec.key)
                return spec.key, _concrete(dict(spec.where)), spec.leaf, text
        if "classes" in self.kinds:
            for code, _ in classification.functional_classes():
                if label[0] == class_label(code, next(s for s in self.specs if s.kind == "classes").label_format):
                    return f"class:{code}", {}, False, text
        if "tree_code" in self.kinds and label and label[0][:1].isdigit():
            code, name = label[0], (label[1] if len(label) > 1 else "")
            catalogue = classification.functional()
            if not code.isdigit() or len(code) not in (3, 5, 7):
                self.problems.append(Problem(line, f"科目编码应为3、5或7位数字: 「{code}」", self.table.name))
                return None
            if code not in catalogue:
                self.problems.append(Problem(line, f"未知的功能分类科目编码 {code}「{name}」", self.table.name))
                return None
            if catalogue.name(code) != name:
                self.problems.append(
                    Problem(line, f"科目 {code} 的名称应为「{catalogue.name(code)}」, 文件写的是「{name}」", self.table.name)
                )
                return None
            if code in self.codes_seen:
                self.problems.append(Problem(line, f"科目编码 {code} 重复出现", self.table.name))
                return None
            self.codes_seen.add(code)
            return f"code:{code}", {"code": code}, len(code) == 7, f"{code} {name}"
        if "tree_economic" in self.kinds:
            dept_name, gov_name = label[0], (label[1] if len(label) > 1 else "")
            if not gov_name:
                group = classification.economic_departmental().code_for(dept_name, length=3)
                if group is None:
                    self.problems.append(Problem(line, f"未知的部门经济分类类级科目「{dept_name}」", self.table.name))
                    return None
                return f"econ:{group}", {}, False, dept_name
            try:
                dept, gov = classification.resolve_economic(f"{dept_name}/{gov_name}")
            except LookupError as exc:
                self.problems.append(Problem(line, str(exc), self.table.name))
                return None
            key = f"econ:{dept}/{gov}"
            if key in self.used:
                self.problems.append(Problem(line, f"经济科目「{dept_name}/{gov_name}」重复出现", self.table.name))
                return None
            self.used.add(key)
            return key, {"economic": dept, "gov_economic": gov}, True, f"{dept_name}/{gov_name}"
        if label[0] and ({"each_unit", "tree_unit_project"} & self.kinds):
            wrong = label_problem(label[0])
            if wrong:
                self.problems.append(Problem(line, wrong, self.table.name))
                return None
        if "each_unit" in self.kinds and label[0]:
            if label[0] in self.out.units:
                self.problems.append(Problem(line, f"单位「{label[0]}」重复出现", self.table.name))
                return None
            self.out.units.append(label[0])
            return f"unit:{label[0]}", {"unit": label[0]}, False, label[0]
        if "tree_unit_project" in self.kinds and label[0]:
            if label[0] in self.ctx["units"]:
                self.unit = label[0]
                return f"unit:{label[0]}", {"unit": label[0]}, False, label[0]
            if self.unit is None:
                self.problems.append(Problem(line, f"项目「{label[0]}」之前没有单位行", self.table.name))
                return None
            if (label[0], self.unit) in self.projects_seen:
                self.problems.append(Problem(line, f"项目「{label[0]}」重复出现", self.table.name))
                return None
            self.projects_seen.add((label[0], self.unit))
            self.out.projects.append((label[0], self.unit))
            return f"project:{label[0]}", {"project": label[0], "unit": self.unit}, True, label[0]
        self.problems.append(Problem(line, f"无法识别的行「{text}」", self.table.name))
        return None


def read_table(printed: PrintedTable, ctx: dict[str, Any], problems: list[Problem]) -> ReadTable:
    table = printed.definition
    out = ReadTable(table.number)
    readers = [_PanelReader(table, panel, ctx, out, problems) for panel in table.panels]
    total_width = sum(panel.width for panel in table.panels)
    for row in printed.rows:
        cells = row.cells
        extra = [c for c in cells[total_width:] if c]
        if extra:
            problems.append(Problem(row.line, f"多出的单元格: {' | '.join(extra)}", table.name))
            continue
        cells = cells + [""] * (total_width - len(cells))
        offset = 0
        for panel, reader in zip(table.panels, readers, strict=True):
            part = cells[offset: offset + panel.width]
            offset += panel.width
            label, amounts = part[: panel.label_width], part[panel.label_width:]
            if not any(label) and not any(amounts):
                continue
            found = reader.identify(label, row.line)
            if found is None:
                continue
            key, row_dims, leaf_row, row_label = found
            for column, text in zip(panel.columns, amounts, strict=True):
                value = parse_amount_cell(text, row.line, table.name, f"{row_label} {column.label}", problems)
                cell = PrintedCell(table.number, f"{panel.index}/{key}", column.key, value, row.line, row_label,
                                   column.label.format(year=ctx["year"]))
                out.cells[(cell.row, cell.column)] = cell
                if panel.records and leaf_row and column.leaf and value != 0:
                    dims = {**_concrete(dict(table.where)), **_concrete(dict(panel.where)), **row_dims,
                            **_concrete(dict(column.where))}
                    out.leaves.append(Leaf(cell, dims))
    if printed.empty_note_line is not None and not out.empty:
        first = min((c for c in out.cells.values() if c.value != 0), key=lambda c: c.line)
        problems.append(Problem(printed.empty_note_line, f"表注明「本表无数据」, 但第{first.line}行 {first.row_label} "
                                                         f"{first.column_label} 有金额 {first.value}", table.name))
    return out
