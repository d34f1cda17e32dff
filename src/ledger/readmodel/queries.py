"""Reads of the read model: budgets, table cells now or as of an earlier point, context."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Connection, and_, func, select

from ..domain.classification import AGENCY_CATEGORIES
from ..domain.postings import DIMENSIONS
from . import schema
from .definitions import cells_for, load_tables, unit_context
from .render import Context


class NotFound(LookupError):
    """An unknown budget, table, publication or cell."""


@dataclass(frozen=True)
class Point:
    """A point in the history: events recorded up to a position or a time, effective by a
    date, or as published under a name. None everywhere means 'now'."""

    position: int | None = None
    recorded: datetime | None = None
    effective: date | None = None
    publication: str | None = None

    @property
    def is_now(self) -> bool:
        return self.position is None and self.recorded is None and self.effective is None and self.publication is None


@dataclass(frozen=True)
class BudgetRow:
    budget_id: str
    department: str
    fiscal_year: int
    units: list[dict[str, str]]

    @property
    def agency_units(self) -> frozenset[str]:
        return frozenset(u["name"] for u in self.units if u["category"] in AGENCY_CATEGORIES)


def list_budgets(conn: Connection) -> list[BudgetRow]:
    rows = conn.execute(select(schema.budgets).order_by(schema.budgets.c.department, schema.budgets.c.fiscal_year))
    return [BudgetRow(r.budget_id, r.department, r.fiscal_year, r.units) for r in rows]


def find_budget(conn: Connection, department: str, fiscal_year: int) -> BudgetRow:
    row = conn.execute(
        select(schema.budgets).where(schema.budgets.c.department == department,
                                     schema.budgets.c.fiscal_year == fiscal_year)
    ).first()
    if row is None:
        known = ", ".join(f"{b.department} {b.fiscal_year}" for b in list_budgets(conn)) or "无"
        raise NotFound(f"没有预算: {department} {fiscal_year}年 (已有: {known})")
    return BudgetRow(row.budget_id, row.department, row.fiscal_year, row.units)


def resolve_position(conn: Connection, budget: BudgetRow, point: Point) -> int | None:
    """The last position a point includes (None: no bound by position)."""
    if point.publication is not None:
        pos = conn.execute(
            select(schema.publications.c.position).where(
                schema.publications.c.budget_id == budget.budget_id, schema.publications.c.name == point.publication
            )
        ).scalar()
        if pos is None:
            names = conn.execute(
                select(schema.publications.c.name).where(schema.publications.c.budget_id == budget.budget_id)
            ).scalars().all()
            raise NotFound(f"没有名为「{point.publication}」的发布节点 (已有: {', '.join(names) or '无'})")
        return int(pos) if point.position is None else min(int(pos), point.position)
    return point.position


def _posting_filter(budget: BudgetRow, point: Point, position: int | None):
    p = schema.postings.c
    conditions = [p.budget_id == budget.budget_id]
    if position is not None:
        conditions.append(p.position <= position)
    if point.recorded is not None:
        conditions.append(p.recorded_at <= _as_stored(point.recorded))
    if point.effective is not None:
        conditions.append(p.effective <= point.effective)
    return and_(*conditions)


def leaf_sums(conn: Connection, budget: BudgetRow, point: Point) -> dict[tuple[tuple[str, str], ...], Decimal]:
    """Σ postings per distinct set of dimensions, up to a point."""
    p = schema.postings.c
    dims_cols = [getattr(p, name) for name in DIMENSIONS]
    position = resolve_position(conn, budget, point)
    rows = conn.execute(
        select(*dims_cols, func.sum(p.amount_fen)).where(_posting_filter(budget, point, position)).group_by(*dims_cols)
    )
    out: dict[tuple[tuple[str, str], ...], Decimal] = {}
    for row in rows:
        dims = tuple((name, value) for name, value in zip(DIMENSIONS, row[:-1], strict=True) if value is not None)
        out[dims] = schema.from_fen(row[-1])
    return out


def table_cells(conn: Connection, budget: BudgetRow, point: Point) -> dict[int, dict[tuple[str, str], Decimal]]:
    """Cells of every table: from the materialised cells now, from postings otherwise."""
    out: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(dict)
    if point.is_now:
        c = schema.cells.c
        for row in conn.execute(select(c.table_no, c.row_key, c.col_key, c.amount_fen).where(c.budget_id == budget.budget_id)):
            out[row.table_no][(row.row_key, row.col_key)] = schema.from_fen(row.amount_fen)
        return out
    agency = budget.agency_units
    for dims_t, amount in leaf_sums(conn, budget, point).items():
        dims = dict(dims_t)
        if dims.get("measure") != "budget":
            continue
        for table_no, row_key, col_key in _cells_of(dims_t, dims.get("unit") in agency):
            cell = out[table_no]
            cell[(row_key, col_key)] = cell.get((row_key, col_key), Decimal(0)) + amount
    return out


@lru_cache(maxsize=20000)
def _cells_of(dims_t: tuple[tuple[str, str], ...], is_agency: bool) -> tuple[tuple[int, str, str], ...]:
    """The cells a leaf feeds, once per distinct leaf: an as-of query folds ~150 leaves, and
    working out their cells dominated its time."""
    dims = dict(dims_t)
    return tuple(cells_for(unit_context(dims, {dims["unit"]} if is_agency else set()), load_tables()))


def context(conn: Connection, budget: BudgetRow, point: Point) -> Context:
    position = resolve_position(conn, budget, point)
    q = select(schema.projects.c.name, schema.projects.c.unit).where(schema.projects.c.budget_id == budget.budget_id)
    if position is not None:
        q = q.where(schema.projects.c.position <= position)
    projects = [(r.name, r.unit) for r in conn.execute(q.order_by(schema.projects.c.position))]
    return Context(budget.department, budget.fiscal_year, [u["name"] for u in budget.units], projects)


@dataclass(frozen=True)
class PostingRow:
    """A posting with the event that recorded it (for lineage, diffs and explanations)."""

    position: int
    event_id: str
    kind: str
    recorded_at: datetime
    effective: date | None
    reason: str
    document_no: str | None
    provenance: dict | None
    dims: tuple[tuple[str, str], ...]
    amount: Decimal


def postings(conn: Connection, budget: BudgetRow, point: Point | None = None) -> list[PostingRow]:
    p, e = schema.postings.c, schema.events.c
    point = point or Point()
    position = resolve_position(conn, budget, point)
    q = (
        select(p, e.kind.label("event_kind"), e.reason, e.document_no, e.detail)
        .join(schema.events, schema.events.c.event_id == p.event_id)
        .where(_posting_filter(budget, point, position))
        .order_by(p.position, p.id)
    )
    out = []
    for row in conn.execute(q):
        m = row._mapping
        dims = tuple((name, m[name]) for name in DIMENSIONS if m[name] is not None)
        out.append(PostingRow(
            position=m["position"], event_id=m["event_id"], kind=m["event_kind"], recorded_at=_utc(m["recorded_at"]),
            effective=m["effective"], reason=m["reason"], document_no=m["document_no"],
            provenance=(m["detail"] or {}).get("provenance"), dims=dims, amount=schema.from_fen(m["amount_fen"]),
        ))
    return out


def _as_stored(moment: datetime) -> datetime:
    """Times are recorded in UTC; SQLite keeps only the wall time, so compare in UTC."""
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.astimezone().astimezone(timezone.utc)


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; events are recorded in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def last_position(conn: Connection, budget: BudgetRow, point: Point) -> int | None:
    """The position of the last event of this budget that the point includes."""
    e = schema.events.c
    position = resolve_position(conn, budget, point)
    q = select(func.max(e.position)).where(e.budget_id == budget.budget_id)
    if position is not None:
        q = q.where(e.position <= position)
    if point.recorded is not None:
        q = q.where(e.recorded_at <= _as_stored(point.recorded))
    if point.effective is not None:
        q = q.where(e.effective <= point.effective)
    value = conn.execute(q).scalar()
    return int(value) if value is not None else None


def projects_detail(conn: Connection, budget: BudgetRow, point: Point) -> list[dict]:
    position = resolve_position(conn, budget, point)
    q = select(schema.projects).where(schema.projects.c.budget_id == budget.budget_id)
    if position is not None:
        q = q.where(schema.projects.c.position <= position)
    rows = conn.execute(q.order_by(schema.projects.c.position))
    return [
        {"name": r.name, "unit": r.unit, "targets": r.targets, "position": r.position,
         "annual_amount": schema.from_fen(r.annual_amount_fen) if r.annual_amount_fen is not None else None}
        for r in rows
    ]


def publications(conn: Connection, budget: BudgetRow) -> list[dict]:
    q = select(schema.publications).where(schema.publications.c.budget_id == budget.budget_id)
    return [
        {"name": r.name, "position": r.position, "effective": r.effective, "recorded_at": r.recorded_at}
        for r in conn.execute(q.order_by(schema.publications.c.position))
    ]
