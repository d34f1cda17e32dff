"""Lineage and diff: the events behind a cell, and what changed between two points."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from ..domain.postings import matches as posting_matches
from ..explain.model import Money
from ..tables.definitions import TableDef, cells_of
from ..tables.render import RenderedTable
from .queries import NotFound, PostingRow
from ..eventstore import timelimit


class Contribution(BaseModel):
    position: int
    event_id: str
    kind: str = Field(examples=["appropriation"])
    recorded_at: datetime
    effective: date | None
    amount: Money
    reason: str
    document_no: str | None = None
    provenance: dict[str, Any] | None = None
    actor: str | None = Field(None, description="记录人: HTTP 为令牌的 角色:名称, 命令行为 cli:用户名; 早期事件为空",
                              examples=["officer:alice"])


class Lineage(BaseModel):
    department: str
    fiscal_year: int
    table: int
    table_name: str = Field(examples=["表三"])
    title: str
    row: str = Field(description="行键", examples=["0/code:2210399"])
    row_label: str = Field(examples=["2210399 其他城乡社区住宅支出"])
    column: str = Field(examples=["basic"])
    column_label: str = Field(examples=["基本支出"])
    amount: Money
    contributions: list[Contribution] = Field(description="构成该格的事件 (按位置; 分页时为本页)")
    total: Money = Field(description="全部事件贡献之和 (不只本页), 等于该格金额")
    count: int = Field(0, description="构成该格的事件总数 (不只本页)", examples=[3])
    next_after: int | None = Field(None, description="下一页的游标 (传作 after); 没有更多时为空")


class CellChange(BaseModel):
    table: int
    table_name: str
    row: str
    row_label: str
    column: str
    column_label: str
    before: Money
    after: Money
    delta: Money
    events: list[Contribution] = Field(description="造成变化的事件 (按位置; 至多 events_limit 个)")
    events_count: int = Field(0, description="造成变化的事件总数; 多于所列时, 用该格的来历 (lineage) 分页读取")


class FigureLineage(BaseModel):
    """The events behind a figure of the explanation (情况说明的数, e.g. 政府采购, 三公经费):
    their contributions add up to it."""

    department: str
    fiscal_year: int
    figure: str = Field(examples=["procurement"])
    label: str = Field(examples=["政府采购"])
    amount: Money
    contributions: list[Contribution] = Field(description="构成该数的事件 (按位置; 分页时为本页)")
    total: Money = Field(description="全部事件贡献之和, 等于该数")
    count: int = Field(0, description="构成该数的事件总数")
    next_after: int | None = Field(None, description="下一页的游标 (传作 after)")


class FigureChange(BaseModel):
    figure: str
    label: str
    before: Money
    after: Money
    delta: Money
    events: list[Contribution] = Field(description="造成变化的事件 (按位置; 至多 events_limit 个)")
    events_count: int = 0


class Diff(BaseModel):
    department: str
    fiscal_year: int
    from_point: str
    to_point: str
    changes: list[CellChange] = Field(description="变化的格 (按表与行的顺序; 分页时为本页)")
    figures: list[FigureChange] = Field(default_factory=list, description=(
        "情况说明中变化的数 (合计、三公经费及各项、机关运行经费、政府采购及各类等; 不分页): 表中没有的数 "
        "(如政府采购) 的变化也在这里"))
    total: int = Field(0, description="变化的格的总数 (不只本页)")
    next_offset: int | None = Field(None, description="下一页的 offset; 没有更多时为空")


def cell_labels(table: TableDef, rendered: RenderedTable) -> dict[tuple[str, str], tuple[str, str]]:
    """(row key, column key) → (row label, column label) of every printed amount cell."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    year = rendered.title[:4]
    for row in rendered.rows:
        offset = 0
        for panel, (_index, key) in zip(table.panels, row.keys, strict=True):
            label = " ".join(c for c in row.cells[offset: offset + panel.label_width] if c)
            offset += panel.width
            if key is None:
                continue
            for column in panel.columns:
                out[(key, column.key)] = (label, column.label.format(year=year))
    return out


class AmbiguousRow(LookupError):
    """A row name that several rows of a table answer to; the message lists them by key."""

    def __init__(self, message: str, candidates: list[tuple[str, str]]):
        super().__init__(message)
        self.candidates = candidates  # (row key, row label)


