"""Load the declarative table definitions in projections/ and answer, for one posting,
which cells of which tables it feeds.

A definition (YAML) names: number, title, a filter (where), literal header rows, and
one or more panels (side-by-side halves, as in 表一) of rows and columns. Row kinds:

  {key, label, where}          a fixed row, always printed
  {tree: code}                 the functional classification: 类, 款, 项 rows present
  {classes: code, label}       every 类 of the functional classification (表一, 表四)
  {tree: economic}             departmental economic classes with their (部门, 政府) pairs
  {each: unit}                 one row per unit
  {tree: unit_project}         one row per unit, followed by its projects
  {blank: true}                an empty row (keeps the two panels of 表一 aligned)

Columns are filters. `leaf: true` marks the columns (and fixed rows) whose printed cells
are recorded as postings by an import; the other cells are sums and are only checked.

Header rows are the printed grid, one entry per column of the table (all panels): a label,
"<" where the cell to the left continues (a merged cell spanning columns), "^" where the cell
above continues (spanning rows), "" for a cell left empty. Merged cells are rectangles.
`TableDef.header` is the text of each row as printed (a continued cell is empty, trailing
empty cells left out); `TableDef.header_cells` gives each label with its place and spans.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..domain import classification
from ..domain.postings import matches

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


@dataclass(frozen=True)
class RowSpec:
    kind: str  # fixed | tree_code | classes | tree_economic | each_unit | tree_unit_project | blank
    key: str = ""
    label: tuple[str, ...] = ()
    where: Mapping[str, Any] = field(default_factory=dict)
    leaf: bool = False
    label_format: str = ""
    show_empty: bool = True


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
    empty_note: bool
    aliases: tuple[str, ...]
    preamble: tuple[str, ...]
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
    if "tree" in spec:
        return RowSpec({"code": "tree_code", "economic": "tree_economic",
                        "unit_project": "tree_unit_project"}[spec["tree"]])
    if "classes" in spec:
        return RowSpec("classes", label_format=spec.get("label", "{ordinal}、{name}"))
    if "each" in spec:
        return RowSpec("each_unit")
    label = spec["label"]
    label = (label,) if isinstance(label, str) else tuple(label)
    return RowSpec("fixed", key=spec["key"], label=label, where=spec.get("where", {}) or {},
                   leaf=bool(spec.get("leaf", False)), show_empty=bool(spec.get("show_empty", True)))


def _panel(index: int, spec: Mapping[str, Any]) -> Panel:
    columns = tuple(
        Column(c["key"], c.get("where", {}) or {}, bool(c.get("leaf", False)), c.get("label", c["key"]))
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
        empty_note=bool(data.get("empty_note", True)),
        aliases=tuple(data.get("aliases", [])),
        preamble=tuple(data.get("preamble", [])),
        header_cells=cells,
    )


@cache
def load_tables(directory: str | None = None) -> tuple[TableDef, ...]:
    folder = Path(directory) if directory else projections_dir()
    tables = []
    for path in sorted(folder.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        if isinstance(data, dict) and "number" in data:
            tables.append(_table(data, where=f"{path.name}: "))
    tables.sort(key=lambda t: t.number)
    return tuple(tables)


def table_by_number(number: int) -> TableDef:
    for table in load_tables():
        if table.number == number:
            return table
    raise LookupError(f"没有表{chinese_ordinal(number)} (共 {len(load_tables())} 张表)")


# --------------------------------------------------------------------------- the fold


def row_keys(spec: RowSpec, dims: Mapping[str, str]) -> list[str]:
    """The rows of one row spec that a posting feeds."""
    kind = spec.kind
    if kind == "fixed":
        return [spec.key] if matches(dims, spec.where) else []
    if kind == "tree_code":
        code = dims.get("code")
        if code is None:
            return []
        return [f"code:{code[:n]}" for n in (3, 5, 7) if len(code) >= n]
    if kind == "classes":
        code = dims.get("code")
        return [f"class:{code[:3]}"] if code else []
    if kind == "tree_economic":
        econ, gov = dims.get("economic"), dims.get("gov_economic")
        if econ is None or gov is None:
            return []
        return [f"econ:{econ[:3]}", f"econ:{econ}/{gov}"]
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


def unit_context(dims: Mapping[str, str], agency_units: set[str] | frozenset[str]) -> dict[str, str]:
    """Dimensions derived from the budget's registry: whether the unit is an agency
    (行政单位 or 参公事业单位), whose operating cost is its 机关运行经费."""
    if dims.get("unit") in agency_units:
        return {**dims, "agency": "yes"}
    return dict(dims)


@cache
def class_label(code: str, label_format: str) -> str:
    classes = classification.functional_classes()
    index = [c for c, _ in classes].index(code) + 1
    return label_format.format(ordinal=chinese_ordinal(index), name=classification.functional().name(code))


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
