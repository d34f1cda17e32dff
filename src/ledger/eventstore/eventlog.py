"""The event log itself, read back: a budget's events with their positions, decoded; pages of
the notification log; every stored row, for a rebuild.

The read model (readmodel/projector.py) keeps what the current tables need: each leaf's balance, the
budgets, projects, publications and documents. Everything about the past (the tables as of
a position, time or date, the events behind a cell, what changed between two points, the
event feed) is read from the events as they are stored, here: a budget is one stream in
eventsourcing's table (its primary key is the stream and version, so reading one budget is
one index range), and a budget holds hundreds of events, not millions. Nothing is copied,
so nothing can drift from the log: an auditor's history is the log.

Stored states are parsed with orjson when they are plain JSON (the default); encrypted,
compressed or upcast events go through the application's mapper. The fold reads only the
lines of an event with lines, typed (msgspec: `Decoder.typed_lines`), everything else as above.
(orjson reads an integer beyond 64 bits as a float; the events this ledger writes hold none:
amounts are decimal text, integers are years, versions and row numbers.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import orjson
from eventsourcing.application import Application
from eventsourcing.utils import get_topic
from msgspec import UNSET, UnsetType
from sqlalchemy import Connection, Engine

from ..domain.budget import EVENT_KINDS, LINE_EVENTS, Budget, declared, event_class
from ..domain.postings import DIMENSIONS
from . import timelimit

# What the history shows of each kind of event besides its lines, reason and dates.
_DETAIL = {
    Budget.Opened: declared(Budget.Opened, "department", "fiscal_year", "units", "provenance"),
    Budget.ProjectRegistered: declared(Budget.ProjectRegistered, "name", "unit", "annual_amount", "provenance"),
    Budget.DocumentImported: declared(Budget.DocumentImported, "sha256", "name", "tables", "rounding", "layout", "phase"),
    Budget.FinalAccountsRecorded: declared(Budget.FinalAccountsRecorded, "provenance"),
    Budget.Published: declared(Budget.Published, "name"),
    Budget.Appropriated: declared(Budget.Appropriated, "provenance"),
    Budget.PriorYearFigureStated: declared(Budget.PriorYearFigureStated, "provenance"),
    Budget.Corrected: declared(Budget.Corrected, "corrected_event_id", "answers"),
    Budget.AuditRecorded: declared(Budget.AuditRecorded, "document", "sha256", "rules_version", "counts", "findings"),
}

# Who recorded an event (issue 20): every kind has the field; events stored before have none.
_ACTOR = {cls: declared(cls, "actor")[0] for cls in EVENT_KINDS}

# Transcodings whose stored form (the `_data_` string) is what the read model keeps:
# str(Decimal), date.isoformat(), datetime.isoformat().
_AS_STORED = frozenset({"decimal_str", "date_iso", "datetime_iso"})
_DIMENSION_ORDER = {name: i for i, name in enumerate(DIMENSIONS)}
_LAST = 2**63 - 1  # the largest position a store can hold (64-bit)


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


class Amount(msgspec.Struct, tag_field="_type_", tag="decimal_str", forbid_unknown_fields=True, gc=False):
    """An amount as the transcoder stores it: {"_type_": "decimal_str", "_data_": str(Decimal)}."""

    value: Decimal = msgspec.field(name="_data_")


class StoredLine(msgspec.Struct, gc=False):
    """A line as the fold reads it: its dimensions' JSON text as stored (a leaf is looked up by
    it, see projector.py, without building a dict) and its amount."""

    dims: msgspec.Raw
    amount: Amount


class _Lines(msgspec.Struct):
    """What the fold reads of an event with lines (every other field is skipped)."""

    lines: list[StoredLine]
    class_version: int | UnsetType = UNSET


class Decoder:
    """Stored event states as JSON with tagged values ({"_type_", "_data_"})."""

    def __init__(self, app: Application):
        self.app = app
        mapper = app.mapper
        # Stored state is plain JSON unless the application encrypts or compresses it.
        self.plain_state = mapper.cipher is None and mapper.compressor is None
        self._read_lines = msgspec.json.Decoder(_Lines).decode

    def typed_lines(self, state: bytes) -> list[StoredLine] | None:
        """The lines of a plain stored state in the usual form, read straight into StoredLine;
        None for any other (an amount stored another way, a state to be upcast)."""
        try:
            stored = self._read_lines(state)
        except msgspec.DecodeError:
            return None
        return stored.lines if stored.class_version is UNSET else None

    def full_lines(self, n: Any) -> list[StoredLine]:
        """The lines of a stored event with lines (n: a notification or a StoredRow) that
        typed_lines does not take: decoded in full (as history reads it) and converted."""
        return [StoredLine(msgspec.Raw(orjson.dumps(line["dims"])), Amount(Decimal(str(self.plain(line["amount"])))))
                for line in self.decode(n)["lines"]]

    def decode(self, n: Any) -> dict[str, Any]:
        if self.plain_state:
            state = orjson.loads(n.state)
            if "class_version" not in state:
                return state
        # Encrypted, compressed or to be upcast: let the mapper decode, then read as stored.
        event = self.app.mapper.to_domain_event(n)
        fields = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
        return json.loads(self.app.mapper.transcoder.encode(fields))

    def plain(self, value: Any) -> Any:
        """A stored value as the read model keeps it (what jsonable gives for the decoded value)."""
        if type(value) is dict and len(value) == 2 and type(value.get("_type_")) is str and "_data_" in value:
            if value["_type_"] in _AS_STORED:
                return value["_data_"]  # a timestamp, a date, an amount: kept as stored
        if isinstance(value, (dict, list)):
            try:
                if b'"_type_"' not in orjson.dumps(value):
                    return value  # nothing tagged inside (one C call instead of a walk in Python)
            except TypeError:  # e.g. an integer beyond 64 bits (from the mapper's decoding)
                pass
        return self._plain(value)

    def plain_json(self, value: Any) -> Any:
        """plain(value) for a JSON column: as its JSON text (an orjson.Fragment, which the
        column's serializer, storage.json_text, writes as it is) when nothing inside is tagged,
        so that it is serialized once; else as plain gives it."""
        try:
            text = orjson.dumps(value)
        except TypeError:
            return self._plain(value)
        return self._plain(value) if b'"_type_"' in text else orjson.Fragment(text)

    def _plain(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                if value["_type_"] in _AS_STORED:
                    return value["_data_"]
                return jsonable(self.app.mapper.transcoder.decode(json.dumps(value).encode()))
            return {k: self._plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._plain(v) for v in value]
        return value


def fen(amount: str) -> int:
    """分 from a stored amount: str(Decimal) of a 元 amount, normally with exactly two places
    (an exponent, if any, comes after the point, so "….dd" has none)."""
    if amount[-3:-2] == "." and amount[-2:].isdigit():
        return int(amount.replace(".", "", 1))
    return int((Decimal(amount) * 100).to_integral_exact())


def canonical(dims: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A line's dimensions in the fixed order, as text."""
    return tuple(sorted(((k, str(v)) for k, v in dims.items()), key=lambda item: _DIMENSION_ORDER[item[0]]))


@dataclass(frozen=True)
class Line:
    dims: tuple[tuple[str, str], ...]  # canonical
    fen: int


@dataclass(frozen=True)
class LoggedEvent:
    """One stored event as the history reads it."""

    position: int
    budget_id: str
    event_id: str
    version: int
    kind: str
    recorded_at: datetime  # UTC
    effective: date | None
    reason: str
    document_no: str | None
    detail: dict[str, Any]
    lines: tuple[Line, ...]
    actor: str | None = None  # who recorded it ("role:name", "cli:name"); None in older events

    @property
    def provenance(self) -> dict | None:
        return self.detail.get("provenance")


def topic_class(topic: str) -> type | None:
    """The event class a stored topic names (by its class name), or None."""
    return event_class(topic.rpartition(".")[2])


def logged(n: Any, s: dict[str, Any], decoder: Decoder) -> LoggedEvent:
    """A decoded stored event (n: a notification or a row like one) as the history reads it."""
    bid = str(n.originator_id)
    cls = topic_class(n.topic)
    plain = decoder.plain
    detail: dict[str, Any] = {}
    lines: list[Line] = []
    if cls in LINE_EVENTS:
        shown = []
        for line in s["lines"]:
            amount = plain(line["amount"])
            shown.append({"dims": line["dims"], "amount": amount})
            lines.append(Line(canonical(line["dims"]), fen(amount)))
        detail = {"lines": shown, "provenance": None}
    detail.update((name, plain(s.get(name))) for name in _DETAIL.get(cls, ()))
    effective = s.get("effective")
    recorded = datetime.fromisoformat(plain(s["timestamp"]))
    return LoggedEvent(
        position=n.id, budget_id=bid, event_id=s.get("event_id") or f"{bid}:{n.originator_version}",
        version=n.originator_version, kind=EVENT_KINDS.get(cls, n.topic.rpartition(".")[2]),
        recorded_at=recorded if recorded.tzinfo else recorded.replace(tzinfo=timezone.utc),
        effective=date.fromisoformat(plain(effective)) if effective is not None else None,
        reason=s.get("reason", "") or "", document_no=s.get("document_no"), detail=detail, lines=tuple(lines),
        actor=s.get(_ACTOR[cls]) if cls in _ACTOR else None)


@dataclass(frozen=True)
class StoredRow:
    """A row of the events table in the shape of a notification (what the mapper decodes)."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    @classmethod
    def of(cls, position: int, originator_id: Any, version: int, topic: str, state: Any) -> StoredRow:
        return cls(position, originator_id if isinstance(originator_id, UUID) else UUID(originator_id), version,
                   topic, bytes(state))


class EventLog:
    """Reads of the event store's own table (eventsourcing's layout: SQLite keeps the position
    as the rowid and the stream id as 32 hex digits; PostgreSQL has notification_id and uuid)."""

    def __init__(self, app: Application, engine: Engine, *, same_database: bool = True):
        self.app = app
        self.engine = engine
        # Whether `engine` is the database that holds the events (verify reads the events
        # into a scratch read model elsewhere).
        self.same_database = same_database
        self.decoder = Decoder(app)
        self.table = app.recorder.events_table_name
        self.postgres = engine.dialect.name == "postgresql"
        columns = "originator_id, originator_version, topic, state"
        if self.postgres:
            # The stream by its key, then bounded: with the bound in the same WHERE, PostgreSQL
            # (without fresh statistics, as after a large import) ANDs it with the position index
            # and scans most of that index (30 ms instead of 0.6 ms at 1M events).
            self._stream_sql = (f"WITH stream AS MATERIALIZED (SELECT notification_id, {columns} FROM {self.table} "
                                f"WHERE originator_id = %s) SELECT notification_id, {columns} FROM stream "
                                f"WHERE notification_id <= %s ORDER BY originator_version")
        else:
            self._stream_sql = (f"SELECT rowid, {columns} FROM {self.table} WHERE originator_id = ? AND rowid <= ? "
                                f"ORDER BY originator_version")
        # Keyset reads of one stream (budget_page, find): its primary key (stream, version).
        mark, position = ("%s", "notification_id") if self.postgres else ("?", "rowid")
        self._max_version_sql = f"SELECT max(originator_version) FROM {self.table} WHERE originator_id = {mark}"
        self._position_sql = (f"SELECT {position} FROM {self.table} "
                              f"WHERE originator_id = {mark} AND originator_version = {mark}")
        self._version_at_sql = (f"SELECT originator_version FROM {self.table} "
                                f"WHERE {position} = {mark} AND originator_id = {mark}")
        self._range_sql = (f"SELECT {position}, {columns} FROM {self.table} WHERE originator_id = {mark} "
                           f"AND originator_version > {mark} AND originator_version <= {mark} "
                           f"ORDER BY originator_version LIMIT {mark}")
        contains = f"position({mark}::bytea in state) > 0" if self.postgres else f"instr(state, {mark}) > 0"
        self._search_sql = (f"SELECT {position}, {columns} FROM {self.table} WHERE originator_id = {mark} "
                            f"AND {contains} ORDER BY originator_version")
        self._kind_sql = (f"SELECT {position}, {columns} FROM {self.table} WHERE originator_id = {mark} "
                          f"AND topic = {mark} ORDER BY originator_version")

    def _stream_id(self, budget_id: str) -> Any:
        uuid = UUID(budget_id)
        if self.postgres:
            return uuid
        return uuid.hex if getattr(self.app.recorder.datastore, "originator_id_type", "uuid") == "uuid" else str(uuid)

    def budget_events(self, budget_id: str, upto: int | None = None) -> list[LoggedEvent]:
        """A budget's events in order, up to a position (inclusive) if given."""
        with self.engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()
            try:
                cursor.execute(self._stream_sql, (self._stream_id(budget_id), _LAST if upto is None else upto))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        out = []
        for i, row in enumerate(rows):
            if not i % 512:
                timelimit.check()  # a long history stops at the read's time limit
            n = StoredRow.of(*row)
            out.append(logged(n, self.decoder.decode(n), self.decoder))
        return out

    def budget_page(self, budget_id: str, after: int, upto: int, limit: int,
                    include: Callable[[LoggedEvent], bool] | None = None) -> list[LoggedEvent]:
        """A budget's events after one position and up to another (inclusive), in order, at most
        `limit` of them (of those `include` accepts, if given), read by keyset on the stream's
        primary key: the cost of a page is the events it reads, not the budget's history.

        Within a stream, positions grow with versions (version n+1 is inserted after version n
        was committed), so the bounds by position are bounds by version, found by a binary
        search of point lookups on the key (`_version_upto`); the page is then one index range,
        `originator_version > v ORDER BY originator_version LIMIT n`. A filter that is not a
        bound by position (a recorded time, an effective date) reads on in chunks until the
        page is full or the range ends."""
        if limit <= 0 or after >= upto:
            return []
        stream = self._stream_id(budget_id)
        out: list[LoggedEvent] = []
        with self.engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()
            try:
                last = self._fetch_one(cursor, self._max_version_sql, (stream,))
                if last is None:
                    return []
                low = self._version_upto(cursor, stream, after, int(last))
                high = self._version_upto(cursor, stream, upto, int(last))
                chunk = max(limit, 64) if include is None else max(limit, 512)
                while low < high and len(out) < limit:
                    timelimit.check()
                    # The window by version, not only LIMIT: versions of a stream are 1..n without
                    # gaps, so it holds `chunk` rows at most, and PostgreSQL without fresh
                    # statistics (after a large save) would otherwise read the whole range and sort.
                    cursor.execute(self._range_sql, (stream, low, min(high, low + chunk), chunk))
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    for row in rows:
                        n = StoredRow.of(*row)
                        event = logged(n, self.decoder.decode(n), self.decoder)
                        if include is None or include(event):
                            out.append(event)
                            if len(out) == limit:
                                break
                    low = rows[-1][2]
            finally:
                cursor.close()
        return out

    def _version_upto(self, cursor: Any, stream: Any, position: int, last: int) -> int:
        """The highest version of the stream recorded at or before a position (0: none), by
        binary search over versions 1..last (a point lookup on the key each), unless the position
        is past the stream's last event or is one of its events (a cursor: one lookup)."""
        at_last = self._fetch_one(cursor, self._position_sql, (stream, last))
        if at_last is not None and int(at_last) <= position:
            return last
        if 0 < position < _LAST:
            exact = self._fetch_one(cursor, self._version_at_sql, (position, stream))
            if exact is not None:
                return int(exact)
        low, high = 0, last
        while low < high:
            middle = (low + high + 1) // 2
            found = self._fetch_one(cursor, self._position_sql, (stream, middle))
            if found is not None and int(found) <= position:
                low = middle
            else:
                high = middle - 1
        return low

    @staticmethod
    def _fetch_one(cursor: Any, sql: str, params: tuple[Any, ...]) -> Any:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return None if row is None else row[0]

    def find(self, budget_id: str, event_id: str) -> LoggedEvent | None:
        """The event of a budget with this event id (the id a command gave it), or None. The
        stored states are searched in the database for the id's JSON text (a scan of the
        budget's rows, nothing decoded but the few that hold it: the event itself and a
        correction of it); a store whose states are encrypted or compressed decodes the stream."""
        if not event_id or not self.decoder.plain_state:
            found = [e for e in self.budget_events(budget_id) if e.event_id == event_id] if event_id else []
            return found[0] if found else None
        needle = orjson.dumps(event_id)
        with self.engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()
            try:
                cursor.execute(self._search_sql, (self._stream_id(budget_id), needle))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        for row in rows:
            n = StoredRow.of(*row)
            event = logged(n, self.decoder.decode(n), self.decoder)
            if event.event_id == event_id:
                return event
        return None

    def budget_events_of(self, budget_id: str, cls: type) -> list[LoggedEvent]:
        """A budget's events of one class, in order: the stream's rows filtered by topic in
        the database, only those decoded (e.g. its audits, among 50,000 adjustments)."""
        with self.engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()
            try:
                cursor.execute(self._kind_sql, (self._stream_id(budget_id), get_topic(cls)))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        return [logged(n, self.decoder.decode(n), self.decoder) for n in (StoredRow.of(*row) for row in rows)]

    def page(self, after: int, limit: int) -> list[LoggedEvent]:
        """Events of every budget after a position, in order."""
        if after >= _LAST:
            return []
        notifications = self.app.recorder.select_notifications(start=after + 1, limit=limit)
        return [logged(n, self.decoder.decode(n), self.decoder) for n in notifications]

    def at(self, position: int) -> LoggedEvent | None:
        if not 0 < position <= _LAST:
            return None
        notifications = self.app.recorder.select_notifications(start=position, limit=1)
        if not notifications or notifications[0].id != position:
            return None
        n = notifications[0]
        return logged(n, self.decoder.decode(n), self.decoder)

    def last_position(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def notifications(self, after: int, limit: int) -> list[Any]:
        """Stored events after a position, in order, as eventsourcing gives them (with `id`,
        `originator_id`, `originator_version`, `topic` and the stored `state` bytes): what the
        hash chain hashes and a catch-up folds."""
        return self.app.recorder.select_notifications(start=after + 1, limit=limit)

    @property
    def reads_table(self) -> bool:
        """Whether all_rows reads eventsourcing's table directly (plain stored states in the
        engine's database), rather than through the recorder."""
        return self.decoder.plain_state and self.same_database

    def all_rows(self, conn: Connection, batch: int, page: int = 5000) -> Iterator[Sequence[Any]]:
        """Every stored event as rows of (position, stream id, version, topic, state), in
        batches: straight from the events table when it is in the connection's database (the
        stream id then as the table holds it: 32 hex digits on SQLite, a UUID on PostgreSQL;
        budget_id_of converts), else pages of `page` through the recorder."""
        if self.reads_table:
            position = "notification_id" if self.postgres else "rowid"
            driver = conn.connection.driver_connection
            cursor = driver.cursor(name="ledger_rebuild") if self.postgres else driver.cursor()
            try:
                cursor.execute(f"SELECT {position}, originator_id, originator_version, topic, state FROM {self.table} "
                               f"ORDER BY {position}")
                while rows := cursor.fetchmany(batch):
                    yield rows
            finally:
                cursor.close()
            return
        start = 0
        while notifications := self.notifications(start, page):
            yield as_rows(notifications)
            start = notifications[-1].id


def as_rows(notifications: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Notifications as rows of (position, stream id, version, topic, stored state)."""
    return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]


def budget_id_of(stream: Any) -> str:
    """A budget's id from a stream id as a row of the events table gives it."""
    return str(stream if isinstance(stream, UUID) else UUID(stream))
