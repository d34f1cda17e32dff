"""Lineage and diff: the events behind a cell, and what changed between two points."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from ..explain.model import Money
from ..tables.definitions import TableDef, cells_of
from ..tables.render import RenderedTable
from .queries import NotFound, PostingRow


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
    contributions: list[Contribution]
    total: Money = Field(description="各事件贡献之和, 等于该格金额")


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
    events: list[Contribution]


class Diff(BaseModel):
    department: str
    fiscal_year: int
    from_point: str
    to_point: str
    changes: list[CellChange]


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


def find_cell(table: TableDef, rendered: RenderedTable, row: str, column: str) -> tuple[str, str, str, str]:
    """Resolve a row (label, code, or key) and a column (label or key) of a printed table."""
    labels = cell_labels(table, rendered)
    wanted = row.strip()
    rows: list[str] = []
    for (key, _col), (label, _cl) in labels.items():
        parts = label.split(" ")
        if key not in rows and (wanted in (key, key.split("/", 1)[1], label, label.replace(" ", "/"))
                                or wanted in parts or key.endswith(":" + wanted)):
            rows.append(key)
    if not rows:
        raise NotFound(f"{table.name}中没有行「{row}」")
    key = rows[0]
    for (k, col), (label, col_label) in labels.items():
        if k == key and column.strip() in (col, col_label):
            return key, col, label, col_label
    options = "、".join(cl for (k, _c), (_l, cl) in labels.items() if k == key)
    raise NotFound(f"{table.name}「{labels[next(c for c in labels if c[0] == key)][0]}」没有列「{column}」(可选: {options})")


def contributions_to(cell: tuple[int, str, str], postings: Sequence[PostingRow],
                     agency: frozenset[str]) -> list[Contribution]:
    """The events whose postings feed a cell, with their net contribution."""
    by_event: dict[str, list[PostingRow]] = defaultdict(list)
    for p in postings:
        if ("measure", "budget") in p.dims and cell in cells_of(p.dims, dict(p.dims).get("unit") in agency):
            by_event[p.event_id].append(p)
    out = []
    for rows in by_event.values():
        first = rows[0]
        net = sum((r.amount for r in rows), Decimal("0.00"))
        if net == 0:
            continue  # e.g. a transfer between two lines both under this cell: it did not change it
        out.append(Contribution(
            position=first.position, event_id=first.event_id, kind=first.kind, recorded_at=first.recorded_at,
            effective=first.effective, amount=Money.of(net),
            reason=first.reason, document_no=first.document_no, provenance=first.provenance,
        ))
    return sorted(out, key=lambda c: c.position)
