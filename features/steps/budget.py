"""What the scenarios talk about, in the ledger's terms: the reference budget, its tables and
their cells as printed, and budget lines named the way a budget officer names them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.application.commands import LineSpec, ProcurementLine, ThreePublicLine
from ledger.domain.classification import PROCUREMENT_LABELS, THREE_PUBLIC_LABELS
from ledger.tables.definitions import TableDef, load_tables
from ledger.readmodel.lineage import cell_labels, find_cell
from ledger.readmodel.queries import Point
from ledger.tables.render import RenderedRow, RenderedTable

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "changzhi-hpf-2024-budget.txt"
DEPARTMENT = "长治市住房公积金管理中心"
YEAR = 2024


@dataclass
class Story:
    """What a scenario has done so far, on its own fresh store."""

    ledger: Any
    document: str | None = None  # the disclosure text a scenario prepares (a changed copy)
    changed_lines: list[int] = field(default_factory=list)
    refusal: Exception | None = None
    recorded: list[Any] = field(default_factory=list)  # Recorded of each accepted command
    imported: Any = None  # ImportResult of the last import
    position_before: int = 0  # the last position before the latest command
    marks: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- tables


def table_def(name: str) -> TableDef:
    for table in load_tables():
        if table.name == name:
            return table
    raise LookupError(f"没有{name}")


@dataclass(frozen=True)
class Cell:
    table: str
    row: str  # row key
    column: str  # column key
    amount: Decimal  # exact 元
    printed: str  # as the table prints it: 万元 with two decimals, '' for zero
    where: str = ""  # 表三「210 卫生健康支出」的「合计」

    def __str__(self) -> str:
        return f"{self.where} (精确 {self.amount} 元, 印为 {self.printed or '空'})"


def render(ledger, name: str, point: Point | None = None) -> tuple[TableDef, RenderedTable]:
    definition = table_def(name)
    return definition, ledger.tables(DEPARTMENT, YEAR, number=definition.number, point=point)[0]


def printed_at(definition: TableDef, row: RenderedRow, key: str, column: str) -> str:
    offset = 0
    for panel, (_index, k) in zip(definition.panels, row.keys, strict=True):
        if k == key:
            return row.cells[offset + panel.label_width + [c.key for c in panel.columns].index(column)]
        offset += panel.width
    raise LookupError(key)


def cells_of(definition: TableDef, table: RenderedTable) -> dict[tuple[str, str], Cell]:
    labels = cell_labels(definition, table)
    out = {}
    for row in table.rows:
        for key, column, amount in row.amounts:
            row_label, column_label = labels.get((key, column), (key, column))
            out[(key, column)] = Cell(definition.name, key, column, amount, printed_at(definition, row, key, column),
                                      f"{definition.name}「{row_label}」的「{column_label}」")
    return out


def read_cell(ledger, name: str, row: str, column: str, point: Point | None = None) -> Cell:
    """A cell found the way the CLI and the API find it: by row label or code and column label."""
    definition, table = render(ledger, name, point)
    key, col, _row_label, _col_label = find_cell(definition, table, row, column)
    return cells_of(definition, table)[(key, col)]


def printed_value(cell: Cell) -> Decimal:
    return Decimal(cell.printed) if cell.printed else Decimal("0.00")


def assert_printed(cell: Cell, expected: Decimal | str) -> None:
    expected = Decimal(str(expected))
    want = "" if expected == 0 else f"{expected:.2f}"
    assert cell.printed == want, f"{cell.where} 应印为 {want or '空'}, 实际 {cell}"


LEVELS = {"各类": ("code", 3), "各款": ("code", 5), "各项": ("code", 7), "各经济分类": ("econ", 3),
          "各明细科目": ("econ", None)}


def descendants(cells: Iterable[tuple[str, str]], key: str, level: str) -> list[str]:
    """Row keys one level of the classification under a row ('0/code:208' → its 款 or 项; a
    total row → every 类); the same panel only."""
    panel, _, name = key.partition("/")
    axis, width = LEVELS[level]
    parent = name.split(":", 1)[1] if ":" in name else ""
    out = []
    for k in sorted({k for k, _c in cells}):
        p, _, n = k.partition("/")
        if p != panel or not n.startswith(axis + ":"):
            continue
        code = n.split(":", 1)[1]
        if axis == "econ":
            is_level = ("/" in code) if width is None else ("/" not in code and len(code) == width)
        else:
            is_level = len(code) == width
        if is_level and code.startswith(parent) and code != parent:
            out.append(k)
    return out


# ------------------------------------------------------------------------------ lines

_KINDS = {"基本支出": "basic", "项目支出": "project"}
_COSTS = {"人员经费": "personnel", "公用经费": "operating"}
_SOURCES = {"一般公共预算": "general", "政府性基金预算": "government_fund", "国有资本经营预算": "state_capital",
            "财政专户管理资金": "special_account", "单位资金": "unit_funds"}


_THREE_PUBLIC = {label: key for key, label in THREE_PUBLIC_LABELS.items()}
_PROCUREMENT = {label: key for key, label in PROCUREMENT_LABELS.items()}


def line_spec(text: str) -> LineSpec | ThreePublicLine | ProcurementLine:
    """'2210399 基本支出 基本工资/工资奖金津补贴 人员经费' or '2210302 项目支出 项目:业务费' (and
    optionally a source such as 单位资金) as the command's line; '“三公”经费 公务接待费' (and
    optionally its source) a “三公”经费 item of 表十; '政府采购 货物' a 政府采购 category.
    Unknown codes are left for the command's own validation to refuse."""
    words = text.split()
    if words and words[0] == "“三公”经费":
        fields3: dict[str, Any] = {}
        for word in words[1:]:
            if word in _THREE_PUBLIC:
                fields3["three_public"] = _THREE_PUBLIC[word]
            elif word in _SOURCES:
                fields3["source"] = _SOURCES[word]
            else:
                raise ValueError(f"不认识的“三公”经费写法: {word!r} (于「{text}」)")
        return ThreePublicLine(**fields3)
    if words and words[0] == "政府采购":
        if len(words) != 2 or words[1] not in _PROCUREMENT:
            raise ValueError(f"不认识的政府采购写法: 「{text}」 (应为 政府采购 货物|工程|服务)")
        return ProcurementLine(procurement=_PROCUREMENT[words[1]])
    fields: dict[str, Any] = {}
    for word in text.split():
        if word.isdigit():
            fields["code"] = word
        elif word in _KINDS:
            fields["kind"] = _KINDS[word]
        elif word in _COSTS:
            fields["cost"] = _COSTS[word]
        elif word in _SOURCES:
            fields["source"] = _SOURCES[word]
        elif word.startswith("项目:"):
            fields["project"] = word.removeprefix("项目:")
        elif "/" in word:
            fields["economic"] = word
        else:
            raise ValueError(f"不认识的预算行写法: {word!r} (于「{text}」)")
    return LineSpec(**fields)
