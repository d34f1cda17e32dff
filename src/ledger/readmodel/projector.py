"""The fold: read the notification log in large pages and project it into the read model.

Each page is written in one transaction together with the projector's position, and the
position is advanced only if it is still where this run started from, so a crash or a
second process never counts an event twice. `rebuild` clears the read model and replays
from zero; `catch_up` continues from the stored position.

A rebuild replays every event, so the fold is written for speed (see benchmarks/):
stored events are parsed as JSON once and read as they are stored, without building
domain event objects; the cells a set of dimensions feeds are computed once per distinct
set; rows go to the database in bulk (executemany on SQLite, COPY on PostgreSQL) through
SQLAlchemy's own column conversions, so they are stored exactly as SQLAlchemy stores
them; and a rebuild drops the non-unique indexes while it loads and builds them again at
the end, which is several times cheaper than keeping them up to date row by row (a rebuild
killed meanwhile leaves them dropped: the next catch-up of a new Projector restores them).

A Ledger's rebuild is mostly set-based SQL instead, in one transaction where the events are
(bulk.py); it falls back to the fold for any stored form the SQL does not reproduce exactly.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.application import Application
from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.classification import AGENCY_CATEGORIES
from ..domain.postings import DIMENSIONS

from . import bulk, schema
from .definitions import TableDef, cells_for, load_tables, unit_context

log = logging.getLogger(__name__)

NAME = "tables"
PAGE_SIZE = 5000
# Bound on each memo of the fold (distinct lines): a million events name ~10^5 of them,
# but a budget's events are recorded together, so a few thousand keep nearly every hit.
CACHE_LIMIT = 4000
# SQLite page cache of the projector's connection (KiB): the unique and primary-key
# indexes of a million-event read model are updated at random places.
SQLITE_CACHE_KIB = 16384

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

# Transcodings whose stored form (the `_data_` string) is already what the read model keeps:
# str(Decimal), date.isoformat(), datetime.isoformat().
_AS_STORED = frozenset({"decimal_str", "date_iso", "datetime_iso"})
_DIMENSION_ORDER = {name: i for i, name in enumerate(DIMENSIONS)}
_JSON = json.JSONDecoder()

# Column order of the rows the fold produces.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ledger_budgets": ("budget_id", "department", "fiscal_year", "units", "position"),
    "ledger_events": ("position", "budget_id", "event_id", "version", "kind", "recorded_at", "effective", "reason",
                      "document_no", "detail"),
    "ledger_postings": ("position", "budget_id", "event_id", "recorded_at", "effective", *DIMENSIONS, "amount_fen"),
    "ledger_projects": ("budget_id", "name", "unit", "category", "annual_amount_fen", "targets", "position"),
    "ledger_publications": ("budget_id", "name", "position", "effective", "recorded_at"),
    "ledger_documents": ("budget_id", "sha256", "name", "position", "tables", "rounding"),
    "ledger_cells": ("budget_id", "table_no", "row_key", "col_key", "amount_fen"),
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
    def __init__(self, app: Application, engine: Engine, page_size: int = PAGE_SIZE, *, same_store: bool = False):
        self.app = app
        self.engine = engine
        # Whether the read model is in the database that holds the events (a rebuild may then
        # be done there by SQL: bulk.py); a scratch read model elsewhere (verify) is not.
        self.same_store = same_store
        self.page_size = page_size
        self.tables = load_tables()
        self._agency: dict[str, frozenset[str]] = {}
        self._cells_cache: dict[tuple[tuple[tuple[str, str], ...], bool], list[tuple[int, str, str]]] = {}
        self._dims_cache: dict[tuple[tuple[str, Any], ...], Any] = {}
        self._templates = _CellTemplates.for_tables(self.tables)
        self._sink = _Sink(engine)
        self._cells_upsert: Any = None
        self._cells_sql: str | None = None
        self._indexes_checked = False
        self._budget_ids: dict[Any, str] = {}  # stored id → its text form, once per budget
        mapper = app.mapper
        # Stored state is plain JSON unless the application encrypts or compresses it.
        self._plain_state = mapper.cipher is None and mapper.compressor is None

    # ------------------------------------------------------------------ position

    def position(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(schema.tracking.c.position).where(schema.tracking.c.name == NAME)).scalar()
        return int(value or 0)

    def max_position(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    # ------------------------------------------------------------------- running

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        self._indexes_checked = True
        self._agency.clear()
        try:
            if bulk.usable(self):
                # The embedded store: SQL writes the read model where the events are, in one
                # transaction (bulk.py); then anything recorded meanwhile is caught up.
                try:
                    with self.engine.begin() as conn:
                        self._clear(conn)
                        count, end = bulk.rebuild(self, conn, progress)
                        if end:
                            conn.execute(insert(schema.tracking).values(name=NAME, position=end))
                    return count + self.catch_up(progress)
                except bulk.Unrecognised as exc:
                    log.warning("rebuild: %s; rebuilding event by event", exc)
                    self._agency.clear()
            with self.engine.begin() as conn:
                self._clear(conn)
            return self.catch_up(progress)
        finally:
            with self.engine.begin() as conn:
                for index in _bulk_indexes():
                    index.create(conn, checkfirst=True)

    def _clear(self, conn: Connection) -> None:
        if self.engine.dialect.name == "postgresql":
            # One statement that frees the tables' files instead of marking each row deleted.
            conn.exec_driver_sql(f"TRUNCATE {', '.join(table.name for table in schema.PROJECTED)}")
        else:
            # Python's SQLite zeroes every freed page (secure_delete): emptying a million-event
            # read model took 5 s of writes. FAST still clears what it rewrites anyway; what is
            # deleted here is derived from the events, which stay in the same file.
            before = int(conn.exec_driver_sql("PRAGMA secure_delete").scalar())
            conn.exec_driver_sql("PRAGMA secure_delete = FAST")
            try:
                for table in schema.PROJECTED:
                    conn.execute(delete(table))
            finally:
                conn.exec_driver_sql(f"PRAGMA secure_delete = {before}")
        conn.execute(delete(schema.tracking).where(schema.tracking.c.name == NAME))
        for index in _bulk_indexes():
            index.drop(conn, checkfirst=True)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Project everything recorded since the stored position; returns events projected."""
        if not self._indexes_checked:  # a rebuild killed while loading left them dropped
            self._indexes_checked = True
            with self.engine.begin() as conn:
                for index in _bulk_indexes():
                    index.create(conn, checkfirst=True)
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

    def _project_page(self, start: int, notifications: Sequence[Any]) -> None:
        rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        leaves: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        for n in notifications:
            self._fold(n, self.decode(n), rows, leaves)
        deltas = self._cell_deltas(leaves)
        end = notifications[-1].id
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
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
                    self._sink.write(conn, table, rows[table.name])
            if deltas:
                self._upsert_cells(conn, deltas)

    def _upsert_cells(self, conn: Connection, deltas: dict[str, dict[Any, int]]) -> None:
        if self._cells_upsert is None:
            dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(schema.cells)
            self._cells_upsert = stmt.on_conflict_do_update(
                index_elements=["budget_id", "table_no", "row_key", "col_key"],
                set_={"amount_fen": schema.cells.c.amount_fen + stmt.excluded.amount_fen},
            )
        stmt = self._cells_upsert
        if self.engine.dialect.name == "sqlite":
            # The same statement, without a parameter dict per cell: its parameters are
            # positional, in the order of the key then the amount.
            if self._cells_sql is None:
                self._cells_sql = stmt.compile(dialect=self.engine.dialect).string
            conn.connection.driver_connection.executemany(
                self._cells_sql, [(b, t, r, c, v) for b, cells in deltas.items() for (t, r, c), v in cells.items()])
            return
        conn.execute(
            stmt,
            [
                {"budget_id": b, "table_no": t, "row_key": r, "col_key": c, "amount_fen": v}
                for b, cells in deltas.items()
                for (t, r, c), v in cells.items()
            ],
        )

    # -------------------------------------------------------------------- decode

    def decode(self, n: Any) -> dict[str, Any]:
        """An event's state as stored: JSON with tagged values ({"_type_", "_data_"})."""
        if self._plain_state:
            state = _JSON.decode(n.state.decode("utf-8"))
            if "class_version" not in state:
                return state
        # Encrypted, compressed or to be upcast: let the mapper decode, then store as usual.
        event = self.app.mapper.to_domain_event(n)
        fields = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
        return json.loads(self.app.mapper.transcoder.encode(fields))

    def _plain(self, value: Any) -> Any:
        """A stored value as the read model keeps it (what jsonable gives for the decoded value)."""
        if isinstance(value, dict):
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                if value["_type_"] in _AS_STORED:
                    return value["_data_"]
                return jsonable(self.app.mapper.transcoder.decode(json.dumps(value).encode()))
            return {k: self._plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._plain(v) for v in value]
        return value

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
            cached = self._templates.cells(dims, is_agency) if self._templates else cells_for(
                unit_context(dims, agency), self.tables)
            if len(self._cells_cache) >= CACHE_LIMIT:
                self._cells_cache.clear()
            self._cells_cache[key] = cached
        return cached

    def _cell_deltas(self, leaves: dict[tuple[str, tuple[tuple[str, str], ...]], int]) -> dict[str, dict[Any, int]]:
        """What a page adds to each cell, per budget: every posting of the page summed per
        leaf first, so that each leaf's cells are visited once."""
        deltas: dict[str, dict[Any, int]] = defaultdict(dict)
        for (bid, dims_t), fen in leaves.items():
            cells = deltas[bid]
            for cell in self.cells_of(dims_t, self.agency_units(bid)):
                cells[cell] = cells.get(cell, 0) + fen
        return deltas

    def _dims(self, dims: dict[str, Any]) -> tuple[tuple[tuple[str, str], ...], tuple[str | None, ...], bool]:
        """A stored line's dimensions: canonical tuple, posting columns, and whether it is
        budget money (feeds cells)."""
        key = tuple(dims.items())
        hit = self._dims_cache.get(key)
        if hit is None:
            dims_t = tuple(sorted(((k, str(v)) for k, v in key), key=_dimension_order))
            named = dict(dims_t)
            hit = (dims_t, tuple(named.get(name) for name in DIMENSIONS), named.get("measure") == "budget")
            if len(self._dims_cache) >= CACHE_LIMIT:
                self._dims_cache.clear()
            self._dims_cache[key] = hit
        return hit

    def _fold(self, n: Any, s: dict[str, Any], rows: dict[str, list[tuple[Any, ...]]],
              leaves: dict[tuple[str, tuple[tuple[str, str], ...]], int]) -> None:
        position = n.id
        bid = self._budget_ids.get(n.originator_id)
        if bid is None:
            bid = self._budget_ids[n.originator_id] = str(n.originator_id)
        cls = n.topic.rpartition(".")[2]
        kind = KINDS.get(cls, cls)
        recorded = datetime.fromisoformat(s["timestamp"]["_data_"])
        effective = s.get("effective")
        if effective is not None:
            effective = date.fromisoformat(effective["_data_"])
        event_id = s.get("event_id") or f"{bid}:{n.originator_version}"
        plain = self._plain
        detail: dict[str, Any] = {}
        if cls == "Opened":
            units = plain(s["units"])
            rows["ledger_budgets"].append((bid, s["department"], s["fiscal_year"], units, position))
            self._agency[bid] = frozenset(u["name"] for u in units if u["category"] in AGENCY_CATEGORIES)
            detail = {"department": s["department"], "fiscal_year": s["fiscal_year"], "units": units,
                      "provenance": plain(s["provenance"])}
        elif cls == "ProjectRegistered":
            annual = plain(s["annual_amount"])
            rows["ledger_projects"].append(
                (bid, s["name"], s["unit"], s["category"], schema.to_fen(Decimal(annual)) if annual is not None else None,
                 plain(s["targets"]), position)
            )
            detail = {"name": s["name"], "unit": s["unit"], "annual_amount": annual, "provenance": plain(s["provenance"])}
        elif cls == "DocumentImported":
            tables, rounding = plain(s["tables"]), plain(s["rounding"])
            rows["ledger_documents"].append((bid, s["sha256"], s["name"], position, tables, rounding))
            detail = {"sha256": s["sha256"], "name": s["name"], "tables": tables, "rounding": rounding}
        elif cls == "Published":
            rows["ledger_publications"].append((bid, s["name"], position, effective, recorded))
            detail = {"name": s["name"]}
        if "lines" in s:
            postings = rows["ledger_postings"]
            lines = []
            for line in s["lines"]:
                amount = plain(line["amount"])
                lines.append({"dims": line["dims"], "amount": amount})
                fen = _fen(amount)
                dims_t, columns, budget_money = self._dims(line["dims"])
                postings.append((position, bid, event_id, recorded, effective, *columns, fen))
                if budget_money:
                    leaves[(bid, dims_t)] = leaves.get((bid, dims_t), 0) + fen
            detail = {"lines": lines, "provenance": plain(s.get("provenance"))}
            if cls == "Corrected":
                detail["corrected_event_id"] = s["corrected_event_id"]
        rows["ledger_events"].append(
            (position, bid, event_id, n.originator_version, kind, recorded, effective, s.get("reason", "") or "",
             s.get("document_no"), detail)
        )


