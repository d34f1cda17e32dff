"""The faster recording path (ledger/eventstore/: transcoder.py, recordings.py, pgrecorder.py
and sqliterecorder.py) stores exactly the
bytes eventsourcing's own JSONTranscoder writes, reads back the same objects, and leaves the
rows, their order and their notification ids as eventsourcing's recorder would."""

from __future__ import annotations

import dataclasses
import enum
import gc
import threading
import uuid
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from ledger.devtools import synthetic
from ledger.eventstore import recordings
from ledger.eventstore.recordings import FastEventStore, FastMapper
from ledger.eventstore.transcoder import DateAsISO, FastJSONTranscoder, gc_paused


def reference_transcoder() -> JSONTranscoder:
    """eventsourcing's own transcoder with the application's transcodings."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


def stored_rows(led) -> list:
    return list(led.events.recorder.select_notifications(start=None, limit=10**9))


def assert_same_encoding(led, events) -> None:
    """Each event maps to the same StoredEvent (topic, ids, state bytes) through the
    application's mapper and through eventsourcing's JSONTranscoder, and its state decodes
    back to the event's own attributes through both."""
    app_mapper = led.events.mapper
    ref_mapper = Mapper(transcoder=reference_transcoder())
    for event in events:
        ours, theirs = app_mapper.to_stored_event(event), ref_mapper.to_stored_event(event)
        assert ours == theirs, (ours, theirs)
        state = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
        assert app_mapper.transcoder.decode(ours.state) == state
        assert ref_mapper.transcoder.decode(ours.state) == state


def test_the_application_uses_the_fast_transcoder(ledger):
    assert type(ledger.events.mapper.transcoder) is FastJSONTranscoder
    assert ledger.events.mapper.transcoder._iterencode is not None  # not the fallback to JSONTranscoder.encode
    assert type(ledger.events.mapper) is FastMapper and type(ledger.events.events) is FastEventStore
    assert recordings._FILL  # stored events, notifications and recordings are made by filling them


def test_recordings_are_those_eventsourcing_makes(ledger):
    """FastEventStore's recordings and FastMapper's stored events: the same frozen
    dataclasses, equal to those made by their constructors, and still frozen."""
    budget = next(synthetic.budgets(synthetic.Shape(1, (2024,), changes=3), anchor=synthetic.anchor_for(ledger)))
    pending = list(budget.pending_events)
    recordings = ledger.events.save(budget)
    assert [r.domain_event for r in recordings] == pending
    reference = Mapper(transcoder=reference_transcoder())
    for recording, event in zip(recordings, pending, strict=True):
        stored = reference.to_stored_event(event)
        n = recording.notification
        assert type(n) is Notification and type(recording) is Recording
        assert n == Notification(originator_id=stored.originator_id, originator_version=stored.originator_version,
                                 topic=stored.topic, state=stored.state, id=n.id)
        assert recording == Recording(event, n) and hash(n) == hash(Notification(**vars(n)))
        with pytest.raises(dataclasses.FrozenInstanceError):
            n.id = 0  # type: ignore[misc]
        ours = ledger.events.mapper.to_stored_event(event)
        assert type(ours) is StoredEvent and ours == stored
    assert [r.notification.id for r in recordings] == [n.id for n in stored_rows(ledger)[-len(pending):]]


def test_example_import_is_stored_as_jsontranscoder_writes_it(imported):
    """Every event of the example import: the stored bytes are those of eventsourcing's
    JSONTranscoder, and mapper and JSON round trips give the same objects."""
    rows = stored_rows(imported)
    assert len(rows) > 50
    reference = reference_transcoder()
    mapper = imported.events.mapper
    events = []
    for row in rows:
        event = mapper.to_domain_event(row)
        events.append(event)
        state = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
        assert reference.encode(state) == row.state  # what is in the store, byte for byte
        assert mapper.transcoder.encode(state) == row.state
    assert_same_encoding(imported, events)
    assert {type(e).__name__ for e in events} >= {"Opened", "Appropriated", "ProjectRegistered",
                                                  "DocumentImported", "Published"}


