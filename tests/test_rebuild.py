"""A rebuild writes the same read model as projecting the events as they were recorded, and
today's leaves agree with the history read from the event log.

Recording catches up page by page (upserting leaves); a rebuild folds every event in one
transaction, reading the events table directly (or, for a read model in another database,
through the recorder). Compared here table by table on the seed, synthetic budgets and every
kind of command, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text
from support import DEPARTMENT, YEAR

from ledger.devtools import synthetic
from ledger.application.commands import Adjust, Correct, LineSpec, Publish, Transfer
from ledger.domain.postings import DIMENSIONS
from ledger.readmodel import queries, schema
from ledger.readmodel.projector import Projector

JSON_COLUMNS = {"units", "targets", "tables", "rounding", "balances"}


def dump(ledger) -> dict[str, list[tuple]]:
    """Every projected row, JSON parsed."""
    out = {}
    with ledger.engine.connect() as conn:
        for table in (*schema.PROJECTED, schema.tracking):
            rows = []
            for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                rows.append(tuple(json.loads(v) if isinstance(v, (str, bytes)) and k in JSON_COLUMNS else v
                                  for k, v in row._mapping.items()))
            out[table.name] = rows
    return out


def record_history(ledger) -> None:
    """The seed, a few synthetic budgets, and one of each command (the correction of a transfer
    gives lines of both signs; a publication a row of its own)."""
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
    events = imported.last_position()
    assert len(recorded["ledger_budgets"]) == 5
    assert sum(len(row[1]["leaves"]) for row in recorded["ledger_leaves"]) > 500  # leaves of the 5 budgets

    assert imported.rebuild() == events
    assert dump(imported) == recorded
    # A read model in another database reads the events through the recorder: the same rows.
    assert Projector(imported.log, imported.engine).rebuild() == events
    assert dump(imported) == recorded
    assert imported.verify().ok


def test_todays_leaves_are_the_history_summed_to_now(imported):
    """The leaves (projected) and the event log (read for history) are two views of one
    history: for every budget, the lines summed up to the last position are the balances."""
    record_history(imported)
    with imported.engine.connect() as conn:
        budgets = queries.list_budgets(conn)
        for budget in budgets:
            now = queries.leaf_sums(conn, imported.log, budget, queries.Point())
            last = queries.last_position(conn, imported.log, budget, queries.Point())
            replayed = queries.leaf_sums(conn, imported.log, budget, queries.Point(position=last))
            assert now == replayed and len(now) > 50, budget.department
    assert sum(len(imported.log.budget_events(b.budget_id)) for b in budgets) == imported.last_position()


def rewrite_first_appropriation(ledger, change) -> int:
    """Edit the stored state of the first appropriation in place (as a foreign store might hold
    it); returns its position."""
    table = ledger.events.recorder.events_table_name
    position = "rowid" if ledger.engine.dialect.name == "sqlite" else "notification_id"
    with ledger.engine.begin() as conn:
        at, stored = conn.execute(text(f"SELECT {position}, state FROM {table} WHERE topic LIKE '%Appropriated' "
                                       f"ORDER BY {position} LIMIT 1")).one()
        state = json.loads(bytes(stored))
        change(state)
        conn.execute(text(f"UPDATE {table} SET state = :s WHERE {position} = :p"),
                     {"s": json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode(), "p": at})
    return at


def test_a_line_stored_in_another_form_posts_to_the_same_leaf(imported):
    """Dimensions in another key order and an amount with one decimal place are the same leaf
    and the same 分 as the usual form."""
    original = {}

    def reorder(state):
        line = state["lines"][0]
        original.update(dims=dict(line["dims"]), amount=Decimal(line["amount"]["_data_"]))
        line["dims"] = dict(reversed(list(line["dims"].items())))
        line["amount"]["_data_"] = "1000.5"

    def balances():
        with imported.engine.connect() as conn:
            budget = queries.find_budget(conn, DEPARTMENT, YEAR)
            stored = [values for values, _amount in json.loads(conn.execute(
                select(schema.leaves.c.balances).where(schema.leaves.c.budget_id == budget.budget_id)).scalar())["leaves"]]
            return stored, queries.leaf_sums(conn, imported.log, budget, queries.Point())

    _, before = balances()
    rewrite_first_appropriation(imported, reorder)
    imported.rebuild()
    stored, after = balances()

    leaf = tuple(sorted(original["dims"].items(), key=lambda kv: DIMENSIONS.index(kv[0])))
    assert after[leaf] == before[leaf] - original["amount"] + Decimal("1000.50")
    assert len(stored) == len(before)  # no second leaf for the reordered dimensions
    assert {k: v for k, v in after.items() if k != leaf} == {k: v for k, v in before.items() if k != leaf}


def test_a_state_the_typed_reading_does_not_take_is_decoded_in_full(imported):
    """A stored state marked for upcasting (class_version) is not read typed but through the
    application's mapper: the same leaves, with its amount."""
    original = {}

    def mark(state):
        line = state["lines"][0]
        original.update(dims=dict(line["dims"]), amount=Decimal(line["amount"]["_data_"]))
        line["amount"]["_data_"] = "1000.50"
        state["class_version"] = 1

    def leaves():
        with imported.engine.connect() as conn:
            return queries.leaf_sums(conn, imported.log, queries.find_budget(conn, DEPARTMENT, YEAR), queries.Point())

    before = leaves()
    at = rewrite_first_appropriation(imported, mark)
    stored = imported.events.recorder.select_notifications(start=at, limit=1)[0]
    assert imported.projector.decoder.typed_lines(stored.state) is None
    imported.rebuild()
    after = leaves()

    leaf = tuple(sorted(original["dims"].items(), key=lambda kv: DIMENSIONS.index(kv[0])))
    assert after[leaf] == before[leaf] - original["amount"] + Decimal("1000.50")
    assert {k: v for k, v in after.items() if k != leaf} == {k: v for k, v in before.items() if k != leaf}


