"""Steps about the history: lineage of a cell, tables as of an earlier point, diffs, and the
history's immutability (nothing recorded is ever edited or deleted)."""

from __future__ import annotations

import inspect
from datetime import date, timedelta
from decimal import Decimal

import orjson
from pytest_bdd import then, when
from sqlalchemy import text

from ledger.domain.money import to_wan
from ledger.readmodel.queries import Point

from .budget import DEPARTMENT, YEAR, Story, assert_printed, read_cell, table_def
from .commands import KINDS
from .vocabulary import step

KIND_WORDS = {v: k for k, v in KINDS.items()}


def point_of(story: Story, words: str) -> Point:
    """A point in the history, as a scenario names it."""
    words = words.strip()
    last = story.recorded[-1] if story.recorded else None
    if words == "刚才那笔命令之前":
        return Point(position=last.position - 1)
    if words == "刚才那笔命令":
        return Point(position=last.position)
    if words.startswith("发布节点「"):
        return Point(publication=words.removeprefix("发布节点「").removesuffix("」"))
    if words.startswith("生效日期 "):
        return Point(effective=date.fromisoformat(words.removeprefix("生效日期 ")))
    if words in ("刚才那笔命令的记录时间之前", "刚才那笔命令的记录时间"):
        lineage = story.ledger.history(DEPARTMENT, YEAR, 3, "合计", "合计")
        moment = next(c.recorded_at for c in lineage.contributions if c.event_id == last.event_id)
        return Point(recorded=moment - timedelta(microseconds=1) if words.endswith("之前") else moment)
    raise ValueError(f"不认识的时点: {words}")


@then(step("按{point}查看，{table:T}「{row:L}」的「{column:L}」印为 {value:Wan} 万元"))
def _(story: Story, point: str, table: str, row: str, column: str, value: Decimal):
    assert_printed(read_cell(story.ledger, table, row, column, point_of(story, point)), value)


@then(step("按{point}查看，各表与发布节点「{name:L}」时完全相同"))
def _(story: Story, point: str, name: str):
    tables = story.ledger.tables(DEPARTMENT, YEAR, point=point_of(story, point))
    assert tables == story.ledger.tables(DEPARTMENT, YEAR, point=Point(publication=name))


@then(step("{table:T}「{row:L}」的「{column:L}」由以下事件构成，其和等于该格:"))
def _(story: Story, table: str, row: str, column: str, datatable):
    lineage = story.ledger.history(DEPARTMENT, YEAR, table_def(table).number, row, column)
    header, *lines = datatable
    assert header == ["类型", "金额", "原因"], header
    got = [[KIND_WORDS.get(c.kind, c.kind), c.amount.wan, c.reason] for c in lineage.contributions]
    assert got == lines, f"{table}「{row}」{column} 的事件: {got}"
    assert lineage.total.value == lineage.amount.value == read_cell(story.ledger, table, row, column).amount


@then(step("{table:T}「{row:L}」的「{column:L}」的事件各记明记录人:"))
def _(story: Story, table: str, row: str, column: str, datatable):
    lineage = story.ledger.history(DEPARTMENT, YEAR, table_def(table).number, row, column)
    header, *lines = datatable
    assert header == ["类型", "金额", "记录人"], header
    got = [[KIND_WORDS.get(c.kind, c.kind), c.amount.wan, c.actor or "未记明"] for c in lineage.contributions]
    assert got == lines, f"{table}「{row}」{column} 的事件: {got}"
    feed = story.ledger.event_feed(0, 10**6, DEPARTMENT, YEAR).items
    assert [e.actor for e in feed[-len(story.recorded):]] == [r for *_, r in lines[-len(story.recorded):]]


@then(step("导入的那笔拨款注明来自公开文件{table:T}第{line:d}行「{row:L}」的「{column:L}」"))
def _(story: Story, table: str, line: int, row: str, column: str):
    found = []
    for number in range(1, 14):
        try:
            lineage = story.ledger.history(DEPARTMENT, YEAR, number, row, column)
        except LookupError:
            continue
        found += [c.provenance for c in lineage.contributions if c.kind == "appropriation"]
    assert any(p and p.get("table") == table and p.get("line") == line and p.get("row", "").startswith(row.split()[0])
               for p in found), found


