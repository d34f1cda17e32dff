"""A rebuild writes the same read model as projecting the events as they were recorded.

On SQLite a rebuild is mostly SQL (readmodel/bulk.py) while recording catches up event by
event through the fold (projector.py): two implementations of one projection, compared here
table by table on the seed, synthetic budgets and every kind of command. On PostgreSQL the
rebuild is the fold, and the same comparison holds.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal

from sqlalchemy import select, text
from support import DEPARTMENT, SEED, STORE, YEAR

from ledger import synthetic
from ledger.commands import Adjust, Correct, LineSpec, Publish, Transfer
from ledger.readmodel import bulk, schema

JSON_COLUMNS = {"detail", "units", "targets", "tables", "rounding"}


def dump(ledger) -> dict[str, list[tuple]]:
    """Every projected row, JSON parsed (the SQL writes the same JSON values more compactly)."""
    out = {}
    with ledger.engine.connect() as conn:
        for table in (*schema.PROJECTED, schema.tracking):
            order = [table.c.id] if table is schema.postings else list(table.primary_key.columns)
            rows = []
            for row in conn.execute(select(table).order_by(*order)):
                # Postings in the order of their ids, without the ids (PostgreSQL's sequence
                # goes on counting after a rebuild clears the table).
                rows.append(tuple(json.loads(v) if isinstance(v, str) and k in JSON_COLUMNS else v
                                  for k, v in row._mapping.items() if k != "id"))
            out[table.name] = rows
    return out


def record_history(ledger) -> None:
    """The seed, a few synthetic budgets, and one of each command (the correction of a transfer
    gives postings of both signs; a publication a row of its own)."""
    shape = synthetic.Shape(departments=2, years=(2023, 2024), changes=30, seed=7)
    for batch in synthetic.batches(shape, events_per_batch=300, anchor=synthetic.anchor_for(ledger)):
        ledger.events.save(*batch)
        ledger.catch_up()
    personnel = LineSpec(code="2210399", kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel")
    ledger.adjust(DEPARTMENT, YEAR, Adjust(line=personnel, amount=Decimal("100000.00"), reason="人员增资",
                                           effective=date(YEAR, 7, 1)))
    moved = ledger.transfer(DEPARTMENT, YEAR, Transfer(
        from_line=personnel,
        to_line=LineSpec(code="2080505", kind="basic", economic="机关事业单位基本养老保险缴费/社会保障缴费",
                         cost="personnel"),
        amount=Decimal("50000.00"), reason="调剂"))
    ledger.correct(DEPARTMENT, YEAR, Correct(event=moved.event_id, reason="调剂有误, 冲销"))
    ledger.publish(DEPARTMENT, YEAR, Publish(name="调整预算", reason="年中调整"))


def test_rebuild_writes_what_recording_wrote(imported):
    record_history(imported)
    recorded = dump(imported)
    assert len(recorded["ledger_events"]) > 500 and len(recorded["ledger_cells"]) > 1000
    assert bulk.usable(imported.projector) == (STORE == "sqlite")

    count = imported.rebuild()

    assert count == len(recorded["ledger_events"])
    rebuilt = dump(imported)
    for table, rows in recorded.items():
        assert rebuilt[table] == rows, table
    assert imported.verify().ok


def test_an_event_the_sql_does_not_recognise_sends_the_whole_rebuild_through_the_fold(tmp_path, seed_bytes, caplog):
    """A time recorded with another UTC offset (valid ISO, and the fold keeps its wall time as
    for any other time, but not a form the SQL reproduces): the SQL insert is refused and
    rolled back, and the fold rebuilds the same read model. SQLite whatever the store under
    test: the SQL rebuild exists only there."""
    from ledger.application import Ledger

    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        ledger.import_document(seed_bytes, SEED.name)
        with ledger.engine.begin() as conn:
            position, stored = conn.execute(text(
                "SELECT rowid, CAST(state AS TEXT) FROM stored_events WHERE topic LIKE '%Appropriated' "
                "ORDER BY rowid LIMIT 1")).one()
            state = json.loads(stored)
            assert state["timestamp"]["_data_"].endswith("+00:00")
            state["timestamp"]["_data_"] = state["timestamp"]["_data_"][:-6] + "+08:00"
            conn.execute(text("UPDATE stored_events SET state = :s WHERE rowid = :r"),
                         {"s": json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode(), "r": position})
        recorded = dump(ledger)
        assert bulk.usable(ledger.projector)

        with caplog.at_level(logging.WARNING, logger="ledger.readmodel.projector"):
            assert ledger.rebuild() == len(recorded["ledger_events"])
        rebuilt = dump(ledger)

    assert "rebuilding event by event" in caplog.text
    assert "ledger_events.recorded_at" in caplog.text  # the column the SQL left empty
    for table in recorded:
        assert rebuilt[table] == recorded[table], table


def test_a_time_without_microseconds_is_rebuilt_by_sql(tmp_path, seed_bytes, caplog):
    """isoformat() leaves out microseconds that are zero (about one event in a million, found
    at a million events): the SQL reads that form too, as the fold does."""
    from ledger.application import Ledger

    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        ledger.import_document(seed_bytes, SEED.name)
        with ledger.engine.begin() as conn:
            position, stored = conn.execute(text(
                "SELECT rowid, CAST(state AS TEXT) FROM stored_events WHERE topic LIKE '%Appropriated' "
                "ORDER BY rowid LIMIT 1")).one()
            state = json.loads(stored)
            stamp = state["timestamp"]["_data_"]
            state["timestamp"]["_data_"] = stamp[:19] + stamp[26:]
            conn.execute(text("UPDATE stored_events SET state = :s WHERE rowid = :r"),
                         {"s": json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode(), "r": position})
        with caplog.at_level(logging.WARNING, logger="ledger.readmodel.projector"):
            ledger.rebuild()
        rebuilt = dump(ledger)

    assert "rebuilding event by event" not in caplog.text
    (event,) = [row for row in rebuilt["ledger_events"] if row[0] == position]
    assert event[5].isoformat() == stamp[:19]
    assert all(row[3].isoformat() == stamp[:19] for row in rebuilt["ledger_postings"] if row[0] == position)