def test_a_compressed_store_is_folded_through_the_mapper(database_url, seed_bytes, monkeypatch):
    """With eventsourcing's compressor the stored states are not JSON: every event is decoded
    by the application's mapper (catch-up and rebuild alike), giving the leaves the history
    replays to, and the same tables after a rebuild."""
    from ledger.application import Ledger

    monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
    with Ledger(database_url) as led:
        led.import_document(seed_bytes, "seed.txt")
        stored = led.events.recorder.select_notifications(start=1, limit=1)[0].state
        with pytest.raises(ValueError):
            json.loads(stored)
        assert not led.log.reads_table
        with led.engine.connect() as conn:
            budget = queries.find_budget(conn, DEPARTMENT, YEAR)
            now = queries.leaf_sums(conn, led.log, budget, queries.Point())
            replayed = queries.leaf_sums(conn, led.log, budget, queries.Point(position=led.projector.position()))
        assert now == replayed and len(now) > 50
        before = led.tables(DEPARTMENT, YEAR)
        assert led.rebuild() == led.last_position()
        assert led.tables(DEPARTMENT, YEAR) == before
        assert led.verify().ok


def test_a_read_model_of_an_earlier_layout_is_made_again_from_the_events(imported, database_url):
    """Layout 1 kept a copy of every event, line and table cell (ledger_events, ledger_postings,
    ledger_cells) and no versions in ledger_budgets: opening such a database drops those tables,
    makes the current ones and projects the events into them again."""
    from ledger.application import Ledger

    before = imported.tables(DEPARTMENT, YEAR)
    with imported.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_tracking WHERE name = 'layout'"))
        conn.execute(text("DROP TABLE ledger_budgets"))
        conn.execute(text("CREATE TABLE ledger_budgets (budget_id VARCHAR(36) PRIMARY KEY, department VARCHAR(200))"))
        conn.execute(text("CREATE TABLE ledger_cells (budget_id VARCHAR(36), amount_fen BIGINT)"))
    imported.engine.dispose()

    with Ledger(database_url) as reopened:
        tables = set(inspect(reopened.engine).get_table_names())
        assert "ledger_cells" not in tables and {"ledger_leaves", "ledger_budgets"} <= tables
        assert reopened.tables(DEPARTMENT, YEAR) == before
        assert reopened.verify().ok