def find_cell(table: TableDef, rendered: RenderedTable, row: str, column: str) -> tuple[str, str, str, str]:
    """Resolve a row (key, code, label, or one word of a label) and a column (label or key) of a
    printed table. The most exact way of naming a row wins (a key before a code, a whole label
    before one word of it); a name several rows answer to in the same way is refused, listing
    them, rather than silently taking the first."""
    labels = cell_labels(table, rendered)
    wanted = row.strip()
    row_labels: dict[str, str] = {}
    for (key, _col), (label, _cl) in labels.items():
        row_labels.setdefault(key, label)
    tiers = (
        lambda key, label: wanted == key,
        lambda key, label: wanted == key.split("/", 1)[1] or key.endswith(":" + wanted),
        lambda key, label: wanted in (label, label.replace(" ", "/")),
        lambda key, label: wanted in label.split(" "),
    )
    rows: list[str] = []
    for matches in tiers:
        rows = [key for key, label in row_labels.items() if matches(key, label)]
        if rows:
            break
    if not rows:
        raise NotFound(f"{table.name}中没有行「{row}」")
    if len(rows) > 1:
        candidates = [(key, row_labels[key]) for key in rows]
        listed = "、".join(f"{key} ({label})" for key, label in candidates)
        raise AmbiguousRow(f"{table.name}中有 {len(rows)} 行都叫「{wanted}」, 请用行键指定其中一行: {listed}", candidates)
    key = rows[0]
    for (k, col), (label, col_label) in labels.items():
        if k == key and column.strip() in (col, col_label):
            return key, col, label, col_label
    options = "、".join(cl for (k, _c), (_l, cl) in labels.items() if k == key)
    raise NotFound(f"{table.name}「{row_labels[key]}」没有列「{column}」(可选: {options})")


Cell = tuple[int, str, str]


@dataclass
class CellEvents:
    """The events behind a cell: some of them listed (first, net), and the count and sum of all."""

    listed: list[tuple[PostingRow, Decimal]] = field(default_factory=list)
    count: int = 0
    total: Decimal = Decimal("0.00")
    more: bool = False  # events after the listed ones


def events_by_cell(postings: Sequence[PostingRow], agency: frozenset[str], cells: set[Cell] | None = None, *,
                   after: int = 0, keep: int | None = None) -> dict[Cell, CellEvents]:
    """For each cell (or each of `cells`), the events whose postings feed it, with their net
    amount, in order of position (the postings' order); events that net to zero are left out
    (e.g. a transfer between two lines both under the cell). Listed: those after position
    `after`, at most `keep` of them; counted and summed: all.

    Postings are grouped by their leaf first: the cells a leaf feeds are looked up once, and
    cells fed by the same leaves (a line's code, section, class and total, say) share one
    netting, so a long history costs about its length, not its length once per cell."""
    by_leaf: dict[tuple[tuple[str, str], ...], list[PostingRow]] = defaultdict(list)
    for i, p in enumerate(postings):
        if not i % 4096:
            timelimit.check()
        if ("measure", "budget") in p.dims:
            by_leaf[p.dims].append(p)
    feeding: dict[Cell, list[tuple[tuple[str, str], ...]]] = defaultdict(list)
    for dims in by_leaf:
        for cell in cells_of(dims, dict(dims).get("unit") in agency):
            if cells is None or cell in cells:
                feeding[cell].append(dims)
    netted: dict[frozenset, CellEvents] = {}
    out = {}
    for cell, leaves in feeding.items():
        key = frozenset(leaves)
        if key not in netted:
            timelimit.check()
            groups = [by_leaf[dims] for dims in leaves]
            rows = groups[0] if len(groups) == 1 else heapq.merge(*groups, key=lambda p: p.position)
            netted[key] = _net(rows, after, keep)
        out[cell] = netted[key]
    return out


def _net(rows, after: int, keep: int | None) -> CellEvents:  # type: ignore[no-untyped-def]
    """Postings in order of position → each event's net amount (those netting to zero left out)."""
    acc: dict[str, list] = {}
    for p in rows:
        entry = acc.get(p.event_id)
        if entry is None:
            acc[p.event_id] = [p, p.amount]
        else:
            entry[1] += p.amount
    found = CellEvents()
    for first, net in acc.values():
        if net == 0:
            continue
        found.count += 1
        found.total += net
        if first.position > after:
            if keep is None or len(found.listed) < keep:
                found.listed.append((first, net))
            else:
                found.more = True
    return found


def figure_events(postings: Sequence[PostingRow], where: dict[str, Any], agency: frozenset[str], *,
                  after: int = 0, keep: int | None = None) -> CellEvents:
    """The events whose postings a figure of the explanation sums (its filter, figures.TOTALS),
    with their net amount, in order of position."""
    def included(p: PostingRow) -> bool:
        dims = dict(p.dims)
        if dims.get("unit") in agency:
            dims["agency"] = "yes"
        return posting_matches(dims, where)

    return _net((p for p in postings if included(p)), after, keep)


def contribution(first: PostingRow, net: Decimal) -> Contribution:
    return Contribution(
        position=first.position, event_id=first.event_id, kind=first.kind, recorded_at=first.recorded_at,
        effective=first.effective, amount=Money.of(net), reason=first.reason, document_no=first.document_no,
        provenance=first.provenance, actor=first.actor,
    )


def contributions_to(cell: Cell, postings: Sequence[PostingRow], agency: frozenset[str]) -> list[Contribution]:
    """The events whose postings feed a cell, with their net contribution."""
    found = events_by_cell(postings, agency, {cell}).get(cell, CellEvents())
    return [contribution(first, net) for first, net in found.listed]
