"""Read printed table rows back into cells keyed like the read model, and into the leaf
postings that an import records (the inverse of tables.render)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain import classification
from ..domain.money import MAX_YUAN
from ..tables.definitions import Panel, RowSpec, TableDef, class_codes, class_label
from ..tables.layouts import MoneyFormat
from ..tables.render import WAN
from .document import PrintedRow, PrintedTable, label_problem, trimmed
from .errors import DocumentRejected, Problem
from .source import Location

# ASCII digits only: \d would also take full-width and other scripts' digits.
_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$", re.ASCII)
# Words a grid's header leaves in the code columns of its first data row (类 款 项).
_HEADER_WORDS = frozenset({"类", "款", "项"})
_ORDINAL = re.compile(r"^[一二三四五六七八九十]+、")


def _normal(text: str) -> str:
    from .printed import normal  # (printed imports this module's neighbours)

    return normal(text)


@dataclass(frozen=True)
class PrintedCell:
    table: int
    row: str  # read-model row key (with panel prefix)
    column: str
    value: Decimal  # as printed, in the layout's unit (万元 or 元)
    line: int  # in the text layout; 0 in a PDF (see location)
    row_label: str
    column_label: str
    location: Location | None = None

    def where(self) -> Location:
        return self.location or Location(line=self.line)


@dataclass(frozen=True)
class Leaf:
    """A printed cell an import records as a posting (its exact 元 amount is solved later).
    A remainder records what the cell holds beyond the postings other tables record into it."""

    cell: PrintedCell
    dims: dict[str, str]
    remainder: bool = False


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


def parse_amount_cell(text: str, line: int, table: str, what: str, problems: list[Problem],
                      money: MoneyFormat = WAN, location: Location | None = None) -> Decimal:
    """A printed amount in the layout's unit; a problem (and 0) when it is not one."""
    text = text.strip()
    if text in ("", money.zero):
        return Decimal(0)
    if text.startswith("-") or text.startswith("−"):
        problems.append(Problem(line, f"{what}: 金额不能为负数「{text}」", table, location=location))
        return Decimal(0)
    if not _NUMBER.match(text):
        hint = " (数字应为半角)" if any(ch.isdigit() and not ch.isascii() for ch in text) else ""
        problems.append(Problem(line, f"{what}: 不是金额「{text}」{hint}", table, location=location))
        return Decimal(0)
    value = Decimal(text.replace(",", ""))
    if value != value.quantize(money.step):
        places = "最多两位小数" if money.decimals else "应为整数"
        problems.append(Problem(line, f"{what}: {money.unit}金额{places}「{text}」", table, location=location))
    elif value * money.per_unit > MAX_YUAN:
        problems.append(Problem(line, f"{what}: 金额大得不合理「{text}」{money.unit}", table, location=location))
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
        self.at: tuple[int, Location | None] = (0, None)  # the row being read (line, place)

    def problem(self, message: str) -> None:
        line, at = self.at
        self.problems.append(Problem(line or None, message, self.table.name, location=at))

    def fixed_label(self, spec: RowSpec) -> list[str]:
        text = [t.format(department=self.ctx["department"], year=self.ctx["year"]) for t in spec.label]
        return trimmed(text + [""] * (self.panel.label_width - len(text)))

    def _fixed(self, label: list[str]) -> RowSpec | None:
        """The first fixed row not read yet that the printed label names (its label or an
        alias, compared as printed text: cell boundaries and spacing aside)."""
        wanted = trimmed(label)
        text = _normal("".join(label))
        for spec in self.specs:
            if spec.kind != "fixed" or spec.key in self.used:
                continue
            labels = [self.fixed_label(spec)] + [[a] for a in spec.aliases]
            if any(candidate == wanted or _normal("".join(candidate)) == text for candidate in labels):
                return spec
        return None

    def identify(self, label: list[str], line: int, at: Location | None = None, *,
                 quiet: bool = False) -> tuple[str, dict[str, str], bool, str, RowSpec | None] | None:
        """(row key, dims, leaf?, printed label, fixed row spec) of a printed row part; None if
        not a row of this panel (a problem is noted, unless quiet)."""
        self.at = (line, at)
        problems_before = len(self.problems)
        found = self._identify(label)
        if quiet:
            del self.problems[problems_before:]
        return found

    def _identify(self, label: list[str]) -> tuple[str, dict[str, str], bool, str, RowSpec | None] | None:
        if any(s.kind == "tree_code" and s.split for s in self.specs):
            # a grid may print its header's 类 款 项 in the first row's code cells
            label = ["" if c in _HEADER_WORDS else c for c in label[:3]] + label[3:]
        text = " ".join(c for c in label if c)
        spec = self._fixed(label)
        if spec is not None:
            self.used.add(spec.key)
            return spec.key, _concrete(dict(spec.where)), spec.leaf, text, spec
        if not label:
            self.problem("无法识别的行 (没有标签)")
            return None
        if "classes" in self.kinds:
            classes = next(s for s in self.specs if s.kind == "classes")
            for code in class_codes(classes):
                if label[0] == class_label(code, classes.label_format, classes.only):
                    return f"class:{code}", {}, False, text, None
            name = _ORDINAL.sub("", _normal(label[0]))
            for code in class_codes(classes):
                if name == _normal(classification.functional().name(code)):
                    return f"class:{code}", {}, False, text, None
        tree = next((s for s in self.specs if s.kind == "tree_code"), None)
        if tree is not None:
            if tree.split:
                code, name = "".join(label[:3]), (label[3] if len(label) > 3 else "")
            else:
                code, name = label[0], (label[1] if len(label) > 1 else "")
            if code[:1].isdigit():
                return self._code(code, name, tree)
        economic = next((s for s in self.specs if s.kind == "tree_economic_code"), None)
        if economic is not None and label[0][:1].isdigit():
            return self._economic_code(label[0] + (label[1] if len(label) > 2 else ""),
                                       label[2] if len(label) > 2 else label[-1], economic)
        if "tree_economic" in self.kinds:
            dept_name, gov_name = label[0], (label[1] if len(label) > 1 else "")
            if not gov_name:
                group = classification.economic_departmental().code_for(dept_name, length=3)
                if group is None:
                    self.problem(f"未知的部门经济分类类级科目「{dept_name}」")
                    return None
                return f"econ:{group}", {}, False, dept_name, None
            try:
                dept, gov = classification.resolve_economic(f"{dept_name}/{gov_name}")
            except LookupError as exc:
                self.problem(str(exc))
                return None
            key = f"econ:{dept}/{gov}"
            if key in self.used:
                self.problem(f"经济科目「{dept_name}/{gov_name}」重复出现")
                return None
            self.used.add(key)
            return key, {"economic": dept, "gov_economic": gov}, True, f"{dept_name}/{gov_name}", None
        if label[0] and ({"each_unit", "tree_unit_project"} & self.kinds):
            wrong = label_problem(label[0])
            if wrong:
                self.problem(wrong)
                return None
        if "each_unit" in self.kinds and label[0]:
            if label[0] in self.out.units:
                self.problem(f"单位「{label[0]}」重复出现")
                return None
            self.out.units.append(label[0])
            return f"unit:{label[0]}", {"unit": label[0]}, False, label[0], None
        if "tree_unit_project" in self.kinds and label[0]:
            if label[0] in self.ctx["units"]:
                self.unit = label[0]
                return f"unit:{label[0]}", {"unit": label[0]}, False, label[0], None
            if self.unit is None:
                self.problem(f"项目「{label[0]}」之前没有单位行")
                return None
            if (label[0], self.unit) in self.projects_seen:
                self.problem(f"项目「{label[0]}」重复出现")
                return None
            self.projects_seen.add((label[0], self.unit))
            self.out.projects.append((label[0], self.unit))
            return f"project:{label[0]}", {"project": label[0], "unit": self.unit}, True, label[0], None
        self.problem(f"无法识别的行「{text}」")
        return None

    def _code(self, code: str, name: str, tree: RowSpec) -> tuple[str, dict[str, str], bool, str, None] | None:
        catalogue = classification.functional()
        if not code.isdigit() or len(code) not in (3, 5, 7):
            self.problem(f"科目编码应为3、5或7位数字: 「{code}」")
            return None
        if code not in catalogue:
            self.problem(f"未知的功能分类科目编码 {code}「{name}」")
            return None
        if catalogue.name(code) != name and _normal(catalogue.name(code)) != _normal(name):
            self.problem(f"科目 {code} 的名称应为「{catalogue.name(code)}」, 文件写的是「{name}」")
            return None
        if code in self.codes_seen:
            self.problem(f"科目编码 {code} 重复出现")
            return None
        self.codes_seen.add(code)
        return f"code:{code}", {"code": code}, len(code) == 7, f"{code} {name}", None

    def _economic_code(self, code: str, name: str,
                       spec: RowSpec) -> tuple[str, dict[str, str], bool, str, None] | None:
        catalogue = classification.economic_departmental()
        if not code.isdigit() or len(code) not in (3, 5):
            self.problem(f"经济分类科目编码应为3或5位数字: 「{code}」")
            return None
        if code not in catalogue:
            self.problem(f"未知的部门经济分类科目 {code}「{name}」")
            return None
        if _normal(catalogue.name(code)) != _normal(name):
            self.problem(f"经济科目 {code} 的名称应为「{catalogue.name(code)}」, 文件写的是「{name}」")
            return None
        if (spec.items and code not in spec.items) or (spec.only and code[:3] not in spec.only):
            self.problem(f"经济科目 {code}「{name}」不属于本栏")
            return None
        key = f"econ:{code}"
        if key in self.used:
            self.problem(f"经济科目 {code} 重复出现")
            return None
        self.used.add(key)
        return key, ({"economic": code} if len(code) == 5 else {}), len(code) == 5, f"{code} {name}", None


