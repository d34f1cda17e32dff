"""Writes and feed pages whose cost does not grow with the history (issue 21, item 4): a budget
loads from its latest snapshot and the events after it, to the same state as a replay of every
event; snapshots leave the events (bytes, positions) alone and rebuild and verify ignore them;
a stale or missing snapshot is replayed over; corrections of events long before the snapshot
work; a budget's event feed read by keyset gives the pages of the full list."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from eventsourcing.application import Repository
from support import DEPARTMENT, YEAR

from ledger.application import Ledger
from ledger.application.commands import Adjust, Correct, LineSpec, Publish, Transfer
from ledger.domain.budget import Budget, RuleViolation, budget_id
from ledger.eventstore.snapshots import BudgetSnapshot
from ledger.readmodel import queries

BID = budget_id(DEPARTMENT, YEAR)
OFFICE = LineSpec(code="2210399", kind="basic", economic="办公费/办公经费", cost="operating")
TRAVEL = LineSpec(code="2210399", kind="basic", economic="差旅费/办公经费", cost="operating")


def record(ledger: Ledger, count: int, per_save: int, *, day=lambda i: date(2024, 6, 30)) -> Budget:
    """`count` adjustments of 1.00 元 to two lines in turn, recorded as the aggregate records
    them (its event method, as tests/api/test_big_history.py does), `per_save` a save."""
    budget = ledger.events.repository.get(BID)
    lines = [spec.to_line(Decimal("1.00"), list(budget.units)).to_dict() for spec in (OFFICE, TRAVEL)]
    for start in range(0, count, per_save):
        for i in range(start, min(start + per_save, count)):
            budget._adjusted(str(uuid.uuid4()), [lines[i % 2]], day(i), f"第{i}次调整", None)
        ledger.events.save(budget)
    ledger.catch_up()
    return budget


def replayed(ledger: Ledger) -> Budget:
    """The budget replayed from every one of its events (a repository without snapshots)."""
    return Repository(event_store=ledger.events.events).get(BID)


def state(budget: Budget) -> dict:
    """Everything the aggregate holds, amounts as text (1.0 and 1.00 are equal Decimals)."""
    held = dict(vars(budget))
    held["balances"] = {dims: str(amount) for dims, amount in budget.balances.items()}
    held["projects"] = {name: {k: str(v) for k, v in p.items()} for name, p in budget.projects.items()}
    return held


def latest_snapshot(ledger: Ledger) -> int:
    found = ledger.events.snapshots.recorder.select_events(BID, desc=True, limit=1)
    return found[0].originator_version if found else 0


def clear_snapshots(ledger: Ledger) -> None:
    table = ledger.events.snapshots.recorder.events_table_name
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM {table}")


def test_a_budget_loads_from_its_snapshot_to_the_state_of_a_full_replay(imported, database_url):
    record(imported, 250, 50)
    imported.transfer(DEPARTMENT, YEAR, Transfer(from_line=OFFICE, to_line=TRAVEL, amount="3.00", reason="调剂"))
    wrong = imported.adjust(DEPARTMENT, YEAR, Adjust(line=OFFICE, amount="7.00", reason="录错"))
    imported.correct(DEPARTMENT, YEAR, Correct(event=wrong.event_id, reason="录入错误"))
    record(imported, 30, 30)
    version = imported.version(DEPARTMENT, YEAR)
    snapshot = latest_snapshot(imported)
    assert 0 < snapshot < version
    with Ledger(database_url) as fresh:  # a new process: nothing in memory
        loaded = fresh._load(DEPARTMENT, YEAR)
        assert fresh.events.repository.based_on[BID] == snapshot  # loaded from the snapshot
        full = replayed(fresh)
    assert loaded.version == full.version == version
    assert state(loaded) == state(full)
    assert loaded.corrected == {wrong.event_id: full.corrected[wrong.event_id]}
    # and the balances are the read model's leaves
    leaves = imported.leaf_sums(DEPARTMENT, YEAR)
    assert {d: a for d, a in loaded.balances.items() if a} == {d: a for d, a in leaves.items() if a}


def test_snapshots_leave_the_events_alone_and_rebuild_and_verify_ignore_them(imported):
    before = imported.log.notifications(0, 100_000)
    record(imported, 450, 150)
    assert latest_snapshot(imported) > len(before)
    after = imported.log.notifications(0, 100_000)
    # nothing recorded before was rewritten or moved, and the log holds events only
    assert [(n.id, n.originator_version, n.topic, n.state) for n in after[:len(before)]] == \
           [(n.id, n.originator_version, n.topic, n.state) for n in before]
    assert len(after) == imported.version(DEPARTMENT, YEAR) == after[-1].originator_version
    assert not [n for n in after if "Snapshot" in n.topic]
    if imported.storage.kind == "sqlite":
        assert [n.id for n in after] == list(range(1, len(after) + 1))
    leaves = imported.leaf_sums(DEPARTMENT, YEAR)
    assert imported.rebuild() == len(after)
    assert imported.leaf_sums(DEPARTMENT, YEAR) == leaves
    report = imported.verify()
    assert report.ok, report.problems
    assert report.events == len(after)


def test_a_store_without_snapshots_and_a_stale_snapshot_are_replayed(imported, database_url):
    record(imported, 150, 150)
    clear_snapshots(imported)  # as a store written before snapshots
    with Ledger(database_url) as old:
        assert state(old._load(DEPARTMENT, YEAR)) == state(replayed(old))
        assert old.events.repository.based_on[BID] == 0
        written = old.adjust(DEPARTMENT, YEAR, Adjust(line=OFFICE, amount="1.00", reason="旧库上的第一次写入"))
        assert latest_snapshot(old) == written.version  # the first write snapshots it
    # A snapshot from code whose Budget held other attributes (or another FORMAT) is not used.
    record(imported, 5, 5)
    budget = imported.events.repository.get(BID)
    clear_snapshots(imported)
    imported.events.snapshots.put([BudgetSnapshot.take(budget)])
    good_state = imported.events.snapshots.recorder.select_events(BID, desc=True, limit=1)[0].state
    for stale in ({"attribute_of_later_code": 1}, {"snapshot_format": [0, []]}):
        snapshot = BudgetSnapshot.take(budget)
        snapshot.state.update(balances=[], **stale)  # if it were used, the balances would be empty
        clear_snapshots(imported)
        imported.events.snapshots.put([snapshot])
        with Ledger(database_url) as later:
            loaded = later._load(DEPARTMENT, YEAR)
            assert state(loaded) == state(replayed(later)) and loaded.balances
            assert later.events.repository.based_on[BID] == 0
    # A damaged snapshot (its bytes not JSON, its balances not pairs) is replayed over too.
    table = imported.events.snapshots.recorder.events_table_name
    for damage in (b"{not json", good_state.replace(b'"balances":[', b'"balances":[1,2,')):
        with imported.engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE {table} SET state = %(s)s" if imported.storage.kind == "postgresql"
                                 else f"UPDATE {table} SET state = ?", ({"s": damage} if imported.storage.kind
                                                                         == "postgresql" else (damage,)))
        with Ledger(database_url) as later:
            assert state(later._load(DEPARTMENT, YEAR)) == state(replayed(later))
            assert later.events.repository.based_on[BID] == 0


def test_writes_and_corrections_after_many_events(imported):
    early = imported.event_feed(0, 1000, DEPARTMENT, YEAR).items[-1].position
    record(imported, 5000, 1000)
    snapshot = latest_snapshot(imported)
    assert snapshot > 5000
    log_events = imported.log.budget_events(str(BID))
    adjustments = [e for e in log_events if e.kind == "adjustment"]
    by_id, by_position = adjustments[3], adjustments[4]  # long before the snapshot
    assert by_id.version < snapshot and by_position.version < snapshot
    written = imported.adjust(DEPARTMENT, YEAR, Adjust(line=OFFICE, amount="100.00", reason="大量历史之后的写入"))
    assert written.version == len(log_events) + 1
    first = imported.correct(DEPARTMENT, YEAR, Correct(event=by_id.event_id, reason="更正 (按事件号)"))
    second = imported.correct(DEPARTMENT, YEAR, Correct(event=str(by_position.position), reason="更正 (按位置)"))
    assert second.version == first.version + 1 == written.version + 2
    reversals = [e for e in imported.log.budget_events(str(BID)) if e.kind == "correction"]
    assert [e.detail["corrected_event_id"] for e in reversals] == [by_id.event_id, by_position.event_id]
    assert [[(ln.dims, -ln.fen) for ln in e.lines] for e in reversals] == \
           [[(ln.dims, ln.fen) for ln in by_id.lines], [(ln.dims, ln.fen) for ln in by_position.lines]]
    with pytest.raises(RuleViolation, match="已由"):
        imported.correct(DEPARTMENT, YEAR, Correct(event=by_id.event_id, reason="再更正"))
    with pytest.raises(RuleViolation, match="没有可更正的事件"):
        imported.correct(DEPARTMENT, YEAR, Correct(event=str(uuid.uuid4()), reason="不存在"))
    publication = next(e for e in log_events if e.kind == "publication")
    with pytest.raises(RuleViolation, match="没有可更正的事件"):
        imported.correct(DEPARTMENT, YEAR, Correct(event=publication.event_id, reason="发布节点没有预算行"))
    loaded, full = imported._load(DEPARTMENT, YEAR), replayed(imported)
    assert state(loaded) == state(full)
    leaves = imported.leaf_sums(DEPARTMENT, YEAR)
    assert {d: a for d, a in loaded.balances.items() if a} == {d: a for d, a in leaves.items() if a}
    assert early < by_id.position


def test_feed_pages_by_cursor_equal_the_full_list_sliced(imported):
    other = Budget(department="另一部门", fiscal_year=YEAR, units=[{"name": "另一部门", "category": "行政单位"}],
                   effective=date(2024, 1, 1), reason="开账")
    imported.events.save(other)
    lines = [OFFICE.to_line(Decimal("1.00"), [DEPARTMENT]).to_dict()]
    budget = imported.events.repository.get(BID)
    for round_ in range(6):  # the two budgets' events interleaved, effective dates back and forth
        for i in range(40):
            n = round_ * 40 + i
            budget._adjusted(str(uuid.uuid4()), lines, date(2024, 1, 1) + timedelta(days=(n * 37) % 365),
                             f"第{n}次", None)
            other._adjusted(str(uuid.uuid4()), lines, date(2024, 3, 1), f"另一部门第{n}次", None)
            if i % 10 == 0:
                imported.events.save(budget, other)
        imported.events.save(budget, other)
        if round_ == 3:
            imported.catch_up()
            imported.publish(DEPARTMENT, YEAR, Publish(name="调整预算", reason="年中"))
            budget = imported.events.repository.get(BID)
    imported.catch_up()
    with imported.engine.connect() as conn:
        row = queries.find_budget(conn, DEPARTMENT, YEAR)
        everything = queries.events(conn, imported.log, row)
    middle = everything[len(everything) // 2]
    points = [queries.Point(), queries.Point(position=middle.position), queries.Point(publication="调整预算"),
              queries.Point(effective=date(2024, 6, 30)), queries.Point(recorded=middle.recorded_at),
              queries.Point(publication="调整预算", effective=date(2024, 9, 1))]
    last = imported.last_position()
    for point in points:
        with imported.engine.connect() as conn:
            full = queries.events(conn, imported.log, row, point)
        assert full and len(full) < len(everything) or point.is_now
        for limit in (1, 7, 100):
            walked, after = [], 0
            while True:
                page = imported.event_feed(after, limit, DEPARTMENT, YEAR, point)
                assert len(page.items) <= limit and page.last_position == last
                walked += page.items
                if page.next_after is None:
                    break
                assert page.next_after == page.items[-1].position
                after = page.next_after
            assert walked == full, (point, limit)
        # any cursor, a position of this budget or of the other one, or none at all
        for after in (0, 1, everything[1].position + 1, middle.position, middle.position + 1, full[-1].position,
                      last, last + 10, -5):
            page = imported.event_feed(after, 7, DEPARTMENT, YEAR, point)
            following = [e for e in full if e.position > after]
            assert page.items == following[:7], (point, after)
            assert page.next_after == (following[6].position if len(following) > 7 else None)