def test_synthetic_events_before_saving(ledger):
    """Synthetic budgets' pending events (every event kind the generator makes), encoded
    as they are about to be saved, then saved and read back."""
    shape = synthetic.Shape(departments=1, years=(2024, 2025), changes=40)
    budgets = list(synthetic.budgets(shape, anchor=synthetic.anchor_for(ledger)))
    pending = [e for b in budgets for e in b.pending_events]
    kinds = {type(e).__name__ for e in pending}
    assert kinds >= {"Opened", "Appropriated", "Adjusted", "Transferred", "Corrected",
                     "PriorYearFigureStated", "ProjectRegistered", "Published"}
    assert_same_encoding(ledger, pending)

    reference = Mapper(transcoder=reference_transcoder())
    expected = [reference.to_stored_event(e) for e in pending]
    before = len(stored_rows(ledger))
    recordings = ledger.events.save(*budgets)
    rows = stored_rows(ledger)[before:]
    assert [(r.originator_id, r.originator_version, r.topic, r.state) for r in rows] == [
        (s.originator_id, s.originator_version, s.topic, s.state) for s in expected]
    # notification ids: increasing, in the order of the events, as the recordings say
    assert [r.id for r in rows] == [rec.notification.id for rec in recordings]
    assert all(a < b for a, b in zip([r.id for r in rows], [r.id for r in rows][1:]))
    for budget in budgets:
        assert ledger.events.repository.get(budget.id).version == budget.version


def test_stock_eventsourcing_and_the_ledger_write_the_same_store(ledger):
    """Budgets saved by stock eventsourcing (JSONTranscoder, and on PostgreSQL its text-format
    recorder) and by the ledger, into one store: identical rows for identical events, one
    unbroken sequence of notification ids, and a history that verifies."""
    from ledger.eventstore import BudgetEvents

    stock_env = {**ledger.storage.eventsourcing_env, "TRANSCODER_TOPIC": "eventsourcing.persistence:JSONTranscoder"}
    stock_env["APPLICATION_RECORDER_TOPIC"] = (
        "eventsourcing.postgres:PostgresApplicationRecorder" if ledger.storage.kind == "postgresql"
        else "eventsourcing.sqlite:SQLiteApplicationRecorder")
    stock = BudgetEvents(env=stock_env)
    try:
        assert type(stock.mapper.transcoder) is JSONTranscoder
        assert type(stock.recorder).__name__ in ("SQLiteApplicationRecorder", "PostgresApplicationRecorder")
        for departments, app in ((1, stock), (2, ledger.events), (3, stock)):
            # a new department's budget, its publication anchored to the store as it is now
            shape = synthetic.Shape(departments, (2024,), changes=10)
            app.save(list(synthetic.budgets(shape, anchor=synthetic.anchor_for(ledger)))[-1])
    finally:
        stock.close()
    rows = stored_rows(ledger)
    assert [r.id for r in rows] == list(range(rows[0].id, rows[0].id + len(rows)))
    reference = Mapper(transcoder=reference_transcoder())
    for row in rows:  # every row, whoever wrote it, is what JSONTranscoder makes of its event
        assert reference.to_stored_event(ledger.events.mapper.to_domain_event(row)).state == row.state
    ledger.catch_up()
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.events == len(rows)


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


class Counted(dict):
    pass


def awkward_states() -> list[object]:
    every_ascii = "".join(chr(i) for i in range(128))
    some_unicode = "预算 \u2028\u2029\ufeff\U0001f4b0 é ß \u00a0 \x7f \ud7ff \ue000 \uffff"
    tz8 = timezone(timedelta(hours=8))
    return [
        {},
        [],
        "just a string",
        every_ascii,
        {"ascii": every_ascii, "unicode": some_unicode, every_ascii: some_unicode},
        {"floats": [0.0, -0.0, 1.5, 1e16, 1e-7, 123456789.123, 2.0**70, float("nan"), float("inf"), float("-inf")]},
        {"ints": [0, -1, 2**63, -(2**64), 10**40], "bools": [True, False], "none": None},
        {7: "int key", 2.5: "float key", True: "bool key", None: "none key", "s": "str key"},
        {"tuple": (1, ("a", Decimal("1.10"))), "nested": [[[{"x": ()}]]]},
        {"enum": Colour.RED, "str_sub": Name("子类"), "dict_sub": Counted(a=1), "ordered": OrderedDict(b=1, a=2)},
        {"decimals": [Decimal("0"), Decimal("-0.00"), Decimal("1E+3"), Decimal("12345678901234567890.123456789"),
                      Decimal("NaN"), Decimal("-Infinity"), Decimal("1e-30")]},
        {"uuid": uuid.UUID("6f1c3c62-8c1e-4c59-9a57-3f3d1f0b7a10"), "uuids": [uuid.uuid4(), uuid.uuid5(uuid.NAMESPACE_DNS, "x")]},
        {"dates": [date(2024, 1, 1), date(1, 1, 1), date(9999, 12, 31)],
         "datetimes": [datetime(2024, 2, 29, 23, 59, 59), datetime(2024, 2, 29, 23, 59, 59, 1, tzinfo=timezone.utc),
                       datetime(2024, 1, 1, tzinfo=tz8)]},
        {"_type_": "looks tagged", "_data_": "but is a plain dict", "as": "it has three keys"},
    ]


