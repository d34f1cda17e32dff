"""Reads of the read model (budgets, leaves, projects, publications) and of the event log (the
past): table cells now or as of an earlier point, the lines behind them, context."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import Connection, and_, exists, select

from ..domain import names
from ..domain.classification import agency_units
from ..eventstore import EventLog, LoggedEvent
from ..tables.definitions import spread
from ..tables.layouts import Layout, layout
from ..tables.render import Context, RenderedTable, render
from . import schema, tracking
from .leaves import stored_leaves


class NotFound(LookupError):
    """An unknown budget, table, publication or cell."""


class PointInsideImport(NotFound):
    """An as-of position strictly inside an import: the timeline has no such point (a document
    is imported in one atomic save, so no one ever saw the budget half imported)."""

    def __init__(self, position: int, span: ImportSpan):
        self.position, self.span = position, span
        before = span.before
        use = f"{span.last} (导入之后)" + (f" 或 {before} (导入之前)" if before is not None else "")
        super().__init__(f"位置 {position} 在导入《{span.name}》之中 (位置 {span.first}–{span.last}, 一次导入是一个时点): "
                         f"请用位置 {use}")


@dataclass(frozen=True)
class ImportSpan:
    """The positions of one import's events: from its first (the budget's opening event, when
    the import opened it; else its document event) to its last (the publication it ends with)."""

    name: str
    first: int
    last: int
    opened: bool = False  # the import opened the budget (there is no point before it)

    @property
    def before(self) -> int | None:
        """The point just before the import (None: the budget did not exist yet)."""
        return None if self.opened else self.first - 1

    def inside(self, position: int) -> bool:
        """Whether a point at this position would hold part of the import and not all of it."""
        return self.first <= position < self.last


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
        return agency_units(self.units)


def list_budgets(conn: Connection, point: Point | None = None) -> list[BudgetRow]:
    """The budgets (all, or those whose opening event a point includes)."""
    b = schema.budgets.c
    query = select(schema.budgets).order_by(b.department, b.fiscal_year)
    if point is not None and not point.is_now:
        query = query.where(_opened_by(point))
    return [BudgetRow(r.budget_id, r.department, r.fiscal_year, r.units) for r in conn.execute(query)]


def _opened_by(point: Point):
    """Budgets whose opening event the point includes."""
    b = schema.budgets.c
    conditions = []
    if point.position is not None:
        conditions.append(b.position <= point.position)
    if point.recorded is not None:
        conditions.append(b.opened_at <= as_stored(point.recorded))
    if point.effective is not None:
        conditions.append(b.effective <= point.effective)
    if point.publication is not None:
        p = schema.publications.c
        conditions.append(exists().where(p.budget_id == b.budget_id, p.name == point.publication))
    return and_(*conditions)


@dataclass(frozen=True)
class BudgetDetail:
    """A budget as of a point: its version and last position then, its publications and
    imported documents up to that position."""

    budget: BudgetRow
    version: int
    position: int | None
    publications: list[dict]
    documents: list[dict]


def budget_detail(conn: Connection, log: EventLog, budget: BudgetRow, point: Point) -> BudgetDetail:
    b, p, d = schema.budgets.c, schema.publications.c, schema.documents.c
    if point.is_now:
        last, version = conn.execute(select(b.last_position, b.version).where(b.budget_id == budget.budget_id)).one()
    else:
        event = last_event(conn, log, budget, point)
        last, version = (event.position, event.version) if event is not None else (None, 0)
    publications = conn.execute(select(p.name, p.position, p.effective, p.recorded_at)
                                .where(p.budget_id == budget.budget_id, p.position <= (last or 0))
                                .order_by(p.position)).all()
    documents = conn.execute(select(d.name, d.sha256, d.position, d.layout, d.phase)
                             .where(d.budget_id == budget.budget_id, d.position <= (last or 0))
                             .order_by(d.position)).all()
    spans = {span.name: span for span in import_spans(conn, budget)}
    listed = []
    for r in documents:
        span = spans.get(r.name)
        listed.append({**r._mapping, "first_position": span.first if span else None,
                       "last_position": span.last if span else None})
    return BudgetDetail(budget, version, last, [dict(r._mapping) for r in publications], listed)


def version(conn: Connection, budget_id: str) -> int | None:
    """A budget's version (its number of events) as the read model has it."""
    return conn.execute(select(schema.budgets.c.version).where(schema.budgets.c.budget_id == budget_id)).scalar()


def budget_by_id(conn: Connection, budget_id: str) -> BudgetRow:
    row = conn.execute(select(schema.budgets).where(schema.budgets.c.budget_id == budget_id)).first()
    if row is None:
        raise NotFound(f"没有预算 {budget_id}")
    return BudgetRow(row.budget_id, row.department, row.fiscal_year, row.units)