@then(step("{table:T}的每一格都等于其来源事件之和"))
def _(story: Story, table: str):
    number = table_def(table).number
    rendered = story.ledger.tables(DEPARTMENT, YEAR, number=number)[0]
    checked = 0
    for r in rendered.rows:
        for row_key, col_key, amount in r.amounts:
            if amount:
                lineage = story.ledger.history(DEPARTMENT, YEAR, number, row_key, col_key)
                assert lineage.total.value == amount and lineage.contributions, (row_key, col_key)
                checked += 1
    assert checked


@then(step("从发布节点「{name:L}」到现在，变化的每一格都恰好{direction}{delta:Wan} 万元，都由刚才那笔命令造成"))
def _(story: Story, name: str, direction: str, delta: Decimal):
    diff = story.ledger.diff(DEPARTMENT, YEAR, Point(publication=name), Point())
    sign = {"增加": 1, "减少": -1}[direction]
    assert diff.changes
    for change in diff.changes:
        assert to_wan(change.delta.value) == sign * delta, change
        assert [e.event_id for e in change.events] == [story.recorded[-1].event_id], change
    story.marks["diff"] = diff


@then(step("变化的格中没有{tables}"))
def _(story: Story, tables: str):
    names = set(tables.split("和"))
    assert not [c for c in story.marks["diff"].changes if c.table_name in names]


@then("变化的格包括:")
def _(story: Story, datatable):
    header, *lines = datatable
    assert header == ["表", "行", "列", "之前", "之后"], header
    changes = {(c.table_name, c.row_label, c.column_label): (c.before.wan, c.after.wan)
               for c in story.marks["diff"].changes}
    for table, row, column, before, after in lines:
        assert changes.get((table, row, column)) == (before, after), (table, row, column, changes.keys())


# ------------------------------------------------------------------------ immutability


def _stored(story: Story) -> list[tuple]:
    """Every event in the event store, as stored (position, stream, version, topic, bytes)."""
    recorder = story.ledger.events.recorder
    out, start = [], 1
    while True:
        page = recorder.select_notifications(start=start, limit=1000)
        out += [(n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state)) for n in page]
        if len(page) < 1000:
            return out
        start = page[-1].id + 1


@when("记下事件库中现有的全部事件")
def _(story: Story):
    story.marks["stored"] = _stored(story)


@then(step("先前记下的事件原样保留，事件总数增加了 {count:d} 个"))
def _(story: Story, count: int):
    before, now = story.marks["stored"], _stored(story)
    assert now[: len(before)] == before, "已记录的事件被改动或删除"
    assert len(now) == len(before) + count


@then(step("刚才那笔{kind}与被它更正的{target}都在历史中"))
def _(story: Story, kind: str, target: str):
    correction, corrected = story.recorded[-1], story.marks["corrected"]
    assert (correction.kind, corrected.kind) == (KINDS[kind], KINDS[target])
    positions = {row[0] for row in _stored(story)}
    assert {correction.position, corrected.position} <= positions


# Words that would name a command rewriting history.
_REWRITING = ("delete", "remove", "erase", "edit", "update", "modify", "amend", "replace", "purge", "drop",
              "truncate", "undo", "rewrite", "overwrite")


@then("账本没有删除或改写事件的命令")
def _(story: Story):
    from ledger import cli
    from ledger.application import Ledger

    methods = [name for name, _f in inspect.getmembers(Ledger, inspect.isfunction) if not name.startswith("_")]
    commands = [c.name or c.callback.__name__ for c in cli.app.registered_commands]
    assert {"appropriate", "adjust", "transfer", "correct", "publish", "import_document"} <= set(methods)
    offending = [n for n in methods + commands if any(w in n.lower() for w in _REWRITING)]
    assert not offending, offending


@when("重建读模型")
def _(story: Story):
    story.marks["before_rebuild"] = story.ledger.tables(DEPARTMENT, YEAR)
    story.marks["replayed"] = story.ledger.rebuild()


@then("各表与重建前完全相同")
def _(story: Story):
    assert story.marks["replayed"] == len(_stored(story))
    assert story.ledger.tables(DEPARTMENT, YEAR) == story.marks["before_rebuild"]


def _events_table(led) -> tuple[str, str]:
    return led.events.recorder.events_table_name, ("rowid" if led.storage.kind == "sqlite" else "notification_id")


