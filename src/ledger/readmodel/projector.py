"""The fold: read the notification log and project it into the read model.

The read model holds what today's tables and the budget list need: each leaf's balance
(`ledger_leaves`: a leaf is a budget and a distinct set of dimensions some line posted to),
the budgets with their version, the projects, publications and imported documents. The
past is not copied: history reads the event log itself (eventstore/eventlog.py).

`catch_up` continues from the stored position in pages. Each page is written in one
transaction together with the projector's position, and the position is advanced only if it
is still where this run started from, so a crash or a second process never counts an event
twice. Leaves are upserted (balance + what the page adds).

`rebuild` clears the read model and folds every event in ONE transaction: a rebuild killed
midway leaves the read model as it was. It reads the events table directly (EventLog.all_rows, in large
batches; of an event with lines only its lines, typed: eventlog.Decoder.typed_lines), adds
each line's amount to its leaf in memory, and writes each budget's leaves once at the end, so
it writes a row per budget, not per event (see benchmarks/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, bindparam, delete, insert, select, update

from ..domain.budget import LINE_EVENTS, Budget, declared
from ..eventstore import EventLog
from ..eventstore.eventlog import StoredRow, as_rows, budget_id_of, topic_class
from ..eventstore.transcoder import gc_paused
from . import schema, tracking
from .leaves import balances_json, leaf_text_of, parse_balances

NAME = "tables"
PAGE_SIZE = 5000
# Rows fetched at a time by a rebuild.
REBUILD_BATCH = 2000
ZERO = Decimal(0)

# The fields the fold reads of each event without lines (checked against the event classes).
_OPENED = declared(Budget.Opened, "department", "fiscal_year", "units", "effective")
_PROJECT = declared(Budget.ProjectRegistered, "name", "unit", "category", "annual_amount", "targets")
_DOCUMENT = declared(Budget.DocumentImported, "sha256", "name", "tables", "rounding")
_DOCUMENT_LAYOUT = declared(Budget.DocumentImported, "layout", "phase")  # absent from events before issue 17
_PUBLISHED = declared(Budget.Published, "name", "effective")

# Of a row of _Projector._all_rows: (position, stream id, version, topic, stored state).
_STREAM = itemgetter(1)
_VERSION_POSITION = itemgetter(2, 0)

# Column order of the rows the fold produces.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ledger_budgets": ("budget_id", "department", "fiscal_year", "units", "position", "opened_at", "effective",
                       "version", "last_position"),
    "ledger_leaves": ("budget_id", "balances"),
    "ledger_projects": ("budget_id", "name", "unit", "category", "annual_amount_fen", "targets", "position"),
    "ledger_publications": ("budget_id", "name", "position", "effective", "recorded_at"),
    "ledger_documents": ("budget_id", "sha256", "name", "position", "tables", "rounding", "layout", "phase"),
}


def _date(plain: Callable[[Any], Any], value: Any) -> date | None:
    return date.fromisoformat(plain(value)) if value is not None else None


class ProjectionConflict(RuntimeError):
    """Another process advanced the projection first; this page was not written."""


class _Fold:
    """What a run of events adds to the read model: new rows, each touched budget's version
    and last position, and what the lines add to each leaf (by stream, then by leaf text).

    Budgets are keyed by their stream id as the rows give it (32 hex digits from SQLite's
    table, a UUID elsewhere) and named by budget id when written."""

    def __init__(self, projector: Projector):
        self.projector = projector
        self.decoder = projector.decoder
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
        self.budgets: dict[Any, tuple[int, int]] = {}  # stream → (version, last position)
        self.leaves: dict[Any, dict[bytes, Decimal]] = {}
        self.count = 0

    def add_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        """Fold events given as rows of (position, stream id, version, topic, stored state):
        each line of an event with lines is added to its leaf, any other event is folded by
        _other. The lines of an event with lines are read typed (Decoder.typed_lines), the
        state of any other is parsed (Projector.decode_row)."""
        p = self.projector
        is_line, typed_lines, full_lines, decode = p._is_line, p.decoder.typed_lines, p.decoder.full_lines, p.decode_row
        typed = p.decoder.plain_state
        leaf_of, leaf_text = p._leaf_of, p._leaf_text
        all_leaves = self.leaves
        # each stream's version and position as of its last row here
        self.budgets.update(zip(map(_STREAM, rows), map(_VERSION_POSITION, rows)))
        for row in rows:
            position, stream, version, topic, state = row
            line = is_line.get(topic)
            if line is None:
                line = p._line_topic(topic)
            if not line:
                self._other(position, p._budget_id(stream), p._classes[topic], decode(row))
                continue
            lines = typed_lines(state) if typed else None
            if lines is None:
                lines = full_lines(StoredRow.of(*row))
            leaves = all_leaves.get(stream)
            if leaves is None:
                leaves = all_leaves[stream] = {}
            for line in lines:
                raw = bytes(line.dims)
                leaf = leaf_of.get(raw)
                if leaf is None:
                    leaf = leaf_text(raw)
                leaves[leaf] = leaves.get(leaf, ZERO) + line.amount.value
        self.count += len(rows)

    def _other(self, position: int, bid: str, cls: type | None, s: dict[str, Any]) -> None:
        plain, plain_json = self.decoder.plain, self.decoder.plain_json
        recorded = datetime.fromisoformat(plain(s["timestamp"]))
        if recorded.tzinfo is None:
            recorded = recorded.replace(tzinfo=timezone.utc)
        if cls is Budget.Opened:
            department, fiscal_year, units, effective = (s[name] for name in _OPENED)
            # version and last position are filled in when the fold is written
            self.rows["ledger_budgets"].append((bid, department, fiscal_year, plain_json(units), position, recorded,
                                                _date(plain, effective)))
        elif cls is Budget.ProjectRegistered:
            name, unit, category, annual, targets = (s[name] for name in _PROJECT)
            annual = plain(annual)
            self.rows["ledger_projects"].append(
                (bid, name, unit, category, schema.to_fen(Decimal(annual)) if annual is not None else None,
                 plain_json(targets), position))
        elif cls is Budget.DocumentImported:
            sha256, name, tables, rounding = (s[name] for name in _DOCUMENT)
            layout, phase = (s.get(name) for name in _DOCUMENT_LAYOUT)
            self.rows["ledger_documents"].append((bid, sha256, name, position, plain_json(tables),
                                                  plain_json(rounding), layout, phase))
        elif cls is Budget.Published:
            name, effective = (s[name] for name in _PUBLISHED)
            self.rows["ledger_publications"].append((bid, name, position, _date(plain, effective), recorded))

    def versions(self) -> dict[str, tuple[int, int]]:
        """Each touched budget's version and last position, by budget id."""
        bid = self.projector._budget_id
        return {bid(stream): seen for stream, seen in self.budgets.items()}

    def leaf_balances(self) -> Iterator[tuple[str, Iterator[tuple[bytes, int]]]]:
        """What the lines add to each leaf, budget by budget, as (dimensions' text, 分) pairs;
        each budget is let go as it is given."""
        bid = self.projector._budget_id
        while self.leaves:
            stream, leaves = self.leaves.popitem()
            yield bid(stream), zip(leaves, schema.to_fens(leaves.values()))

    def take_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of projects, publications and documents so far (written as they come, so
        that a rebuild never holds them all)."""
        taken = {name: rows for name, rows in self.rows.items() if name != "ledger_budgets" and rows}
        for name in taken:
            self.rows[name] = []
        return taken


class Projector:
    """Folds the event log (eventstore.EventLog) into the read model of `engine`."""

    def __init__(self, log: EventLog, engine: Engine, page_size: int = PAGE_SIZE):
        self.log = log
        self.engine = engine
        self.page_size = page_size
        self.decoder = log.decoder
        self._sink = _Sink(engine)
        self._budget_ids: dict[Any, str] = {}  # stored stream id → budget id, once per budget
        self._classes: dict[str, type | None] = {}  # topic → event class
        self._is_line: dict[str, bool] = {}  # topic → whether its events have lines
        # A line's dimensions as stored (their JSON text) → its leaf's text (leaves.leaf_text_of),
        # so that lines are added up without parsing their dimensions again.
        self._leaf_of: dict[bytes, bytes] = {}

    def _leaf_text(self, raw: bytes) -> bytes:
        text = self._leaf_of[raw] = leaf_text_of(raw)
        return text

    def _line_topic(self, topic: str) -> bool:
        """Whether events of a topic have lines (noting the topic's event class)."""
        cls = self._classes[topic] = topic_class(topic)
        line = self._is_line[topic] = cls in LINE_EVENTS
        return line

    def _budget_id(self, stream: Any) -> str:
        bid = self._budget_ids.get(stream)
        if bid is None:
            bid = self._budget_ids[stream] = budget_id_of(stream)
        return bid

    # ------------------------------------------------------------------ position

    def position(self) -> int:
        with self.engine.connect() as conn:
            return tracking.position(conn, NAME)

    # ------------------------------------------------------------------- running

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Clear the read model and fold every event again, in one transaction; then catch
        up with anything recorded meanwhile. Returns the number of events folded."""
        with gc_paused(), self.engine.connect() as conn, conn.begin():
            self._clear(conn)
            fold = _Fold(self)
            end = 0
            for rows in self.log.all_rows(conn, REBUILD_BATCH, self.page_size):
                fold.add_rows(rows)
                end = rows[-1][0]
                for name, taken in fold.take_rows().items():
                    self._sink.write(conn, schema.metadata.tables[name], taken)
                if progress:
                    progress(len(rows))
            self._leaf_of.clear()  # (the leaves hold their texts)
            self._write(conn, fold)
            if end:
                conn.execute(insert(schema.tracking).values(name=NAME, position=end))
            count = fold.count
            del fold
        return count + self.catch_up(progress)

    def decode_row(self, row: Sequence[Any]) -> dict[str, Any]:
        """The state of a row of EventLog.all_rows (an event without lines, or any for
        history): orjson for a plain state (the mapper for one to be upcast), else the mapper."""
        if self.decoder.plain_state:
            s = orjson.loads(row[4])
            if "class_version" not in s:
                return s
        return self.decoder.decode(StoredRow.of(*row))

    def _clear(self, conn: Connection) -> None:
        if self.engine.dialect.name == "postgresql":
            # One statement that frees the tables' files instead of marking each row deleted.
            conn.exec_driver_sql(f"TRUNCATE {', '.join(table.name for table in schema.PROJECTED)}")
        else:
            # Python's SQLite zeroes every freed page (secure_delete): what is deleted here is
            # derived from the events, which stay in the same file.
            before = int(conn.exec_driver_sql("PRAGMA secure_delete").scalar())
            conn.exec_driver_sql("PRAGMA secure_delete = FAST")
            try:
                for table in schema.PROJECTED:
                    conn.execute(delete(table))
            finally:
                conn.exec_driver_sql(f"PRAGMA secure_delete = {before}")
        conn.execute(delete(schema.tracking).where(schema.tracking.c.name == NAME))

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Project everything recorded since the stored position; returns events projected."""
        done = 0
        while True:
            start = self.position()
            notifications = self.log.notifications(start, self.page_size)
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
        fold = _Fold(self)
        with gc_paused():
            fold.add_rows(as_rows(notifications))
        try:
            with self.engine.begin() as conn:
                if not tracking.advance(conn, NAME, start, notifications[-1].id):
                    raise ProjectionConflict
                self._write(conn, fold, upsert=True)
        finally:
            if len(self._leaf_of) > 100_000:  # only a cache between pages
                self._leaf_of.clear()

    def _write(self, conn: Connection, fold: _Fold, *, upsert: bool = False) -> None:
        rows = fold.rows
        opened = {row[0] for row in rows["ledger_budgets"]}
        versions = fold.versions()
        rows["ledger_budgets"] = [(*row, *versions[row[0]]) for row in rows["ledger_budgets"]]
        for table in schema.PROJECTED:
            if table is not schema.leaves and rows[table.name]:
                self._sink.write(conn, table, rows[table.name])
        # Budgets opened before this run: their version and last position move on.
        moved = [{"b_id": bid, "b_version": v, "b_last": p} for bid, (v, p) in versions.items() if bid not in opened]
        if moved:
            b = schema.budgets
            conn.execute(update(b).where(b.c.budget_id == bindparam("b_id"))
                         .values(version=bindparam("b_version"), last_position=bindparam("b_last")), moved)
        if not upsert:
            chunk: list[tuple[str, bytes]] = []
            for bid, balances in fold.leaf_balances():
                chunk.append((bid, balances_json(balances)))
                if len(chunk) >= 500:
                    self._sink.write(conn, schema.leaves, chunk)
                    chunk = []
            if chunk:
                self._sink.write(conn, schema.leaves, chunk)
            return
        added = {bid: dict(pairs) for bid, pairs in fold.leaf_balances()}
        if not added:
            return
        l = schema.leaves
        stored = {row.budget_id: row.balances for row in conn.execute(
            select(l.c.budget_id, l.c.balances).where(l.c.budget_id.in_(list(added))))}
        changed = []
        for bid, text in stored.items():
            merged = parse_balances(text)
            for key, amount in added.pop(bid).items():
                merged[key] = merged.get(key, 0) + amount
            changed.append({"b_id": bid, "b_balances": balances_json(merged.items())})
        if changed:
            conn.execute(update(l).where(l.c.budget_id == bindparam("b_id"))
                         .values(balances=bindparam("b_balances")), changed)
        if added:
            self._sink.write(conn, schema.leaves, [(bid, balances_json(b.items())) for bid, b in added.items()])


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