def _has_amounts(amounts: list[str]) -> bool:
    return any(_NUMBER.match(a.strip()) for a in amounts if a.strip())


def read_table(printed: PrintedTable, ctx: dict[str, Any], problems: list[Problem],
               money: MoneyFormat = WAN) -> ReadTable:
    table = printed.definition
    out = ReadTable(table.number)
    readers = [_PanelReader(table, panel, ctx, out, problems) for panel in table.panels]
    total_width = sum(panel.width for panel in table.panels)
    in_header = not printed.header_known
    for row in printed.rows:
        cells = row.cells
        extra = [c for c in cells[total_width:] if c]
        if extra:
            problems.append(Problem(row.line or None, f"多出的单元格: {' | '.join(extra)}", table.name,
                                    location=row.where(total_width)))
            continue
        cells = cells + [""] * (total_width - len(cells))
        if in_header:
            # The grid's header rows come first (their number varies with how a PDF merges
            # cells): a row that reads as no row of the table and holds no amount.
            if not _reads(readers, table, cells, row):
                if _has_amounts(_amount_texts(table, cells)):
                    in_header = False  # a data row that cannot be read: say so below
                else:
                    continue
            in_header = False
        offset = 0
        for panel, reader in zip(table.panels, readers, strict=True):
            part = cells[offset: offset + panel.width]
            first = offset
            offset += panel.width
            label, amounts = part[: panel.label_width], part[panel.label_width:]
            if not any(label) and not any(amounts):
                continue
            found = reader.identify(label, row.line, row.where(first))
            if found is None:
                continue
            key, row_dims, leaf_row, row_label, spec = found
            for j, (column, text) in enumerate(zip(panel.columns, amounts, strict=True)):
                at = row.where(first + panel.label_width + j) if row.cell_locations else row.location
                value = parse_amount_cell(text, row.line, table.name, f"{row_label} {column.label}", problems, money,
                                          at)
                cell = PrintedCell(table.number, f"{panel.index}/{key}", column.key, value, row.line, row_label,
                                   column.label.format(year=ctx["year"]), at)
                out.cells[(cell.row, cell.column)] = cell
                if not (panel.records and leaf_row and column.leaf and value != 0):
                    continue
                remainder = column.remainder if spec is None else (spec.remainder if spec.remainder is not None
                                                                  else None)
                dims = {**_concrete(dict(table.where)), **_concrete(dict(panel.where)), **row_dims,
                        **_concrete(dict(column.where)), **(remainder or {})}
                out.leaves.append(Leaf(cell, dims, remainder is not None))
    if printed.empty_note_line is not None or printed.empty_note_location is not None:
        if not out.empty:
            first = min((c for c in out.cells.values() if c.value != 0), key=lambda c: (c.line, str(c.location)))
            problems.append(Problem(printed.empty_note_line or None,
                                    f"表注明「本表无数据」, 但{first.where().describe()} {first.row_label} "
                                    f"{first.column_label} 有金额 {first.value}", table.name,
                                    location=printed.empty_note_location))
    return out