@pytest.mark.parametrize("index", range(len(awkward_states())))
def test_awkward_values_encode_identically(index):
    state = awkward_states()[index]
    fast = FastJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        fast.register(transcoding)
    reference = reference_transcoder()
    encoded = fast.encode(state)
    assert encoded == reference.encode(state)
    decoded = fast.decode(encoded)
    assert repr(decoded) == repr(reference.decode(encoded))


def test_event_states_are_encoded_by_orjson_and_awkward_ones_by_the_c_encoder(ledger):
    """The orjson path is the one taken for what events hold (the C encoder is never called
    for them), and every awkward state that orjson would write differently goes to the C
    encoder, with the reference's bytes either way."""
    fast = ledger.events.mapper.transcoder
    reference = reference_transcoder()
    c_encoder = fast._iterencode
    calls: list[object] = []

    def watched(obj, level):
        calls.append(obj)
        return c_encoder(obj, level)

    fast._iterencode = watched
    shape = synthetic.Shape(departments=1, years=(2024,), changes=40)
    pending = [e for b in synthetic.budgets(shape, anchor=synthetic.anchor_for(ledger)) for e in b.pending_events]
    for event in pending:
        state = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
        assert fast.encode(state) == reference.encode(state)
    assert calls == []
    # a float, an enum, a UUID, a str subclass, a tuple, a non-string key, an integer beyond 64 bits
    awkward = [{"x": 1.5}, {"x": Colour.RED}, {"x": uuid.uuid4()}, {"x": Name("a")}, {"x": (1,)}, {7: "a"},
               {"x": -(2**64)}, {"lines": [{"dims": {"code": "1"}, "amount": 0.5}]}]
    for state in awkward:
        assert fast.encode(state) == reference.encode(state)
    assert len(calls) == len(awkward)


def test_every_code_point_encodes_identically():
    fast = FastJSONTranscoder()
    reference = JSONTranscoder()
    chars = [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]
    for start in range(0, len(chars), 4096):
        chunk = chars[start:start + 4096]
        state = {"one": chunk, "all": "".join(chunk), "".join(chunk[:64]): 1}
        assert fast.encode(state) == reference.encode(state)


def test_failures_are_those_of_jsontranscoder():
    fast, reference = FastJSONTranscoder(), JSONTranscoder()
    for transcoder in (fast, reference):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"a": [1, {"b": object()}]})
        with pytest.raises(UnicodeEncodeError):  # a lone surrogate
            transcoder.encode({"s": "\ud800"})
    # A circular state fails in both; JSONTranscoder detects the cycle, ours runs into the
    # recursion limit (it keeps no circular-reference marks).
    loop: dict = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        reference.encode(loop)
    with pytest.raises(RecursionError):
        fast.encode(loop)
    # shared (not circular) objects are fine, and the encoder works after the failures
    shared = {"x": 1}
    state = {"a": [shared, shared], "b": shared}
    assert fast.encode(state) == reference.encode(state) == b'{"a":[{"x":1},{"x":1}],"b":{"x":1}}'
    deep: list = []
    for i in range(300):
        deep = [i, {"k": deep}]
    assert fast.encode(deep) == reference.encode(deep)