def _fen(amount: str) -> int:
    """分 from a stored amount: str(Decimal) of a 元 amount, normally with exactly two places."""
    if amount[-3:-2] == "." and "E" not in amount:
        return int(amount[:-3] + amount[-2:])
    return schema.to_fen(Decimal(amount))


def _dimension_order(item: tuple[str, str]) -> int:
    return _DIMENSION_ORDER[item[0]]


class _CellTemplates:
    """The cells of a line, computed once per line with its unit and project names left
    out. Names only appear in row keys ("unit:NAME", "project:NAME"): no filter tests a
    name, so lines that differ only by names feed the same cells up to those names, and
    the engine runs once per classification pattern instead of once per named line."""

    UNIT, PROJECT = "\x00unit\x00", "\x00project\x00"

    def __init__(self, tables: tuple[TableDef, ...]):
        self.tables = tables
        self._memo: dict[tuple[tuple[tuple[str, str], ...], bool], tuple[list[Any], list[Any]]] = {}

    @classmethod
    def for_tables(cls, tables: tuple[TableDef, ...]) -> _CellTemplates | None:
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


def _bulk_indexes():
    """Indexes that only speed up reads: dropped while a rebuild loads, built again after."""
    return [index for table in (schema.events, schema.postings) for index in table.indexes if not index.unique]


