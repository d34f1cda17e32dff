"""The fold: read the notification log and project it into the read model.

The read model holds what today's tables and the budget list need: each leaf's balance
(`ledger_leaves`: a leaf is a budget and a distinct set of dimensions some line posted to),
the budgets with their version, the projects, publications and imported documents. The
past is not copied: history reads the event log itself (eventlog.py).

`catch_up` continues from the stored position in pages. Each page is written in one
transaction together with the projector's position, and the position is advanced only if it
is still where this run started from, so a crash or a second process never counts an event
twice. Leaves are upserted (balance + what the page adds).

`rebuild` clears the read model and folds every event in ONE transaction: a rebuild killed
midway leaves the read model as it was. It reads the events table directly (in large
batches, parsed with orjson), adds each line's amount to its leaf in memory, and writes
each leaf once at the end, so it writes a row per leaf, not per event (see benchmarks/).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from sqlalchemy import Connection, Engine, Table, bindparam, delete, insert, select, update

from ..domain.classification import AGENCY_CATEGORIES
from ..eventstore import gc_paused
from . import schema
from .eventlog import Decoder, StoredRow, balances_text, canonical, dims_key, fen, is_canonical, parse_balances

log = logging.getLogger(__name__)

NAME = "tables"
PAGE_SIZE = 5000
# Rows fetched at a time by a rebuild.
REBUILD_BATCH = 2000
# Events whose lines post to leaves.
LINE_CLASSES = frozenset({"Appropriated", "Adjusted", "Transferred", "Corrected", "PriorYearFigureStated"})

# Column order of the rows the fold produces.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ledger_budgets": ("budget_id", "department", "fiscal_year", "units", "position", "opened_at", "effective",
                       "version", "last_position"),
    "ledger_leaves": ("budget_id", "balances"),
    "ledger_projects": ("budget_id", "name", "unit", "category", "annual_amount_fen", "targets", "position"),
    "ledger_publications": ("budget_id", "name", "position", "effective", "recorded_at"),
    "ledger_documents": ("budget_id", "sha256", "name", "position", "tables", "rounding"),
}


class ProjectionConflict(RuntimeError):
    """Another process advanced the projection first; this page was not written."""


class _Fold:
    """What a run of events adds to the read model: new rows, each touched budget's version
    and last position, and what the lines add to each leaf (by budget, then by the leaf's
    stored dimensions text)."""

    def __init__(self, projector: Projector):
        self.projector = projector
        self.decoder = projector.decoder
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
        self.budgets: dict[str, list[int]] = {}  # budget id → [version, last position]
        self.leaves: dict[str, dict[int, int]] = {}
        self.count = 0

    def add(self, position: int, originator_id: Any, version: int, topic: str, s: dict[str, Any]) -> None:
        p = self.projector
        bid = p._budget_ids.get(originator_id)
        if bid is None:
            bid = p._budget_ids[originator_id] = str(originator_id if isinstance(originator_id, UUID)
                                                     else UUID(originator_id))
        cls = p._classes.get(topic)
        if cls is None:
            cls = p._classes[topic] = topic.rpartition(".")[2]
        self.count += 1
        seen = self.budgets.get(bid)
        if seen is None:
            self.budgets[bid] = [version, position]
        else:
            seen[0] = version
            seen[1] = position
        if cls not in LINE_CLASSES:
            self._other(position, bid, cls, s)
            return
        leaves = self.leaves.get(bid)
        if leaves is None:
            leaves = self.leaves[bid] = {}
        p._post(leaves, s["lines"])

    def _other(self, position: int, bid: str, cls: str, s: dict[str, Any]) -> None:
        plain = self.decoder.plain
        recorded = datetime.fromisoformat(plain(s["timestamp"]))
        if recorded.tzinfo is None:
            recorded = recorded.replace(tzinfo=timezone.utc)
        effective = s.get("effective")
        if effective is not None:
            effective = date.fromisoformat(plain(effective))
        if cls == "Opened":
            units = plain(s["units"])
            # version and last position are filled in when the fold is written
            self.rows["ledger_budgets"].append((bid, s["department"], s["fiscal_year"], units, position, recorded,
                                                effective))
            self.projector._agency[bid] = frozenset(u["name"] for u in units if u["category"] in AGENCY_CATEGORIES)
        elif cls == "ProjectRegistered":
            annual = plain(s["annual_amount"])
            self.rows["ledger_projects"].append(
                (bid, s["name"], s["unit"], s["category"], schema.to_fen(Decimal(annual)) if annual is not None else None,
                 plain(s["targets"]), position))
        elif cls == "DocumentImported":
            self.rows["ledger_documents"].append((bid, s["sha256"], s["name"], position, plain(s["tables"]),
                                                  plain(s["rounding"])))
        elif cls == "Published":
            self.rows["ledger_publications"].append((bid, s["name"], position, effective, recorded))

    def leaf_balances(self) -> Iterator[tuple[str, dict[bytes, int]]]:
        """What the lines add to each leaf, budget by budget ({dimensions' text: 分}); each
        budget is let go as it is given."""
        text = self.projector._key_text
        while self.leaves:
            bid, leaves = self.leaves.popitem()
            yield bid, {text[key]: amount for key, amount in leaves.items()}

    def take_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of projects, publications and documents so far (written as they come, so
        that a rebuild never holds them all)."""
        taken = {name: rows for name, rows in self.rows.items() if name != "ledger_budgets" and rows}
        for name in taken:
            self.rows[name] = []
        return taken


class Projector:
    def __init__(self, app: Application, engine: Engine, page_size: int = PAGE_SIZE, *, same_store: bool = False):
        self.app = app
        self.engine = engine
        # Whether the read model is in the database that holds the events (a rebuild then
        # reads the events table directly); a scratch read model elsewhere (verify) is not.
        self.same_store = same_store
        self.page_size = page_size
        self.decoder = Decoder(app)
        self._sink = _Sink(engine)
        self._agency: dict[str, frozenset[str]] = {}
        self._budget_ids: dict[Any, str] = {}  # stored stream id → budget id, once per budget
        self._classes: dict[str, str] = {}  # topic → event class name
        # A line's dimensions as stored (orjson's text of them) → the leaf key (an int), and
        # each key's canonical text: lines are keyed without sorting their dimensions.
        self._key_of: dict[bytes, int] = {}
        self._key_text: list[bytes] = []
        self._canonical_key: dict[bytes, int] = {}

    def _post(self, leaves: dict[int, int], lines: list[dict[str, Any]]) -> None:
        """Add each stored line's amount (in 分) to its leaf's (keyed by its dimensions)."""
        key_of, dumps = self._key_of, orjson.dumps
        for line in lines:
            amount = line["amount"]
            text = amount["_data_"] if amount.__class__ is dict and amount.get("_type_") == "decimal_str" \
                else self.decoder.plain(amount)
            cents = fen(text)
            dims = line["dims"]
            raw = dumps(dims)
            key = key_of.get(raw)
            if key is None:
                key = self._leaf_key(raw, dims)
            leaves[key] = leaves.get(key, 0) + cents

    def _leaf_key(self, raw: bytes, dims: dict[str, Any]) -> int:
        # Usually the stored form is the canonical one: then one bytes object serves as both.
        # (A copy: orjson's bytes keep its 1 KiB output buffer, and a million-event rebuild
        # keeps ~200,000 of them.)
        raw = bytes(memoryview(raw))
        text = raw if is_canonical(dims) else bytes(memoryview(dims_key(canonical(dims))))
        key = self._canonical_key.get(text)
        if key is None:
            key = self._canonical_key[text] = len(self._key_text)
            self._key_text.append(text)
        self._key_of[raw] = key
        return key

    def _forget_keys(self) -> None:
        self._key_of.clear()
        self._key_text.clear()
        self._canonical_key.clear()

    # ------------------------------------------------------------------ position

    def position(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(schema.tracking.c.position).where(schema.tracking.c.name == NAME)).scalar()
        return int(value or 0)

    def max_position(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    # ------------------------------------------------------------------- running

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Clear the read model and fold every event again, in one transaction; then catch
        up with anything recorded meanwhile. Returns the number of events folded."""
        self._agency.clear()
        with gc_paused(), self.engine.connect() as conn, _relaxed_sync(conn), conn.begin():
            self._clear(conn)
            fold = _Fold(self)
            fold_rows = self._fold_rows(fold)
            end = 0
            for rows in self._all_rows(conn):
                fold_rows(rows)
                end = rows[-1][0]
                for name, taken in fold.take_rows().items():
                    self._sink.write(conn, schema.metadata.tables[name], taken)
                if progress:
                    progress(len(rows))
            self._key_of.clear()  # only the keys' texts are needed from here on
            self._canonical_key.clear()
            self._write(conn, fold)
            if end:
                conn.execute(insert(schema.tracking).values(name=NAME, position=end))
            count = fold.count
            del fold
            self._forget_keys()
        return count + self.catch_up(progress)

    def _fold_rows(self, fold: _Fold) -> Callable[[Sequence[Any]], None]:
        add, decode = fold.add, self._decoder_of_rows()

        def fold_rows(rows: Sequence[Any]) -> None:
            for row in rows:
                add(row[0], row[1], row[2], row[3], decode(row))

        return fold_rows

    @property
    def reads_table(self) -> bool:
        """Whether a rebuild reads eventsourcing's table directly (else through the recorder)."""
        return self.same_store and self.decoder.plain_state

    def floor(self) -> int:
        """What a rebuild cannot avoid (the benchmarks' floor): read and decode every event as
        the rebuild does, folding and writing nothing. Returns the number of events."""
        count = 0
        with gc_paused(), self.engine.begin() as conn:
            decode = self._decoder_of_rows()
            for rows in self._all_rows(conn):
                for row in rows:
                    decode(row)
                count += len(rows)
        return count

    def _all_rows(self, conn: Connection) -> Iterator[Sequence[Any]]:
        """Every event as rows of (position, stream id, version, topic, state), in batches:
        straight from the events table when it is in this database, else from the recorder."""
        if self.reads_table:
            table = self.app.recorder.events_table_name
            postgres = self.engine.dialect.name == "postgresql"
            position = "notification_id" if postgres else "rowid"
            driver = conn.connection.driver_connection
            cursor = driver.cursor(name="ledger_rebuild") if postgres else driver.cursor()
            try:
                cursor.execute(f"SELECT {position}, originator_id, originator_version, topic, state FROM {table} "
                               f"ORDER BY {position}")
                while rows := cursor.fetchmany(REBUILD_BATCH):
                    yield rows
            finally:
                cursor.close()
            return
        start = 0
        while notifications := self.app.recorder.select_notifications(start=start + 1, limit=self.page_size):
            yield [(n.id, n.originator_id, n.originator_version, n.topic, n) for n in notifications]
            start = notifications[-1].id

    def _decoder_of_rows(self) -> Callable[[Sequence[Any]], dict[str, Any]]:
        """Decodes a row of _all_rows: orjson for a plain state read from the table (the mapper
        for one to be upcast), else the decoder (the row then carries the notification)."""
        decoder = self.decoder
        if not self.reads_table:
            return lambda row: decoder.decode(row[4])
        loads = orjson.loads

        def decode(row: Sequence[Any]) -> dict[str, Any]:
            s = loads(row[4])
            if "class_version" in s:
                return decoder.decode(StoredRow.of(*row))
            return s

        return decode

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
        fold = _Fold(self)
        with gc_paused():
            for n in notifications:
                fold.add(n.id, n.originator_id, n.originator_version, n.topic, self.decoder.decode(n))
        end = notifications[-1].id
        try:
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
                self._write(conn, fold, upsert=True)
        finally:
            if len(self._key_text) > 100_000:  # keys are only a cache between pages
                self._forget_keys()

    def _write(self, conn: Connection, fold: _Fold, *, upsert: bool = False) -> None:
        rows = fold.rows
        opened = {row[0] for row in rows["ledger_budgets"]}
        rows["ledger_budgets"] = [(*row, *fold.budgets[row[0]]) for row in rows["ledger_budgets"]]
        for table in schema.PROJECTED:
            if table is not schema.leaves and rows[table.name]:
                self._sink.write(conn, table, rows[table.name])
        # Budgets opened before this run: their version and last position move on.
        moved = [{"b_id": bid, "b_version": v, "b_last": p} for bid, (v, p) in fold.budgets.items() if bid not in opened]
        if moved:
            b = schema.budgets
            conn.execute(update(b).where(b.c.budget_id == bindparam("b_id"))
                         .values(version=bindparam("b_version"), last_position=bindparam("b_last")), moved)
        if not upsert:
            chunk: list[tuple[str, str]] = []
            for bid, balances in fold.leaf_balances():
                chunk.append((bid, balances_text(balances)))
                if len(chunk) >= 500:
                    self._sink.write(conn, schema.leaves, chunk)
                    chunk = []
            if chunk:
                self._sink.write(conn, schema.leaves, chunk)
            return
        added = dict(fold.leaf_balances())
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
            changed.append({"b_id": bid, "b_balances": balances_text(merged)})
        if changed:
            conn.execute(update(l).where(l.c.budget_id == bindparam("b_id"))
                         .values(balances=bindparam("b_balances")), changed)
        if added:
            self._sink.write(conn, schema.leaves, [(bid, balances_text(b)) for bid, b in added.items()])


@contextmanager
def _relaxed_sync(conn: Connection) -> Iterator[None]:
    """SQLite: no fsync of the log at the rebuild's commit (synchronous NORMAL, still atomic:
    a power cut may lose the rebuilt read model, never half of it, and the next catch-up or
    rebuild makes it again from the events); the connection's setting is restored after."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    before = driver.execute("PRAGMA synchronous").fetchone()[0]
    if driver.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        yield
        return
    driver.execute("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA synchronous = {int(before)}")


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
