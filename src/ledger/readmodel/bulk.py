"""A rebuild inside the database: the line events' rows and postings written by set-based SQL.

The fold in projector.py reads each event into Python, parses its JSON and writes its rows
one by one. When the read model lives in the database that holds the events (always, for a
Ledger), a rebuild can instead let the database do most of it: its JSON functions (SQLite's
json_extract/json_each, PostgreSQL's jsonb operators) read each stored event where it lies,
and `INSERT … SELECT` writes the `ledger_events` and `ledger_postings` rows of the line events
(appropriations, adjustments, transfers, corrections, prior-year figures: nearly all events)
without passing them through Python. Python still does:

- the few other events (a budget opened, a project registered, a document imported, a
  publication), through the ordinary fold;
- the cells of the 13 tables, spread once per leaf from each leaf's final balance (one
  `GROUP BY` over the postings) instead of once per leaf per page of events.

The SQL reproduces the fold only for the stored forms it recognises (`_EVENT_OK`, `_FEN` and
their PostgreSQL twins); any other form leaves a NOT NULL column empty (or fails a cast), the
transaction is rolled back and the projector rebuilds event by event. The result is the same
read model as the fold writes (the same rows; `detail` holds the same JSON value, keys in the
same order, spaced differently): tests/test_bulk_rebuild.py compares the two table by table,
and `ledger verify` compares the read model with a fold into a scratch store. Everything
happens in one transaction, so a rebuild killed midway leaves the read model as it was.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
from sqlalchemy import Connection

from ..domain.budget import Budget
from ..domain.postings import DIMENSIONS

if TYPE_CHECKING:
    from .projector import Projector

# Event classes whose rows SQL writes: the line events (their detail is their lines and provenance).
# Other events (a budget opened, a project registered, a document imported, a publication) are
# few and go through the fold.
LINE_CLASSES = ("Appropriated", "Adjusted", "Transferred", "Corrected", "PriorYearFigureStated")
_TOPIC = f"{Budget.__module__}:{Budget.__qualname__}."

# The forms SQL reproduces exactly as the fold reads them; any other stored form makes a NOT
# NULL column NULL, the insert fails, and the whole rebuild goes through the fold instead:
# the budget id as 32 hex digits (the fold writes str(UUID)), a UTC timestamp (the fold keeps
# its wall time), an ISO date or nothing as the effective date,
# no upcasting, provenance absent or a plain object.
_TS = "json_extract(j, '$.timestamp._data_')"
_EVENT_OK = f"""
    length(originator_id) = 32 AND originator_id NOT GLOB '*[^0-9a-f]*'
    AND json_extract(j, '$.timestamp._type_') = 'datetime_iso' AND substr({_TS}, 11, 1) = 'T'
    AND ((length({_TS}) = 32 AND substr({_TS}, 27) = '+00:00') OR (length({_TS}) = 25 AND substr({_TS}, 20) = '+00:00'))
    AND (coalesce(json_type(j, '$.effective'), 'null') = 'null'
         OR (json_extract(j, '$.effective._type_') = 'date_iso' AND length(json_extract(j, '$.effective._data_')) = 10))
    AND json_type(j, '$.class_version') IS NULL
    AND (coalesce(json_type(j, '$.provenance'), 'null') = 'null'
         OR (json_type(j, '$.provenance') = 'object' AND instr(json_extract(j, '$.provenance'), '"_type_"') = 0))
    AND (topic != '{_TOPIC}Corrected' OR json_type(j, '$.corrected_event_id') = 'text')
    AND json_type(j, '$.lines') = 'array'"""
_BUDGET_ID = ("lower(substr(originator_id, 1, 8) || '-' || substr(originator_id, 9, 4) || '-' || "
              "substr(originator_id, 13, 4) || '-' || substr(originator_id, 17, 4) || '-' || substr(originator_id, 21))")
# (isoformat leaves out the microseconds when they are zero: one event in a million)
_RECORDED = (f"CASE length({_TS}) WHEN 32 THEN replace(substr({_TS}, 1, 26), 'T', ' ') "
             f"ELSE replace(substr({_TS}, 1, 19), 'T', ' ') || '.000000' END")
_EFFECTIVE = "json_extract(j, '$.effective._data_')"
_EVENT_ID = f"coalesce(nullif(json_extract(j, '$.event_id'), ''), {_BUDGET_ID} || ':' || originator_version)"
# 分 from an amount written as 元 with two places ("-1234.50"): the digits without the point,
# which is what the fold's `_fen` does with such text; NULL for any other text.
_A = "json_extract(l.value, '$.amount._data_')"
_FEN = (f"CASE WHEN json_extract(l.value, '$.amount._type_') = 'decimal_str' AND {_A} GLOB '*.[0-9][0-9]' "
        f"AND {_A} NOT GLOB '*[^0-9.-]*' AND {_A} NOT GLOB '?*-*' AND {_A} NOT GLOB '*.*.*' "
        f"THEN CAST(replace({_A}, '.', '') AS INTEGER) END")
_DETAIL = ("json_object('lines', (SELECT json_group_array(json_object("
           "'dims', json(json_extract(l.value, '$.dims')), 'amount', json_extract(l.value, '$.amount._data_')))"
           " FROM json_each(j, '$.lines') AS l), "
           "'provenance', json(json_extract(j, '$.provenance')))")


# The same on PostgreSQL: `j` is the state as jsonb (values), `t` as json (key order kept for
# `detail`, which the fold writes in stored order). Times and dates are cast, so any offset is
# read as the fold reads it; a text that is no time fails the cast, which also sends the
# rebuild to the fold.
_PG_EVENT_OK = f"""
    j->'timestamp'->>'_type_' = 'datetime_iso'
    AND (coalesce(jsonb_typeof(j->'effective'), 'null') = 'null' OR j->'effective'->>'_type_' = 'date_iso')
    AND NOT (j ? 'class_version')
    AND (coalesce(jsonb_typeof(j->'provenance'), 'null') = 'null'
         OR (jsonb_typeof(j->'provenance') = 'object' AND position('"_type_"' in (j->'provenance')::text) = 0))
    AND (topic != '{_TOPIC}Corrected' OR jsonb_typeof(j->'corrected_event_id') = 'string')
    AND jsonb_typeof(j->'lines') = 'array'"""
_PG_RECORDED = "(j->'timestamp'->>'_data_')::timestamptz"
_PG_EFFECTIVE = "(j->'effective'->>'_data_')::date"
_PG_EVENT_ID = "coalesce(nullif(j->>'event_id', ''), originator_id::text || ':' || originator_version)"
_PG_FEN = ("CASE WHEN l->'amount'->>'_type_' = 'decimal_str' AND l->'amount'->>'_data_' ~ '^-?[0-9]*[.][0-9][0-9]$' "
           "THEN replace(l->'amount'->>'_data_', '.', '')::bigint END")
_PG_DETAIL = ("json_build_object('lines', (SELECT json_agg(json_build_object('dims', x.l->'dims', "
              "'amount', x.l->'amount'->>'_data_') ORDER BY x.n) FROM json_array_elements(t->'lines') "
              "WITH ORDINALITY AS x(l, n)), 'provenance', t->'provenance'{extra})")


class Unrecognised(Exception):
    """An event in a form the SQL does not reproduce exactly: the fold must rebuild."""


log = logging.getLogger(__name__)


class _Phases:
    """Wall and CPU time of each phase, logged at DEBUG."""

    def __init__(self) -> None:
        self._last = (time.perf_counter(), time.process_time())

    def done(self, phase: str) -> None:
        now = (time.perf_counter(), time.process_time())
        if log.isEnabledFor(logging.DEBUG):
            log.debug("bulk rebuild: %s %.3f s (cpu %.3f s), rss %s", phase, now[0] - self._last[0],
                      now[1] - self._last[1], _rss())
        self._last = now


def _rss() -> str:
    try:
        with open("/proc/self/status") as fh:
            return next((line.split(":", 1)[1].strip() for line in fh if line.startswith("VmRSS")), "?")
    except OSError:
        return "?"


def usable(projector: Projector) -> bool:
    """Whether this projector's read model is in the database that holds the events, in a form
    the SQL knows (eventsourcing's table of plain JSON states, UUID originator ids)."""
    engine, recorder = projector.engine, projector.app.recorder
    datastore = getattr(recorder, "datastore", None)
    if not projector.same_store or not projector._plain_state:
        return False
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", getattr(recorder, "events_table_name", None) or ""):
        return False
    if getattr(datastore, "originator_id_type", None) != "uuid":
        return False
    if engine.dialect.name == "postgresql":
        return getattr(datastore, "schema", None) in ("", "public")
    name = getattr(getattr(datastore, "pool", None), "db_name", None)
    return (engine.dialect.name == "sqlite" and bool(name) and bool(engine.url.database)
            and Path(name).resolve() == Path(engine.url.database).resolve())


def _selects(dialect: str, table: str, end: int) -> tuple[str, str, str]:
    """The SQL of a rebuild up to a position: the other events (for the fold), and the rows of
    `ledger_events` and of `ledger_postings` for the line events."""
    from .projector import KINDS

    topics = ", ".join(f"'{_TOPIC}{cls}'" for cls in LINE_CLASSES)
    kinds = " ".join(f"WHEN '{_TOPIC}{cls}' THEN '{KINDS[cls]}'" for cls in LINE_CLASSES)
    corrected = f"topic = '{_TOPIC}Corrected'"
    if dialect == "postgresql":
        position = "notification_id"
        events = (f"(SELECT notification_id AS position, originator_id, originator_version, topic, "
                  f"convert_from(state, 'UTF8')::jsonb AS j, convert_from(state, 'UTF8')::json AS t "
                  f"FROM {table} WHERE notification_id <= {int(end)} AND topic IN ({topics}) "
                  f"OFFSET 0) AS e")  # OFFSET 0: parse each state once, not once per use of j or t
        event_rows = f"""
            SELECT position, originator_id::text, {_PG_EVENT_ID}, originator_version, CASE topic {kinds} END,
                   CASE WHEN {_PG_EVENT_OK} THEN {_PG_RECORDED} END, {_PG_EFFECTIVE},
                   coalesce(j->>'reason', ''), j->>'document_no',
                   CASE WHEN {corrected}
                        THEN {_PG_DETAIL.format(extra=", 'corrected_event_id', t->'corrected_event_id'")}
                        ELSE {_PG_DETAIL.format(extra="")} END
            FROM {events}"""
        dims = ", ".join(f"l->'dims'->>'{name}'" for name in DIMENSIONS)
        posting_rows = f"""
            SELECT position, originator_id::text, {_PG_EVENT_ID}, {_PG_RECORDED}, {_PG_EFFECTIVE}, {dims}, {_PG_FEN}
            FROM {events}, jsonb_array_elements(j->'lines') WITH ORDINALITY AS x(l, n)
            ORDER BY position, n"""
    else:
        position = "rowid"
        events = (f"(SELECT rowid AS position, originator_id, originator_version, topic, CAST(state AS TEXT) AS j "
                  f"FROM {table} WHERE rowid <= {int(end)} AND topic IN ({topics}))")
        event_rows = f"""
            SELECT position, {_BUDGET_ID}, {_EVENT_ID}, originator_version, CASE topic {kinds} END,
                   CASE WHEN {_EVENT_OK} THEN {_RECORDED} END, {_EFFECTIVE},
                   coalesce(json_extract(j, '$.reason'), ''), json_extract(j, '$.document_no'),
                   CASE WHEN {corrected}
                        THEN json_set({_DETAIL}, '$.corrected_event_id', json_extract(j, '$.corrected_event_id'))
                        ELSE {_DETAIL} END
            FROM {events}"""
        dims = ", ".join(f"json_extract(l.value, '$.dims.{name}')" for name in DIMENSIONS)
        posting_rows = f"""
            SELECT position, {_BUDGET_ID}, {_EVENT_ID}, {_RECORDED}, {_EFFECTIVE}, {dims}, {_FEN}
            FROM {events}, json_each(j, '$.lines') AS l
            ORDER BY position"""
    others = (f"SELECT {position}, originator_id, originator_version, topic, state FROM {table} "
              f"WHERE {position} <= {int(end)} AND topic NOT IN ({topics}) ORDER BY {position}")
    return others, event_rows, posting_rows


def _notifications(cursor: Any) -> Iterator[Any]:
    """Rows of the events table as the fold reads notifications."""
    for position, originator_id, version, topic, state in cursor:
        yield SimpleNamespace(id=position, originator_id=originator_id if isinstance(originator_id, UUID)
                              else UUID(originator_id), originator_version=version, topic=topic, state=bytes(state))


def rebuild(projector: Projector, conn: Connection,
            progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Write the whole read model from the events into the (emptied) tables; returns the
    number of events and the last position. `conn` is inside the rebuild's transaction;
    raises Unrecognised (and the caller rolls back) when some event needs the fold."""
    from . import schema
    from .projector import COLUMNS

    driver = conn.connection.driver_connection
    dialect = projector.engine.dialect.name
    phases = _Phases()
    events_table = projector.app.recorder.events_table_name
    end = _end(driver, dialect, events_table)
    others, event_rows, posting_rows = _selects(dialect, events_table, end)

    # 1. The other events through the fold (budgets first: the cells need their agency units).
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    folded = 0

    def write() -> None:
        if rows.get("ledger_postings"):
            raise Unrecognised("lines in an event that is not a line event")
        for table in schema.PROJECTED:
            if rows.get(table.name):
                projector._sink.write(conn, table, rows[table.name])
        rows.clear()

    for n in _notifications(_stream(driver, dialect, others)):
        projector._fold(n, projector.decode(n), rows, {})
        folded += 1
        if folded % projector.page_size == 0:
            write()
            if progress:
                progress(projector.page_size)
    write()
    if progress:
        progress(folded % projector.page_size)
    phases.done(f"fold {folded} other events")

    # 2. The line events' rows, by SQL.
    try:
        with _page_cache(driver, dialect, EVENTS_CACHE_KIB):
            lines = driver.execute(f"INSERT INTO ledger_events ({', '.join(COLUMNS['ledger_events'])}) {event_rows}"
                                   ).rowcount
        phases.done("ledger_events")
        driver.execute(f"INSERT INTO ledger_postings ({', '.join(COLUMNS['ledger_postings'])}) {posting_rows}")
        phases.done("ledger_postings")
    except _REFUSED as exc:
        raise Unrecognised(str(exc).strip()) from exc
    if progress:
        progress(lines)

    # 3. The cells, from each leaf's balance.
    _cells(projector, conn, dialect, phases)
    return folded + lines, end


# What the database says when the SQL meets a stored form it does not reproduce: a NOT NULL
# column left empty, or (PostgreSQL) a text that is no time or date.
_REFUSED = (sqlite3.IntegrityError, psycopg.errors.IntegrityError, psycopg.errors.DataError)


# SQLite's page cache while the events are written (KiB): their unique index of event ids
# grows at random places, and with the default 2 MB nearly every insert reads index pages
# back from the file. Only for that statement, to keep the rebuild's memory small.
EVENTS_CACHE_KIB = 32768


@contextmanager
def _page_cache(driver: Any, dialect: str, kib: int) -> Iterator[None]:
    if dialect != "sqlite":
        yield
        return
    before = driver.execute("PRAGMA cache_size").fetchone()[0]
    driver.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {int(before)}")


def _end(driver: Any, dialect: str, table: str) -> int:
    column = "notification_id" if dialect == "postgresql" else "rowid"
    return int(driver.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()[0])


def _stream(driver: Any, dialect: str, sql: str) -> Iterator[tuple[Any, ...]]:
    """Rows of a query, fetched as they are read (PostgreSQL: a server-side cursor, so that a
    million rows never sit in memory at once)."""
    if dialect != "postgresql":
        yield from driver.execute(sql)
        return
    with driver.cursor(name="ledger_rebuild_stream") as cursor:
        cursor.itersize = 2000
        cursor.execute(sql)
        yield from cursor


def floor(projector: Projector) -> int:
    """What a rebuild cannot avoid, for this path (the benchmarks' floor): read every event and
    decode it, without projecting or writing anything. The other events are decoded by the
    fold's decoder; for the line events the database parses each stored event and extracts
    every field the rebuild reads (each line's dimensions and amount included), and discards
    them. Returns the number of events."""
    paths = ("timestamp._data_", "effective._data_", "reason", "document_no", "event_id", "provenance",
             "corrected_event_id")
    line_paths = ("amount._type_", "amount._data_", *(f"dims.{name}" for name in DIMENSIONS))
    topics = ", ".join(f"'{_TOPIC}{cls}'" for cls in LINE_CLASSES)
    dialect = projector.engine.dialect.name
    with projector.engine.begin() as conn:
        driver = conn.connection.driver_connection
        table = projector.app.recorder.events_table_name
        end = _end(driver, dialect, table)
        others, _event_rows, _posting_rows = _selects(dialect, table, end)
        count = 0
        for n in _notifications(_stream(driver, dialect, others)):
            projector.decode(n)
            count += 1
        if dialect == "postgresql":
            def get(doc: str, path: str) -> str:
                return f"coalesce(({doc} #>> '{{{path.replace('.', ',')}}}'), '')"

            every = " || ".join(["originator_id::text", "originator_version::text", "topic",
                                 *(get("j", p) for p in paths)])
            lines = " || ".join(get("l", p) for p in line_paths)
            sql = (f"SELECT count(*), sum(length({every}) + coalesce((SELECT sum(length({lines})) "
                   f"FROM jsonb_array_elements(j->'lines') AS l), 0)) "
                   f"FROM (SELECT originator_id, originator_version, topic, convert_from(state, 'UTF8')::jsonb AS j "
                   f"FROM {table} WHERE notification_id <= {end} AND topic IN ({topics})) AS e")
        else:
            every = " || ".join(["quote(rowid)", "quote(originator_id)", "quote(originator_version)", "quote(topic)",
                                 *(f"quote(json_extract(j, '$.{p}'))" for p in paths)])
            lines = " || ".join(f"quote(json_extract(l.value, '$.{p}'))" for p in line_paths)
            sql = (f"SELECT count(*), sum(length({every}) + coalesce((SELECT sum(length({lines})) "
                   f"FROM json_each(j, '$.lines') AS l), 0)) "
                   f"FROM (SELECT rowid, originator_id, originator_version, topic, CAST(state AS TEXT) AS j "
                   f"FROM {table} WHERE rowid <= {end} AND topic IN ({topics}))")
        count += driver.execute(sql).fetchone()[0]
    return count


def _cells(projector: Projector, conn: Connection, dialect: str, phases: _Phases) -> None:
    """Each leaf's balance spread to the cells it feeds, budget by budget.

    A budget's ~150 leaves feed ~50 cells each. The cells a classification pattern feeds are
    numbered once (`fixed`); each budget's contributions are then summed with numpy on
    exact 64-bit integers of 分 (a sum would overflow only beyond 9 × 10^16 元)."""
    templates = projector._templates
    if templates is None:
        raise Unrecognised("a table definition filters on unit or project names")
    names = ", ".join(DIMENSIONS)
    from . import schema

    cursor = _stream(conn.connection.driver_connection, dialect,
                     f"SELECT budget_id, {names}, sum(amount_fen) FROM ledger_postings WHERE measure = 'budget' "
                     f"GROUP BY budget_id, {names} ORDER BY budget_id")
    # Cells every line of a pattern feeds get ids >= 0, numbered once for the whole rebuild;
    # cells carrying a unit or project name get ids < 0, numbered afresh for each budget.
    ids: dict[tuple[int, str, str], int] = {}
    keys: list[tuple[int, str, str]] = []
    named_ids: dict[tuple[int, str, str], int] = {}
    named_keys: list[tuple[int, str, str]] = []

    def number(cells: list[tuple[int, str, str]], ids: dict, keys: list, sign: int) -> np.ndarray:
        out = []
        for cell in cells:
            i = ids.get(cell)
            if i is None:
                keys.append(cell)
                i = ids[cell] = len(keys) - 1 if sign > 0 else -len(keys)
            out.append(i)
        return np.array(out, dtype=np.int64)

    def flush(budget: str, parts: list[np.ndarray], amounts: list[int]) -> None:
        if not parts:
            return
        index = np.concatenate(parts)
        values = np.repeat(np.array(amounts, dtype=np.int64), [len(p) for p in parts])
        cells, where = np.unique(index, return_inverse=True)
        sums = np.zeros(len(cells), dtype=np.int64)
        np.add.at(sums, where, values)
        projector._sink.write(conn, schema.cells, [(budget, *(keys[i] if i >= 0 else named_keys[-i - 1]), v)
                                                   for i, v in zip(cells.tolist(), sums.tolist())])

    # A leaf's pattern, from its row with the names masked (the same for every budget); its
    # named cells, once per budget for each pattern's list of them and the leaf's names.
    unit_at, project_at = 1 + DIMENSIONS.index("unit"), 1 + DIMENSIONS.index("project")
    lo, hi = sorted((unit_at, project_at))
    patterns: dict[Any, tuple[np.ndarray, list[tuple[int, str, str]]]] = {}
    named_cells: dict[tuple[int, Any, Any], np.ndarray] = {}
    budget, parts, amounts, agency = None, [], [], frozenset()
    for row in cursor:
        if row[0] != budget:
            flush(budget, parts, amounts)
            budget, parts, amounts = row[0], [], []
            named_ids.clear()
            named_keys.clear()
            named_cells.clear()
            agency = projector.agency_units(budget)
        unit, project, fen = row[unit_at], row[project_at], row[-1]
        is_agency = unit in agency
        masked = (row[1:lo] + (row[lo] is None,) + row[lo + 1:hi] + (row[hi] is None,) + row[hi + 1:-1], is_agency)
        pattern = patterns.get(masked)
        if pattern is None:
            dims = {name: value for name, value in zip(DIMENSIONS, row[1:-1]) if value is not None}
            _key, fixed, named = templates.pattern(dims, is_agency)
            pattern = patterns[masked] = (number(fixed, ids, keys, 1), named)
        fixed_cells, named = pattern
        parts.append(fixed_cells)
        amounts.append(fen)
        if named:
            key = (id(named), unit, project)
            cells = named_cells.get(key)
            if cells is None:
                cells = named_cells[key] = number(templates.named(named, unit, project), named_ids, named_keys, -1)
            parts.append(cells)
            amounts.append(fen)
    flush(budget, parts, amounts)
    phases.done("ledger_cells")