class _Sink:
    """Bulk writes of the fold's rows, converted by SQLAlchemy's own bind processors so that
    values are stored exactly as an ordinary `insert(table)` would store them."""

    def __init__(self, engine: Engine):
        self.dialect = engine.dialect
        self._prepared: dict[str, tuple[str, list[tuple[int, Callable[[Any], Any]]]]] = {}

    def _prepare(self, table: Table) -> tuple[str, list[tuple[int, Callable[[Any], Any]]]]:
        if table.name not in self._prepared:
            columns = COLUMNS[table.name]
            processors = []
            for i, name in enumerate(columns):
                process = table.c[name].type._cached_bind_processor(self.dialect)
                if process is not None:
                    processors.append((i, process))
            names = ", ".join(columns)
            if self.dialect.name == "postgresql":
                sql = f"COPY {table.name} ({names}) FROM STDIN"
            else:
                sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
            self._prepared[table.name] = (sql, processors)
        return self._prepared[table.name]

    def convert(self, table: Table, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The rows with each value as SQLAlchemy would bind it."""
        _sql, processors = self._prepare(table)
        if not processors:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for i, process in processors:
                values[i] = process(values[i])
            converted.append(tuple(values))
        return converted

    def write(self, conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
        sql, _processors = self._prepare(table)
        rows = self.convert(table, rows)
        driver = conn.connection.driver_connection
        if self.dialect.name == "postgresql":
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            driver.executemany(sql, rows)