def find_budget(conn: Connection, department: str, fiscal_year: int) -> BudgetRow:
    row = conn.execute(
        # The name as recorded now (names.fold), or as a budget recorded before that rule has it.
        select(schema.budgets).where(schema.budgets.c.department.in_({names.fold(department), department}),
                                     schema.budgets.c.fiscal_year == fiscal_year)
    ).first()
    if row is None:
        known = ", ".join(f"{b.department} {b.fiscal_year}" for b in list_budgets(conn)) or "无"
        raise NotFound(f"没有预算: {department} {fiscal_year}年 (已有: {known})")
    return BudgetRow(row.budget_id, row.department, row.fiscal_year, row.units)


def import_spans(conn: Connection, budget: BudgetRow) -> list[ImportSpan]:
    """The budget's imports as spans of positions, from the read model. An import is one save
    that ends with its publication (年初预算 or 决算); the budget's opening event belongs to
    the first import when no publication came before it (budgets open only by importing)."""
    d, p, b = schema.documents.c, schema.publications.c, schema.budgets.c
    documents = conn.execute(select(d.name, d.position).where(d.budget_id == budget.budget_id)
                             .order_by(d.position)).all()
    if not documents:
        return []
    published = conn.execute(select(p.position).where(p.budget_id == budget.budget_id)
                             .order_by(p.position)).scalars().all()
    opening = conn.execute(select(b.position).where(b.budget_id == budget.budget_id)).scalar()
    spans = []
    for n, doc in enumerate(documents):
        last = next((int(pos) for pos in published if pos > doc.position), None)
        if last is None:  # not ended by a publication (a store of very early code): no span known
            continue
        first, opened = int(doc.position), False
        if n == 0 and opening is not None and opening < first and not any(pos < first for pos in published):
            first, opened = int(opening), True
        spans.append(ImportSpan(doc.name, first, last, opened))
    return spans


def check_position(conn: Connection, budget: BudgetRow, position: int) -> None:
    """Refuse an as-of position strictly inside an import (PointInsideImport)."""
    for span in import_spans(conn, budget):
        if span.inside(position):
            raise PointInsideImport(position, span)


def resolve_position(conn: Connection, budget: BudgetRow, point: Point) -> int | None:
    """The last position a point includes (None: no bound by position). A position strictly
    inside an import is refused."""
    if point.position is not None:
        check_position(conn, budget, point.position)
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


def _includes(event: LoggedEvent, point: Point, position: int | None) -> bool:
    """Whether a point includes an event (an effective-date bound leaves out undated events)."""
    if position is not None and event.position > position:
        return False
    if point.recorded is not None and event.recorded_at > as_stored(point.recorded):
        return False
    if point.effective is not None and (event.effective is None or event.effective > point.effective):
        return False
    return True


def events(conn: Connection, log: EventLog, budget: BudgetRow, point: Point | None = None) -> list[LoggedEvent]:
    """The budget's events that a point includes, in order, read from the event log (never
    past what the read model has caught up to, so that history and today's tables agree)."""
    return events_at(conn, log, budget, [point or Point()])[0]


def events_at(conn: Connection, log: EventLog, budget: BudgetRow, points: list[Point]) -> list[list[LoggedEvent]]:
    """events() for several points, the log read once (a diff's two points: half the replay)."""
    bound = _projected(conn)
    positions = []
    for point in points:
        position = resolve_position(conn, budget, point)
        positions.append(bound if position is None else min(position, bound))
    read = log.budget_events(budget.budget_id, max(positions, default=bound))
    return [[e for e in read if _includes(e, point, position)]
            for point, position in zip(points, positions, strict=True)]


def events_after(conn: Connection, log: EventLog, budget: BudgetRow, point: Point, after: int,
                 limit: int) -> list[LoggedEvent]:
    """A page of events(): those after a position, at most `limit`, read by keyset from the
    budget's stream (EventLog.budget_page), not by replaying the history before the cursor."""
    bound = _projected(conn)
    position = resolve_position(conn, budget, point)
    upto = bound if position is None else min(position, bound)
    include = None
    if point.recorded is not None or point.effective is not None:
        def include(event: LoggedEvent) -> bool:
            return _includes(event, point, None)
    return log.budget_page(budget.budget_id, after, upto, limit, include)


def _projected(conn: Connection) -> int:
    from .projector import NAME

    return tracking.position(conn, NAME)


def leaf_sums(conn: Connection, log: EventLog, budget: BudgetRow,
              point: Point) -> dict[tuple[tuple[str, str], ...], Decimal]:
    """Σ of the lines per distinct set of dimensions, up to a point (now: the leaves' balances)."""
    out: dict[tuple[tuple[str, str], ...], Decimal] = {}
    if point.is_now:
        l = schema.leaves.c
        stored = conn.execute(select(l.balances).where(l.budget_id == budget.budget_id)).scalar()
        if stored is not None:
            for dims, amount in stored_leaves(stored):
                out[dims] = schema.from_fen(amount)
        return out
    return sums_of(events(conn, log, budget, point))


