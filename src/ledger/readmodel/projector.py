"""The fold: read the notification log in large pages and project it into the read model.

Each page is written in one transaction together with the projector's position, and the
position is advanced only if it is still where this run started from, so a crash or a
second process never counts an event twice. `rebuild` clears the read model and replays
from zero; `catch_up` continues from the stored position.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.application import Application
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.classification import AGENCY_CATEGORIES
from ..domain.postings import DIMENSIONS
from . import schema
from .definitions import cells_for, load_tables, unit_context

NAME = "tables"
PAGE_SIZE = 5000

KINDS = {
    "Opened": "budget_opened",
    "Appropriated": "appropriation",
    "Adjusted": "adjustment",
    "Transferred": "transfer",
    "Corrected": "correction",
    "PriorYearFigureStated": "prior_year_figure",
    "ProjectRegistered": "project_registered",
    "DocumentImported": "document_imported",
    "Published": "publication",
}


class ProjectionConflict(RuntimeError):
    """Another process advanced the projection first; this page was not written."""


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class Projector:
    def __init__(self, app: Application, engine: Engine, page_size: int = PAGE_SIZE):
        self.app = app
        self.engine = engine
        self.page_size = page_size
        self.tables = load_tables()
        self._agency: dict[str, frozenset[str]] = {}
        self._cells_cache: dict[tuple[tuple[tuple[str, str], ...], bool], list[tuple[int, str, str]]] = {}

    # ------------------------------------------------------------------ position

    def position(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(schema.tracking.c.position).where(schema.tracking.c.name == NAME)).scalar()
        return int(value or 0)

    def max_position(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    # ------------------------------------------------------------------- running

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        with self.engine.begin() as conn:
            for table in schema.PROJECTED:
                conn.execute(delete(table))
            conn.execute(delete(schema.tracking).where(schema.tracking.c.name == NAME))
        self._agency.clear()
        return self.catch_up(progress)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Project everything recorded since the stored position; returns events projected."""
        done = 0
        while True:
            start = self.position()
            notifications = self.app.recorder.select_notifications(start=start + 1, limit=self.page_size)
            if not notifications:
                return done
            try:
                self._project_page(start, notifications)
            except ProjectionConflict:
                continue  # someone else wrote this page; read the position again
            done += len(notifications)
            if progress:
                progress(len(notifications))
            if len(notifications) < self.page_size:
                return done

    # -------------------------------------------------------------------- paging

    def _project_page(self, start: int, notifications) -> None:
        mapper = self.app.mapper
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        deltas: dict[tuple[str, int, str, str], int] = defaultdict(int)
        for n in notifications:
            self._fold(n.id, mapper.to_domain_event(n), rows, deltas)
        end = notifications[-1].id
        with self.engine.begin() as conn:
            if start == 0:
                exists = conn.execute(select(schema.tracking.c.position).where(schema.tracking.c.name == NAME)).first()
                if exists is not None:
                    raise ProjectionConflict
                conn.execute(insert(schema.tracking).values(name=NAME, position=end))
            else:
                moved = conn.execute(
                    update(schema.tracking)
                    .where(schema.tracking.c.name == NAME, schema.tracking.c.position == start)
                    .values(position=end)
                )
                if moved.rowcount != 1:
                    raise ProjectionConflict
            for table in schema.PROJECTED:
                if rows.get(table.name):
                    conn.execute(insert(table), rows[table.name])
            if deltas:
                self._upsert_cells(conn, deltas)

    def _upsert_cells(self, conn, deltas) -> None:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(schema.cells)
        stmt = stmt.on_conflict_do_update(
            index_elements=["budget_id", "table_no", "row_key", "col_key"],
            set_={"amount_fen": schema.cells.c.amount_fen + stmt.excluded.amount_fen},
        )
        conn.execute(
            stmt,
            [
                {"budget_id": b, "table_no": t, "row_key": r, "col_key": c, "amount_fen": v}
                for (b, t, r, c), v in deltas.items()
            ],
        )

    # ---------------------------------------------------------------------- fold

    def agency_units(self, budget_id: str) -> frozenset[str]:
        if budget_id not in self._agency:
            with self.engine.connect() as conn:
                units = conn.execute(
                    select(schema.budgets.c.units).where(schema.budgets.c.budget_id == budget_id)
                ).scalar()
            self._agency[budget_id] = frozenset(u["name"] for u in units or [] if u["category"] in AGENCY_CATEGORIES)
        return self._agency[budget_id]

    def cells_of(self, dims_t: tuple[tuple[str, str], ...], agency: frozenset[str]) -> list[tuple[int, str, str]]:
        dims = dict(dims_t)
        is_agency = dims.get("unit") in agency
        key = (dims_t, is_agency)
        cached = self._cells_cache.get(key)
        if cached is None:
            cached = cells_for(unit_context(dims, agency), self.tables)
            self._cells_cache[key] = cached
        return cached

    def _fold(self, position: int, e: Any, rows, deltas) -> None:
        bid = str(e.originator_id)
        cls = type(e).__name__
        kind = KINDS.get(cls, cls)
        recorded = e.timestamp
        effective = getattr(e, "effective", None)
        event_id = getattr(e, "event_id", None) or f"{bid}:{e.originator_version}"
        detail: dict[str, Any] = {}
        if cls == "Opened":
            units = jsonable(e.units)
            rows["ledger_budgets"].append(
                {"budget_id": bid, "department": e.department, "fiscal_year": e.fiscal_year, "units": units,
                 "position": position}
            )
            self._agency[bid] = frozenset(u["name"] for u in units if u["category"] in AGENCY_CATEGORIES)
            detail = {"department": e.department, "fiscal_year": e.fiscal_year, "units": units,
                      "provenance": jsonable(e.provenance)}
        elif cls == "ProjectRegistered":
            rows["ledger_projects"].append(
                {"budget_id": bid, "name": e.name, "unit": e.unit, "category": e.category,
                 "annual_amount_fen": schema.to_fen(e.annual_amount) if e.annual_amount is not None else None,
                 "targets": jsonable(e.targets), "position": position}
            )
            detail = {"name": e.name, "unit": e.unit, "annual_amount": jsonable(e.annual_amount),
                      "provenance": jsonable(e.provenance)}
        elif cls == "DocumentImported":
            rows["ledger_documents"].append(
                {"budget_id": bid, "sha256": e.sha256, "name": e.name, "position": position,
                 "tables": jsonable(e.tables), "rounding": jsonable(e.rounding)}
            )
            detail = {"sha256": e.sha256, "name": e.name, "tables": jsonable(e.tables),
                      "rounding": jsonable(e.rounding)}
        elif cls == "Published":
            rows["ledger_publications"].append(
                {"budget_id": bid, "name": e.name, "position": position, "effective": effective,
                 "recorded_at": recorded}
            )
            detail = {"name": e.name}
        if hasattr(e, "lines"):
            agency = self.agency_units(bid)
            for line in e.lines:
                dims_t = tuple((k, str(v)) for k, v in sorted(line["dims"].items(), key=lambda kv: DIMENSIONS.index(kv[0])))
                fen = schema.to_fen(Decimal(line["amount"]))
                row = {"position": position, "budget_id": bid, "event_id": event_id, "recorded_at": recorded,
                       "effective": effective, "amount_fen": fen}
                row.update({name: None for name in DIMENSIONS})
                row.update(dict(dims_t))
                rows["ledger_postings"].append(row)
                if dict(dims_t).get("measure") == "budget":
                    for table_no, row_key, col_key in self.cells_of(dims_t, agency):
                        deltas[(bid, table_no, row_key, col_key)] += fen
            detail = {"lines": jsonable(e.lines), "provenance": jsonable(getattr(e, "provenance", None))}
            if cls == "Corrected":
                detail["corrected_event_id"] = e.corrected_event_id
        rows["ledger_events"].append(
            {"position": position, "budget_id": bid, "event_id": event_id, "version": e.originator_version,
             "kind": kind, "recorded_at": recorded, "effective": effective, "reason": getattr(e, "reason", "") or "",
             "document_no": getattr(e, "document_no", None), "detail": detail}
        )