def _amount_texts(table: TableDef, cells: list[str]) -> list[str]:
    out, offset = [], 0
    for panel in table.panels:
        out += cells[offset + panel.label_width: offset + panel.width]
        offset += panel.width
    return out


def _reads(readers: list[_PanelReader], table: TableDef, cells: list[str], row: PrintedRow) -> bool:
    """Whether some panel part of the row reads as a row of the table (tried quietly, nothing
    noted: a fixed row found is not taken)."""
    offset = 0
    for panel, reader in zip(table.panels, readers, strict=True):
        label = cells[offset: offset + panel.label_width]
        offset += panel.width
        if not any(label):
            continue
        state = (set(reader.used), set(reader.codes_seen), set(reader.projects_seen), reader.unit,
                 list(reader.out.units), list(reader.out.projects))
        found = reader.identify(label, row.line, row.location, quiet=True)
        (reader.used, reader.codes_seen, reader.projects_seen, reader.unit, reader.out.units,
         reader.out.projects) = state
        if found is not None:
            return True
    return False


def read_as_one_unit(read_doc: Any, category: str, *, every_leaf: bool = False
                     ) -> tuple[dict[int, ReadTable], list[dict[str, str]], frozenset[str]]:
    """The tables of a document that are one unit's (the document's department or unit, of this
    category): each table read in its layout's money, the leaves on the economic axis (every
    leaf, for a unit's own document) carrying the unit; every problem found refuses it. Returns
    the tables, the units and the agency units among them."""
    department = read_doc.department
    units = [{"name": department, "category": category}]
    ctx: dict[str, Any] = {"department": department, "year": read_doc.fiscal_year, "units": [department]}
    problems: list[Problem] = []
    read = {number: read_table(printed, ctx, problems, read_doc.layout.money)
            for number, printed in read_doc.tables.items()}
    if problems:
        raise DocumentRejected(problems)
    for table in read.values():
        for leaf in table.leaves:
            if every_leaf or "economic" in leaf.dims:
                leaf.dims["unit"] = department
    return read, units, classification.agency_units(units)
