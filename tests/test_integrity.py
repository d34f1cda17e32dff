"""Tamper evidence: `verify` recomputes the hash chains, the publication anchors and the read
model from the stored events, and names the first event or row that does not match."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support import DEPARTMENT, SEED, YEAR
from sqlalchemy import text

from ledger.application.commands import Adjust, LineSpec, Publish


def events_table(led) -> tuple[str, str]:
    """The eventsourcing table and its position column, on either store."""
    table = led.events.recorder.events_table_name
    return table, ("rowid" if led.storage.kind == "sqlite" else "notification_id")


def position_of(led, kind: str, nth: int = 0) -> int:
    """The position of the nth event of a kind, from the event log."""
    return [e.position for e in led.log.page(0, 10_000) if e.kind == kind][nth]


def state_at(led, position: int) -> bytes:
    table, pos = events_table(led)
    with led.engine.connect() as conn:
        return bytes(conn.execute(text(f"SELECT state FROM {table} WHERE {pos} = :p"), {"p": position}).scalar())


def execute(led, sql: str, **params) -> None:
    with led.engine.begin() as conn:
        conn.execute(text(sql), params)


def bump_amount(led, nth: int, yuan: int) -> int:
    """Rewrite the amount inside the nth appropriation's stored state; returns its position."""
    position = position_of(led, "appropriation", nth)
    state = state_at(led, position)
    amount = state.split(b'"amount":{"_type_":"decimal_str","_data_":"')[1].split(b'"')[0]
    forged = state.replace(amount, str(int(float(amount)) + yuan).encode() + b".00", 1)
    table, pos = events_table(led)
    execute(led, f"UPDATE {table} SET state = :s WHERE {pos} = :p", s=forged, p=position)
    return position


def edit_amount(led):
    return f"位置 {bump_amount(led, 5, 100)}: 事件内容与记录时的哈希不符"


def delete_event(led):
    position = position_of(led, "appropriation", 10)
    table, pos = events_table(led)
    execute(led, f"DELETE FROM {table} WHERE {pos} = :p", p=position)
    return "被删除"


def insert_event(led):
    table, pos = events_table(led)
    with led.engine.connect() as conn:
        last = conn.execute(text(f"SELECT originator_id, originator_version, topic, state FROM {table} "
                                 f"WHERE topic LIKE '%Appropriated' ORDER BY {pos} DESC LIMIT 1")).first()
        version = conn.execute(text(f"SELECT MAX(originator_version) FROM {table}")).scalar()
    execute(led, f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (:o, :v, :t, :s)",
            o=last.originator_id, v=version + 1, t=last.topic, s=bytes(last.state))
    return "不在哈希链上"


def reorder_events(led):
    a, b = position_of(led, "appropriation", 3), position_of(led, "appropriation", 4)
    sa, sb = state_at(led, a), state_at(led, b)
    table, pos = events_table(led)
    execute(led, f"UPDATE {table} SET state = :s WHERE {pos} = :p", s=sb, p=a)
    execute(led, f"UPDATE {table} SET state = :s WHERE {pos} = :p", s=sa, p=b)
    return f"位置 {a}: 事件内容与记录时的哈希不符"


def edit_event_and_its_hash(led):
    """A forger who also rewrites the event's own hash still breaks the global chain."""
    message = edit_amount(led)
    position = int(message.split()[1].rstrip(":"))
    from ledger.readmodel.chain import event_hash

    forged = led.events.recorder.select_notifications(start=position, limit=1)[0]
    execute(led, "UPDATE ledger_chain SET event_hash = :h WHERE position = :p", h=event_hash(forged), p=position)
    return f"位置 {position}: 全局哈希链在此处断开"


def change_leaves(led, change) -> None:
    """Rewrite one budget's stored leaves (ledger_leaves.balances) with change(list of [values, 分])."""
    import json

    with led.engine.begin() as conn:
        bid, stored = conn.execute(text("SELECT budget_id, balances FROM ledger_leaves ORDER BY budget_id")).first()
        balances = json.loads(stored)
        change(balances["leaves"])
        conn.execute(text("UPDATE ledger_leaves SET balances = :b WHERE budget_id = :i"),
                     {"b": json.dumps(balances, ensure_ascii=False), "i": bid})


def edit_read_model_leaf(led):
    """Today's tables come from the leaves: one of them is off by 1 分."""
    change_leaves(led, lambda leaves: leaves[0].__setitem__(1, leaves[0][1] + 1))
    return "读模型 ledger_leaves"


