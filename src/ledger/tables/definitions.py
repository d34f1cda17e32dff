"""Load the declarative table definitions in projections/ and answer, for one posting,
which cells of which tables it feeds.

A definition (YAML) names: number, title, a filter (where), literal header rows, and
one or more panels (side-by-side halves, as in 表一) of rows and columns. Row kinds:

  {key, label, where}          a fixed row, always printed
  {tree: code}                 the functional classification: 类, 款, 项 rows present
                               (split: true prints the code in three cells 类 款 项)
  {classes: code, label}       every 类 of the functional classification (表一, 表四);
                               only: [codes] prints those (a layout's own list)
  {tree: economic}             departmental economic classes with their (部门, 政府) pairs
  {tree: economic_code}        departmental economic classes and items by code, 类 and 款 in
                               cells of their own (决算): groups: [codes] prints the classes
                               given and their items present; items: [codes] prints exactly
                               these classes and items, in this order, present or not

Any row kind may have a `where` (a filter the row's postings must also match); a fixed row
may have `aliases` (other labels it is printed with).
  {each: unit}                 one row per unit
  {tree: unit_project}         one row per unit, followed by its projects
  {blank: true}                an empty row (keeps the two panels of 表一 aligned)

Columns are filters. `leaf: true` marks the columns (and fixed rows) whose printed cells
are recorded as postings by an import; the other cells are sums and are only checked.
`remainder: {dims}` on a leaf column (for the leaf rows of a tree) or on a fixed row (for
its leaf columns) records instead what the printed cell holds beyond the postings other
tables record into it, with these dimensions added: the non-fiscal part of a 决算 table of
all funds whose fiscal part other tables give, for instance.

Header rows are the printed grid, one entry per column of the table (all panels): a label,
"<" where the cell to the left continues (a merged cell spanning columns), "^" where the cell
above continues (spanning rows), "" for a cell left empty. Merged cells are rectangles.
`TableDef.header` is the text of each row as printed (a continued cell is empty, trailing
empty cells left out); `TableDef.header_cells` gives each label with its place and spans.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..domain import classification
from ..domain.postings import matches

# libyaml's loader when PyYAML was built with it (the wheels are): the same documents, ~10x faster
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CN_DIGITS = "零一二三四五六七八九"


def chinese_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 30 → 三十 (enough for the 类 list)."""
    tens, ones = divmod(n, 10)
    text = ("" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十"))
    return text + (CN_DIGITS[ones] if ones else "") if n else "零"


@dataclass(frozen=True)
class Column:
    key: str
    where: Mapping[str, Any]
    leaf: bool
    label: str
    remainder: Mapping[str, str] | None = None  # record cell − other tables' postings in it


@dataclass(frozen=True)
class RowSpec:
    kind: str  # fixed | tree_code | classes | tree_economic | each_unit | tree_unit_project | blank
    key: str = ""
    label: tuple[str, ...] = ()
    where: Mapping[str, Any] = field(default_factory=dict)
    leaf: bool = False
    label_format: str = ""
    show_empty: bool = True
    split: bool = False  # tree_code: the code in three cells (类, 款, 项)
    only: tuple[str, ...] = ()  # classes: the 类 printed; tree_economic_code: the classes
    items: tuple[str, ...] = ()  # tree_economic_code: exactly the rows printed (classes, items)
    aliases: tuple[str, ...] = ()  # fixed: other labels it is printed with
    remainder: Mapping[str, str] | None = None  # fixed: record cell − other tables' postings in it


@dataclass(frozen=True)
class Panel:
    index: int
    label_width: int
    columns: tuple[Column, ...]
    rows: tuple[RowSpec, ...]
    footer: tuple[RowSpec, ...]
    where: Mapping[str, Any]
    records: bool

    @property
    def width(self) -> int:
        return self.label_width + len(self.columns)


CONTINUES_LEFT, CONTINUES_ABOVE = "<", "^"


@dataclass(frozen=True)
class HeaderCell:
    """One printed header cell: its text, its top-left place in the header grid, its spans."""

    row: int
    column: int
    text: str
    rowspan: int = 1
    colspan: int = 1


class DefinitionError(ValueError):
    """A table definition the engine cannot use; the message names the file and the place."""


@dataclass(frozen=True)
class TableDef:
    number: int
    name: str  # 表一 …
    title: str
    where: Mapping[str, Any]
    header: tuple[tuple[str, ...], ...]  # text as printed: a continued cell is "", no trailing ""
    panels: tuple[Panel, ...]
    aliases: tuple[str, ...] = ()  # other titles the table is printed under
    header_cells: tuple[HeaderCell, ...] = ()

    @property
    def width(self) -> int:
        return sum(panel.width for panel in self.panels)

    def title_for(self, year: int) -> str:
        return self.title.format(year=year)


def projections_dir() -> Path:
    """projections/ at the top of the repository, or the copy packaged with the wheel."""
    override = os.environ.get("LEDGER_PROJECTIONS_DIR")
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[3] / "projections"
    if repo.is_dir():
        return repo
    return Path(str(resources.files("ledger").joinpath("_projections")))


def _row(spec: Mapping[str, Any]) -> RowSpec:
    if spec.get("blank"):
        return RowSpec("blank")
    where = spec.get("where", {}) or {}
    if "tree" in spec:
        kind = {"code": "tree_code", "economic": "tree_economic", "economic_code": "tree_economic_code",
                "unit_project": "tree_unit_project"}[spec["tree"]]
        items = tuple(str(c) for c in spec.get("items", ()))
        groups = tuple(str(c) for c in spec.get("groups", ())) or tuple(c for c in items if len(c) == 3)
        return RowSpec(kind, where=where, split=bool(spec.get("split", False)), only=groups, items=items)
    if "classes" in spec:
        return RowSpec("classes", where=where, label_format=spec.get("label", "{ordinal}、{name}"),
                       only=tuple(str(c) for c in spec.get("only", ())))
    if "each" in spec:
        return RowSpec("each_unit", where=where)
    label = spec["label"]
    label = (label,) if isinstance(label, str) else tuple(label)
    aliases = tuple(spec.get("aliases", ()))
    remainder = spec.get("remainder")
    return RowSpec("fixed", key=spec["key"], label=label, where=where,
                   leaf=bool(spec.get("leaf", False)) or remainder is not None,
                   show_empty=bool(spec.get("show_empty", True)), aliases=aliases,
                   remainder=dict(remainder) if remainder is not None else None)


def _panel(index: int, spec: Mapping[str, Any]) -> Panel:
    columns = tuple(
        Column(c["key"], c.get("where", {}) or {}, bool(c.get("leaf", False)), c.get("label", c["key"]),
               dict(c["remainder"]) if c.get("remainder") is not None else None)
        for c in spec["columns"]
    )
    return Panel(
        index=index,
        label_width=int(spec.get("label_width", 2)),
        columns=columns,
        rows=tuple(_row(r) for r in spec.get("rows", [])),
        footer=tuple(_row(r) for r in spec.get("footer", [])),
        where=spec.get("where", {}) or {},
        records=bool(spec.get("records", False)),
    )


def header_cells(grid: list[list[str]], width: int, where: str = "") -> tuple[HeaderCell, ...]:
    """The merged cells of a header grid written with "<" and "^" (see the module docstring)."""
    origin: dict[tuple[int, int], tuple[int, int]] = {}
    for r, row in enumerate(grid):
        if len(row) != width:
            raise DefinitionError(f"{where}表头第{r + 1}行有 {len(row)} 格, 表宽 {width} 格 (每格写标签、\"<\"、\"^\" 或 \"\")")
        for c, text in enumerate(row):
            if text == CONTINUES_LEFT:
                if c == 0:
                    raise DefinitionError(f"{where}表头第{r + 1}行第1格: 左边没有可延续的格")
                origin[r, c] = origin[r, c - 1]
            elif text == CONTINUES_ABOVE:
                if r == 0:
                    raise DefinitionError(f"{where}表头第1行第{c + 1}格: 上边没有可延续的格")
                origin[r, c] = origin[r - 1, c]
            else:
                origin[r, c] = (r, c)
    covered: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for place, start in origin.items():
        covered.setdefault(start, []).append(place)
    cells = []
    for (r0, c0), places in sorted(covered.items()):
        rows = {r for r, _ in places}
        cols = {c for _, c in places}
        rowspan, colspan = max(rows) - r0 + 1, max(cols) - c0 + 1
        if len(places) != rowspan * colspan:
            raise DefinitionError(f"{where}表头第{r0 + 1}行第{c0 + 1}格「{grid[r0][c0]}」的合并格不是矩形")
        cells.append(HeaderCell(r0, c0, grid[r0][c0], rowspan, colspan))
    return tuple(cells)


def _printed(row: list[str]) -> tuple[str, ...]:
    """A header row's text as the tables print it (TSV, CSV, JSON `header`): a continued cell
    is empty and trailing empty cells are left out, so the bytes that publications' digests
    were taken over stay the same."""
    cells = ["" if c in (CONTINUES_LEFT, CONTINUES_ABOVE) else c for c in row]
    while cells and cells[-1] == "":
        cells.pop()
    return tuple(cells)


def _table(data: Mapping[str, Any], where: str = "") -> TableDef:
    panels_spec = data.get("panels") or [
        {k: data[k] for k in ("columns", "rows", "footer", "label_width", "records") if k in data}
    ]
    panels = tuple(_panel(i, p) for i, p in enumerate(panels_spec))
    grid = [[str(c) for c in row] for row in data.get("header", [])]
    cells = header_cells(grid, sum(p.width for p in panels), where)
    return TableDef(
        number=int(data["number"]),
        name=data["name"],
        title=data["title"],
        where=data.get("where", {}) or {},
        header=tuple(_printed(row) for row in grid),
        panels=panels,
        aliases=tuple(data.get("aliases", ())),
        header_cells=cells,
    )


@cache
def load_tables(directory: str | None = None) -> tuple[TableDef, ...]:
    folder = Path(directory) if directory else projections_dir()
    tables = []
    for path in sorted(folder.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=SafeLoader)
        if isinstance(data, dict) and "number" in data:
            tables.append(_table(data, where=f"{path.name}: "))
    tables.sort(key=lambda t: t.number)
    return tuple(tables)


def find_table(number: int) -> TableDef | None:
    """The definition of a table by its number (表三 is 3), or None."""
    return next((t for t in load_tables() if t.number == number), None)


# --------------------------------------------------------------------------- the fold


def row_keys(spec: RowSpec, dims: Mapping[str, str]) -> list[str]:
    """The rows of one row spec that a posting feeds."""
    kind = spec.kind
    if spec.where and not matches(dims, spec.where):
        return []
    if kind == "fixed":
        return [spec.key]
    if kind == "tree_code":
        code = dims.get("code")
        if code is None:
            return []
        return [f"code:{code[:n]}" for n in (3, 5, 7) if len(code) >= n]
    if kind == "classes":
        code = dims.get("code")
        return [f"class:{code[:3]}"] if code and (not spec.only or code[:3] in spec.only) else []
    if kind == "tree_economic":
        econ, gov = dims.get("economic"), dims.get("gov_economic")
        if econ is None or gov is None:
            return []
        return [f"econ:{econ[:3]}", f"econ:{econ}/{gov}"]
    if kind == "tree_economic_code":
        econ = dims.get("economic")
        if econ is None or (spec.only and econ[:3] not in spec.only) or (spec.items and econ not in spec.items):
            return []
        return [f"econ:{econ[:3]}", f"econ:{econ}"]
    if kind == "each_unit":
        unit = dims.get("unit")
        return [f"unit:{unit}"] if unit else []
    if kind == "tree_unit_project":
        keys = []
        if dims.get("unit"):
            keys.append(f"unit:{dims['unit']}")
        if dims.get("project"):
            keys.append(f"project:{dims['project']}")
        return keys
    return []


def cells_for(dims: Mapping[str, str], tables: tuple[TableDef, ...] | None = None) -> list[tuple[int, str, str]]:
    """Every (table, row, column) cell that a posting with these dimensions adds to."""
    out: list[tuple[int, str, str]] = []
    for table in tables or load_tables():
        if not matches(dims, table.where):
            continue
        for panel in table.panels:
            if not matches(dims, panel.where):
                continue
            cols = [c.key for c in panel.columns if matches(dims, c.where)]
            if not cols:
                continue
            for spec in panel.rows + panel.footer:
                for row in row_keys(spec, dims):
                    for col in cols:
                        out.append((table.number, f"{panel.index}/{row}", col))
    return out


def cells_of(dims: tuple[tuple[str, str], ...], is_agency: bool,
             folder: str | None = None) -> tuple[tuple[int, str, str], ...]:
    """The cells a leaf (canonical dimensions) feeds, of a unit that is an agency or not, in
    the tables of a folder (the default: projections/); the one cache of cell lookups (a
    budget has ~150 distinct leaves, a store some thousands)."""
    return _cells_of(dims, is_agency, folder)


@lru_cache(maxsize=40000)
def _cells_of(dims_t: tuple[tuple[str, str], ...], is_agency: bool,
              folder: str | None) -> tuple[tuple[int, str, str], ...]:
    dims = dict(dims_t)
    templates = _templates(folder)
    if templates is not None:
        return tuple(templates.cells(dims, is_agency))
    return tuple(cells_for(unit_context(dims, {dims["unit"]} if is_agency else set()), load_tables(folder)))


@cache
def _templates(folder: str | None) -> CellTemplates | None:
    return CellTemplates.for_tables(load_tables(folder))


def spread(leaves: Iterable[tuple[tuple[tuple[str, str], ...], Decimal]], agency: frozenset[str],
           folder: str | None = None,
           measures: frozenset[str] = frozenset({"budget"})) -> dict[int, dict[tuple[str, str], Decimal]]:
    """Cells of every table of a folder from leaves' amounts: (table → (row, column) → 元).
    Only the measures the tables show are spread (the budget; for 决算, what was executed and
    the budget the document states beside it)."""
    out: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(dict)
    for dims_t, amount in leaves:
        dims = dict(dims_t)
        if dims.get("measure") not in measures:
            continue
        for table_no, row_key, col_key in _cells_of(dims_t, dims.get("unit") in agency, folder):
            cell = out[table_no]
            cell[(row_key, col_key)] = cell.get((row_key, col_key), Decimal(0)) + amount
    return out


def unit_context(dims: Mapping[str, str], agency_units: set[str] | frozenset[str]) -> dict[str, str]:
    """Dimensions derived from the budget's registry: whether the unit is an agency
    (行政单位 or 参公事业单位), whose operating cost is its 机关运行经费."""
    if dims.get("unit") in agency_units:
        return {**dims, "agency": "yes"}
    return dict(dims)


@cache
def class_label(code: str, label_format: str, only: tuple[str, ...] = ()) -> str:
    """A 类 row's label, numbered in the list the table prints (all 类, or `only`)."""
    codes = list(only) or [c for c, _ in classification.functional_classes()]
    index = codes.index(code) + 1
    return label_format.format(ordinal=chinese_ordinal(index), name=classification.functional().name(code))


def class_codes(spec: RowSpec) -> list[str]:
    """The 类 a classes row spec prints, in order."""
    return list(spec.only) or [c for c, _ in classification.functional_classes()]


def code_cells(code: str, split: bool) -> list[str]:
    """A functional code as printed: one cell, or three (类, 款, 项)."""
    if not split:
        return [code]
    return [code[:3], code[3:5], code[5:7]]


class CellTemplates:
    """The cells of a line, computed once per line with its unit and project names left
    out. Names only appear in row keys ("unit:NAME", "project:NAME"): no filter tests a
    name, so lines that differ only by names feed the same cells up to those names, and
    the engine runs once per classification pattern instead of once per named line."""

    UNIT, PROJECT = "\x00unit\x00", "\x00project\x00"

    def __init__(self, tables: tuple[TableDef, ...]):
        self.tables = tables
        self._memo: dict[tuple[tuple[tuple[str, str], ...], bool], tuple[list[Any], list[Any]]] = {}

    @classmethod
    def for_tables(cls, tables: tuple[TableDef, ...]) -> CellTemplates | None:
        """Templates, or None when some definition filters on a unit or project name."""
        filters = [t.where for t in tables]
        for t in tables:
            for panel in t.panels:
                filters += [panel.where, *(c.where for c in panel.columns),
                            *(r.where for r in panel.rows + panel.footer)]
        for where in filters:
            for name in ("unit", "project"):
                if where.get(name, True) not in (True, False, None):
                    return None
        return cls(tables)

    def cells(self, dims: dict[str, str], is_agency: bool) -> list[tuple[int, str, str]]:
        _key, fixed, named = self.parts(dims, is_agency)
        return fixed + named if named else fixed

    def parts(self, dims: dict[str, str], is_agency: bool) -> tuple[Any, list[tuple[int, str, str]],
                                                                     list[tuple[int, str, str]]]:
        """The line's classification pattern (names left out), the cells every line of that
        pattern feeds, and the cells that carry this line's unit or project name."""
        key, fixed, named = self.pattern(dims, is_agency)
        return key, fixed, self.named(named, dims.get("unit"), dims.get("project"))

    def pattern(self, dims: dict[str, str], is_agency: bool) -> tuple[Any, list[tuple[int, str, str]],
                                                                       list[tuple[int, str, str]]]:
        """The pattern, its cells, and its cells with the names left as placeholders (the same
        list objects for every line of the pattern)."""
        general = dict(dims)
        if general.get("unit") is not None:
            general["unit"] = self.UNIT
        if general.get("project") is not None:
            general["project"] = self.PROJECT
        key = (tuple(general.items()), is_agency)
        memo = self._memo.get(key)
        if memo is None:
            agency = {self.UNIT} if is_agency else set()
            fixed, named = [], []
            for cell in cells_for(unit_context(general, agency), self.tables):
                (named if "\x00" in cell[1] else fixed).append(cell)
            memo = self._memo[key] = (fixed, named)
        return key, memo[0], memo[1]

    def named(self, named: list[tuple[int, str, str]], unit: str | None,
              project: str | None) -> list[tuple[int, str, str]]:
        """The pattern's named cells with this line's names put in."""
        return [(t, row.replace(self.UNIT, unit or "").replace(self.PROJECT, project or ""), col)
                for t, row, col in named]