def test_encoding_from_many_threads():
    fast = FastJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        fast.register(transcoding)
    reference = reference_transcoder()
    shared = {"amount": Decimal("1.23"), "when": date(2024, 5, 6), "dims": {"code": "2010101"}}
    states = [{"n": i, "shared": shared, "also": [shared, shared], "ts": datetime(2024, 1, 1, 0, 0, i % 60)}
              for i in range(300)]
    expected = [reference.encode(s) for s in states]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert [fast.encode(s) for s in states] == expected
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_gc_is_paused_during_a_save_and_resumed_after(ledger, monkeypatch):
    assert gc.isenabled()
    seen: list[bool] = []
    recorder = ledger.events.recorder
    insert = recorder.insert_events

    def watching(stored_events, **kwargs):  # observes, then the real insert runs
        seen.append(gc.isenabled())
        return insert(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", watching)
    budget = next(synthetic.budgets(synthetic.Shape(1, (2024,), changes=2), anchor=synthetic.anchor_for(ledger)))
    ledger.events.save(budget)
    assert seen == [False]
    assert gc.isenabled()
    # a save that fails resumes it too: the budget's first event again violates the store's key
    first = next(r for r in stored_rows(ledger) if r.originator_id == budget.id and r.originator_version == 1)
    with pytest.raises(IntegrityError):
        ledger.events.save(ledger.events.mapper.to_domain_event(first))
    assert seen == [False, False]
    assert gc.isenabled()


def test_gc_paused_nests_and_keeps_a_disabled_collector_disabled():
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_postgresql_sends_the_events_in_binary(postgresql_url):
    """On PostgreSQL whatever the store under test (the recorder exists only there)."""
    from ledger.application import Ledger
    from ledger.eventstore.pgrecorder import PostgresBinaryInsertRecorder

    with Ledger(postgresql_url) as pg:
        recorder = pg.events.recorder
        assert type(recorder) is PostgresBinaryInsertRecorder
        statement = recorder.insert_events_statement.as_string()
        assert "%b::" in statement and statement.rstrip().endswith("RETURNING notification_id")


def _sqlite_ledger(tmp_path):
    from ledger.application import Ledger

    return Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def _rowids(led, recordings) -> list[int]:
    """Each recorded event's rowid, read back by its primary key with a connection of our own."""
    import sqlite3

    db = sqlite3.connect(led.storage.eventsourcing_env["SQLITE_DBNAME"])
    try:
        return [db.execute("SELECT rowid FROM stored_events WHERE originator_id=? AND originator_version=?",
                           (r.notification.originator_id.hex, r.notification.originator_version)).fetchone()[0]
                for r in recordings]
    finally:
        db.close()


def test_sqlite_inserts_a_save_at_once_and_gives_each_event_its_rowid(tmp_path):
    """On SQLite whatever the store under test: the notification ids the batch-inserting
    recorder works out from the first and last rowids are each row's own, save after save."""
    from ledger.eventstore.sqliterecorder import SQLiteBatchInsertRecorder

    with _sqlite_ledger(tmp_path) as led:
        assert type(led.events.recorder) is SQLiteBatchInsertRecorder
        budgets = list(synthetic.budgets(synthetic.Shape(3, (2024,), changes=5), anchor=synthetic.anchor_for(led)))
        ids = []
        for group in (budgets[:1], budgets[1:]):
            recordings = led.events.save(*group)
            assert [r.notification.id for r in recordings] == _rowids(led, recordings)
            ids += [r.notification.id for r in recordings]
        assert ids == list(range(1, len(ids) + 1))
        assert [n.id for n in stored_rows(led)] == ids


def test_sqlite_rowids_that_do_not_follow_on_are_read_back(tmp_path):
    """A table whose largest rowid is 2**63 - 1 makes SQLite pick rowids at random: the
    recorder then reads each event's rowid back, and the ids are still the rows' own."""
    import sqlite3

    with _sqlite_ledger(tmp_path) as led:
        # made (and anchored) before the stand-in row is there, which is no event
        budget = next(synthetic.budgets(synthetic.Shape(1, (2024,), changes=20), anchor=synthetic.anchor_for(led)))
        db = sqlite3.connect(led.storage.eventsourcing_env["SQLITE_DBNAME"])
        with db:
            db.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
                       "VALUES (?, 'x', 1, 'x', x'7b7d')", (2**63 - 1,))
        db.close()
        recordings = led.events.save(budget)
        ids = [r.notification.id for r in recordings]
        assert len(ids) > 20 and ids == _rowids(led, recordings)
        assert ids != list(range(ids[0], ids[0] + len(ids)))  # random, so not first..last