def delete_read_model_leaf(led):
    change_leaves(led, lambda leaves: leaves.pop())
    return "读模型 ledger_leaves"


def edit_budget_version(led):
    execute(led, "UPDATE ledger_budgets SET version = version - 1")
    return "读模型 ledger_budgets"


def edit_publication_anchor_digest(led):
    """Changing the events before a publication makes its table digest disagree."""
    bump_amount(led, 2, 10000)
    return "的表格与发布时记录的摘要不符"


def edit_budget_chain(led):
    """The per-budget chain is compared with the one recomputed, not only the global chain."""
    position = position_of(led, "appropriation", 7)
    execute(led, "UPDATE ledger_chain SET budget_chain = :h WHERE position = :p", h="f" * 64, p=position)
    return f"位置 {position}: 预算 "


def delete_event_and_its_chain_row(led):
    """SQLite leaves no gap in its positions; PostgreSQL's sequence does, so there the version
    that jumps is the evidence."""
    position = position_of(led, "appropriation", 10)
    table, pos = events_table(led)
    execute(led, f"DELETE FROM {table} WHERE {pos} = :p", p=position)
    execute(led, "DELETE FROM ledger_chain WHERE position = :p", p=position)
    if led.storage.kind == "sqlite":
        return f"位置 {position}–{position}: 事件库的位置不连续"
    return "中间的事件被删除"


TAMPERINGS: list[Callable] = [edit_amount, delete_event, insert_event, reorder_events, edit_event_and_its_hash,
                              edit_read_model_leaf, delete_read_model_leaf, edit_budget_version,
                              edit_publication_anchor_digest, edit_budget_chain, delete_event_and_its_chain_row]


@pytest.fixture
def history(imported):
    imported.adjust(DEPARTMENT, YEAR, Adjust(
        line=LineSpec(code="2210399", kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel"),
        amount="10万元", reason="人员增资"))
    imported.publish(DEPARTMENT, YEAR, Publish(name="调整预算", reason="年中调整"))
    return imported


def test_an_untouched_history_verifies(history):
    report = history.verify()
    assert report.ok, report.problems
    assert report.events == history.last_position()
    assert report.publications == 2 and report.leaves > 50


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda f: f.__name__)
def test_tampering_is_detected(history, tamper):
    expected = tamper(history)
    report = history.verify()
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems


def test_verify_exits_non_zero_naming_the_event(cli, database_url):
    cli("import", str(SEED))
    assert "校验通过" in cli("verify").stdout
    from ledger.application import Ledger

    with Ledger(database_url) as led:
        expected = edit_amount(led)
    result = cli("verify", check=False)
    assert result.returncode == 1
    assert expected in result.stderr


def total_of(led) -> object:
    """The sum of every leaf of the seed's budget, from the read model."""
    return sum(led.leaf_sums(DEPARTMENT, YEAR).values())


def test_rebuild_refuses_over_a_broken_chain_unless_forced(cli, database_url):
    """Issue 20.4: `ledger rebuild` runs verify first; a tampered event refuses the rebuild
    (exit 1, the findings listed, the read model untouched); --force rebuilds and says it did
    so over a broken chain."""
    from ledger.application import Ledger

    cli("import", str(SEED))
    assert "校验通过, 已重放" in cli("rebuild").stdout
    with Ledger(database_url) as led:
        before = total_of(led)
        expected = edit_amount(led)
    refused = cli("rebuild", check=False)
    assert refused.returncode == 1
    assert "哈希链校验失败, 未重建读模型" in refused.stderr and expected in refused.stderr
    assert "--force" in refused.stderr
    with Ledger(database_url) as led:
        assert total_of(led) == before  # not rebuilt: the read model still holds what was recorded
    forced = cli("rebuild", "--force")
    assert "已在断开的哈希链上重放" in forced.stdout
    assert "警告: 哈希链校验失败" in forced.stderr and expected in forced.stderr
    with Ledger(database_url) as led:
        assert total_of(led) != before  # rebuilt from the tampered event
        assert led.chain_state().state == "broken"
    assert cli("verify", check=False).returncode == 1  # forcing mends nothing


def test_a_read_model_that_disagrees_with_the_events_is_rebuilt_without_force(history):
    expected = edit_read_model_leaf(history)
    report = history.verify()
    assert report.problems and report.chain_ok and expected in report.read_model_problem
    rebuilt = history.checked_rebuild()
    assert not rebuilt.over_broken_chain and rebuilt.events == history.last_position()
    assert history.verify().ok and history.chain_state().state == "ok"
