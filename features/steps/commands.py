"""Steps that give the budget officer's commands (appropriate, adjust, transfer, correct,
publish) and check whether they were accepted or refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import ValidationError
from pytest_bdd import then, when

from ledger.application.commands import Adjust, Appropriate, Correct, Publish, Transfer
from ledger.domain.budget import RuleViolation
from ledger.readmodel.queries import NotFound

from .budget import DEPARTMENT, YEAR, Story, line_spec, table_def
from .vocabulary import step

KINDS = {"拨款": "appropriation", "调整": "adjustment", "调剂": "transfer", "更正": "correction"}


def run(story: Story, action: Callable[[], Any]) -> None:
    """Give a command; a refusal is kept for the Then steps (a refused command records nothing)."""
    story.position_before = story.ledger.last_position()
    story.refusal = None
    try:
        story.recorded.append(action())
    except (RuleViolation, ValidationError, NotFound) as exc:
        story.refusal = exc


def _adjust(story: Story, line: str, amount: str, reason: str, effective: date | None = None,
            department: str = DEPARTMENT, year: int = YEAR, actor: str | None = None) -> None:
    run(story, lambda: story.ledger.adjust(department, year, Adjust(
        line=line_spec(line), amount=amount, reason=reason, effective=effective), actor=actor))


@when(step('调整预算行「{line:L}」{amount:Amount}，原因 "{reason:Q}"'))
def _(story: Story, line: str, amount: str, reason: str):
    _adjust(story, line, amount, reason)


@when(step('记录人 "{actor:Q}" 调整预算行「{line:L}」{amount:Amount}，原因 "{reason:Q}"'))
def _(story: Story, actor: str, line: str, amount: str, reason: str):
    _adjust(story, line, amount, reason, actor=actor)


@when(step('记录人 "{actor:Q}" 更正刚才那笔{kind}，原因 "{reason:Q}"'))
def _(story: Story, actor: str, kind: str, reason: str):
    target = story.recorded[-1]
    assert target.kind == KINDS[kind], f"刚才那笔是 {target.kind}, 不是{kind}"
    run(story, lambda: story.ledger.correct(DEPARTMENT, YEAR, Correct(event=target.event_id, reason=reason),
                                            actor=actor))


@when(step('调整预算行「{line:L}」{amount:Amount}，自 {effective:Date} 起生效，原因 "{reason:Q}"'))
def _(story: Story, line: str, amount: str, effective, reason: str):
    _adjust(story, line, amount, reason, effective)


@when(step('对「{department:L}」{year:d}年预算调整预算行「{line:L}」{amount:Amount}，原因 "{reason:Q}"'))
def _(story: Story, department: str, year: int, line: str, amount: str, reason: str):
    _adjust(story, line, amount, reason, department=department, year=year)


@when(step('追加拨款到预算行「{line:L}」{amount:Amount}，原因 "{reason:Q}"'))
def _(story: Story, line: str, amount: str, reason: str):
    run(story, lambda: story.ledger.appropriate(DEPARTMENT, YEAR, Appropriate(
        line=line_spec(line), amount=amount, reason=reason)))


@when(step('从预算行「{source:L}」调剂 {amount:Amount} 到预算行「{target:L}」，原因 "{reason:Q}"'))
def _(story: Story, source: str, amount: str, target: str, reason: str):
    run(story, lambda: story.ledger.transfer(DEPARTMENT, YEAR, Transfer(
        from_line=line_spec(source), to_line=line_spec(target), amount=amount, reason=reason)))


@when(step('更正刚才那笔{kind}，原因 "{reason:Q}"'))
def _(story: Story, kind: str, reason: str):
    target = story.recorded[-1]
    assert target.kind == KINDS[kind], f"刚才那笔是 {target.kind}, 不是{kind}"
    story.marks["corrected"] = target
    run(story, lambda: story.ledger.correct(DEPARTMENT, YEAR, Correct(event=target.event_id, reason=reason)))


@when(step('再次更正同一笔{kind}，原因 "{reason:Q}"'))
def _(story: Story, kind: str, reason: str):
    target = story.marks["corrected"]
    assert target.kind == KINDS[kind]
    run(story, lambda: story.ledger.correct(DEPARTMENT, YEAR, Correct(event=target.event_id, reason=reason)))


@when(step('更正位置为 {position:d} 的事件，原因 "{reason:Q}"'))
def _(story: Story, position: int, reason: str):
    run(story, lambda: story.ledger.correct(DEPARTMENT, YEAR, Correct(event=str(position), reason=reason)))


@when(step('更正导入时记录{table:T}「{row:L}」的「{column:L}」的那笔拨款，原因 "{reason:Q}"'))
def _(story: Story, table: str, row: str, column: str, reason: str):
    lineage = story.ledger.history(DEPARTMENT, YEAR, table_def(table).number, row, column)
    [imported] = [c for c in lineage.contributions if c.kind == "appropriation"]
    run(story, lambda: story.ledger.correct(DEPARTMENT, YEAR, Correct(event=imported.event_id, reason=reason)))


@when(step('发布节点「{name:L}」，原因 "{reason:Q}"'))
def _(story: Story, name: str, reason: str):
    run(story, lambda: story.ledger.publish(DEPARTMENT, YEAR, Publish(name=name, reason=reason)))


@then(step('命令被拒绝，提示包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    assert story.refusal is not None, f"命令被接受了: {story.recorded[-1] if story.recorded else None}"
    assert fragment in str(story.refusal), f"提示中没有「{fragment}」:\n{story.refusal}"


@then("命令被接受")
def _(story: Story):
    assert story.refusal is None, f"命令被拒绝: {story.refusal}"
    assert story.recorded[-1].position > story.position_before


@then("账本没有记录任何新事件")
def _(story: Story):
    assert story.ledger.last_position() == story.position_before


@then("账本中没有任何事件")
def _(story: Story):
    assert story.ledger.last_position() == 0
    assert story.ledger.budgets() == []


@then(step('提示包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    assert story.refusal is not None, "没有被拒绝"
    assert fragment in str(story.refusal), f"提示中没有「{fragment}」:\n{story.refusal}"