def sums_of(included: list[LoggedEvent]) -> dict[tuple[tuple[str, str], ...], Decimal]:
    """Σ of the lines of some events per distinct set of dimensions."""
    fens: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
    for event in included:
        for line in event.lines:
            fens[line.dims] += line.fen
    return {dims: schema.from_fen(amount) for dims, amount in fens.items()}


def table_cells(conn: Connection, log: EventLog, budget: BudgetRow, point: Point,
                lay: Layout | None = None) -> dict[int, dict[tuple[str, str], Decimal]]:
    """Cells of every table of a layout (the default: the 13-table 部门预算): each leaf's sum up
    to the point spread to the cells it feeds."""
    lay = lay or layout()
    return spread(leaf_sums(conn, log, budget, point).items(), budget.agency_units, lay.folder, lay.measures)


def rendered_tables(conn: Connection, log: EventLog, budget: BudgetRow, point: Point,
                    number: int | None = None, lay: Layout | None = None) -> list[RenderedTable]:
    """The tables of a layout as printed (all, or one by number), at a point."""
    return render_tables(conn, budget, point, leaf_sums(conn, log, budget, point), number, lay)


def render_tables(conn: Connection, budget: BudgetRow, point: Point, sums: dict[tuple[tuple[str, str], ...], Decimal],
                  number: int | None = None, lay: Layout | None = None) -> list[RenderedTable]:
    """The tables of a layout as printed from leaves' sums already read for the point."""
    lay = lay or layout()
    cells = spread(sums.items(), budget.agency_units, lay.folder, lay.measures)
    ctx = context(conn, budget, point)
    return [render(t, cells.get(t.number, {}), ctx, lay.money, lay.id) for t in lay.tables
            if number in (None, t.number)]


def layouts_of(conn: Connection, budget: BudgetRow) -> list[str]:
    """The layouts of the documents a budget was imported from, in order (the default layout
    for a budget of commands only). A budget imported in another budget layout (the 9 tables
    in 元) is also shown in the 13 tables: the same events print both."""
    d = schema.documents.c
    found = [r.layout or layout().id for r in conn.execute(
        select(d.layout).where(d.budget_id == budget.budget_id).order_by(d.position))]
    if layout().id not in found and any(_is_budget_layout(f) for f in found):
        found.append(layout().id)
    return found or [layout().id]


def _is_budget_layout(layout_id: str) -> bool:
    try:
        return layout(layout_id).phase == "budget"
    except LookupError:
        return False


def context(conn: Connection, budget: BudgetRow, point: Point) -> Context:
    position = resolve_position(conn, budget, point)
    q = select(schema.projects.c.name, schema.projects.c.unit).where(schema.projects.c.budget_id == budget.budget_id)
    if position is not None:
        q = q.where(schema.projects.c.position <= position)
    projects = [(r.name, r.unit) for r in conn.execute(q.order_by(schema.projects.c.position))]
    return Context(budget.department, budget.fiscal_year, [u["name"] for u in budget.units], projects)


@dataclass(frozen=True)
class PostingRow:
    """A line of an event, with the event (for lineage, diffs and explanations)."""

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
    corrected_event_id: str | None = None  # of a correction's lines: the event it reverses
    actor: str | None = None  # who recorded the event (None in events recorded before issue 20)


def postings(conn: Connection, log: EventLog, budget: BudgetRow, point: Point | None = None) -> list[PostingRow]:
    return postings_of(events(conn, log, budget, point))


def postings_of(included: list[LoggedEvent]) -> list[PostingRow]:
    """The lines of some events, each with its event."""
    out = []
    for e in included:
        for line in e.lines:
            out.append(PostingRow(
                position=e.position, event_id=e.event_id, kind=e.kind, recorded_at=e.recorded_at,
                effective=e.effective, reason=e.reason, document_no=e.document_no, provenance=e.provenance,
                dims=line.dims, amount=schema.from_fen(line.fen),
                corrected_event_id=e.detail.get("corrected_event_id"), actor=e.actor,
            ))
    return out


def as_stored(moment: datetime) -> datetime:
    """Times are recorded in UTC; SQLite keeps only the wall time, so compare in UTC."""
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.astimezone().astimezone(timezone.utc)


def last_event(conn: Connection, log: EventLog, budget: BudgetRow, point: Point) -> LoggedEvent | None:
    """The last event of this budget that the point includes."""
    included = events(conn, log, budget, point)
    return included[-1] if included else None


def last_position(conn: Connection, log: EventLog, budget: BudgetRow, point: Point) -> int | None:
    """The position of the last event of this budget that the point includes."""
    if point.is_now:
        return conn.execute(select(schema.budgets.c.last_position)
                            .where(schema.budgets.c.budget_id == budget.budget_id)).scalar()
    event = last_event(conn, log, budget, point)
    return event.position if event is not None else None


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