def _forge_amount(led, position: int) -> None:
    """Add 100 元 to the first amount in an event's stored bytes, bypassing the ledger."""
    table, column = _events_table(led)
    with led.engine.connect() as conn:
        state = bytes(conn.execute(text(f"SELECT state FROM {table} WHERE {column} = :p"), {"p": position}).scalar())
    marker = b'"amount":{"_type_":"decimal_str","_data_":"'
    amount = state.split(marker)[1].split(b'"')[0]
    forged = state.replace(marker + amount, marker + str(Decimal(amount.decode()) + 100).encode(), 1)
    assert forged != state
    with led.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET state = :s WHERE {column} = :p"), {"s": forged, "p": position})


def _rechain_from(led, position: int) -> None:
    """What a forger with write access does next: the chain from that position hashed again
    by the ledger's own chain projection, then the read model rebuilt."""
    from ledger.readmodel.chain import ChainProjector

    with led.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_chain WHERE position >= :p"), {"p": position})
        previous = conn.execute(text("SELECT MAX(position) FROM ledger_chain")).scalar() or 0
        conn.execute(text("UPDATE ledger_tracking SET position = :p WHERE name = 'chain'"), {"p": previous})
    ChainProjector(led.log, led.engine).catch_up()
    led.rebuild()


@when("有人绕过账本直接改动事件库中一笔拨款的金额")
def _(story: Story):
    position = [e.position for e in story.ledger.log.page(0, 10_000) if e.kind == "appropriation"][5]
    _forge_amount(story.ledger, position)
    story.marks["tampered"] = position


@when("审计人员签署检查点并保存在事件库之外")
def _(story: Story, tmp_path):
    from ledger.application.checkpoints import generate_key, load_private_key

    private, public, _kid = generate_key(tmp_path / "auditor.key")
    kept = tmp_path / "kept-checkpoint.json"
    kept.write_bytes(orjson.dumps(story.ledger.checkpoint(load_private_key(private))))
    story.marks.update(kept=kept, public_key=public, keys=tmp_path)


@when("有人改动刚才那笔调整的金额，并用账本自己的代码重算哈希链、重建读模型")
def _(story: Story):
    position = story.recorded[-1].position
    _forge_amount(story.ledger, position)
    _rechain_from(story.ledger, position)
    story.marks["tampered"] = position


@when("有人删除事件库中最后一个事件，并用账本自己的代码重算哈希链、重建读模型")
def _(story: Story):
    led = story.ledger
    position = led.last_position()
    table, column = _events_table(led)
    with led.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {table} WHERE {column} = :p"), {"p": position})
    _rechain_from(led, position)


def _kept_checkpoint(story: Story):
    from ledger.application.checkpoints import load, load_public_key

    return load(story.marks["kept"].read_bytes(), load_public_key(story.marks["public_key"]))


@then(step('对照保存的检查点校验不通过，提示包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    report = story.ledger.verify(_kept_checkpoint(story))
    assert not report.ok and any(fragment in p for p in report.problems), report.problems


@then(step('对照保存的检查点校验不通过，提示包含 "{fragment:Q}"，并指出被改动的那个事件'))
def _(story: Story, fragment: str):
    report = story.ledger.verify(_kept_checkpoint(story))
    assert not report.ok
    assert any(p.startswith(f"位置 {story.marks['tampered']}: ") and fragment in p for p in report.problems), \
        report.problems


@then(step('用另一把私钥签署的检查点被拒绝，提示包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    from ledger.application.checkpoints import CheckpointError, generate_key, load, load_private_key, load_public_key

    forger, _public, _kid = generate_key(story.marks["keys"] / "forger.key")
    forged = orjson.dumps(story.ledger.checkpoint(load_private_key(forger)))
    try:
        load(forged, load_public_key(story.marks["public_key"]))
    except CheckpointError as exc:
        assert fragment in str(exc), str(exc)
    else:
        raise AssertionError("另一把私钥签署的检查点被接受了")


@then("校验通过")
def _(story: Story):
    report = story.ledger.verify()
    assert report.ok, report.problems


@then(step('校验不通过，指出被改动的那个事件，提示包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    report = story.ledger.verify()
    assert not report.ok
    message = "\n".join(report.problems)
    assert f"位置 {story.marks['tampered']}" in message and fragment in message, message
