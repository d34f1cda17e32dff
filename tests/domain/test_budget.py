"""The Budget aggregate on its own, without storage: commands check the rules first and record
an event only when they hold; replaying the events gives the same budget."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal

import pytest

from ledger.domain.budget import EVENT_KINDS, LINE_EVENTS, Budget, RuleViolation, budget_id, declared
from ledger.domain.postings import Line

DAY = date(2024, 1, 1)
BASIC = {"measure": "budget", "source": "general", "period": "current", "code": "2210399", "kind": "basic",
         "economic": "30101", "gov_economic": "50101", "cost": "personnel", "unit": "本级"}
PROJECT = {"measure": "budget", "source": "general", "period": "current", "code": "2210399", "kind": "project",
           "project": "业务费", "unit": "本级"}


def new_budget() -> Budget:
    return Budget(department="测试部门", fiscal_year=2024, units=[{"name": "本级", "category": "行政单位"}],
                  effective=DAY, reason="开账")


def basic(amount: str, **changes: str) -> Line:
    return Line.of(Decimal(amount), **{**BASIC, **changes})


def replayed(budget: Budget) -> Budget:
    """The budget rebuilt from its events alone (as a repository would)."""
    copy = None
    for event in budget.collect_events():
        copy = event.mutate(copy)
    return copy


def test_the_id_follows_from_department_and_year():
    budget = new_budget()
    assert budget.id == budget_id("测试部门", 2024) != budget_id("测试部门", 2025)


def test_an_appropriation_then_adjustments_move_the_balance_and_replay_alike():
    budget = new_budget()
    budget.appropriate([basic("1000.00")], effective=DAY, reason="年初")
    budget.adjust([basic("-250.50")], effective=DAY, reason="调减")
    assert budget.balances[basic("0").dims] == Decimal("749.50")
    again = replayed(budget)
    assert dict(again.balances) == dict(budget.balances) and again.version == budget.version == 3


def test_a_command_that_breaks_a_rule_records_nothing():
    budget = new_budget()
    budget.appropriate([basic("100.00")], effective=DAY, reason="年初")
    pending = len(budget.pending_events)
    with pytest.raises(RuleViolation) as refused:
        budget.adjust([basic("-100.01")], effective=DAY, reason="调减过多")
    assert {v.rule for v in refused.value.violations} == {"non-negative"}  # on each axis the line names
    with pytest.raises(RuleViolation) as incomplete:
        budget.adjust([Line.of(Decimal("5"), measure="budget", code="2210399")], effective=DAY, reason="缺维度")
    assert "complete-line" in {v.rule for v in incomplete.value.violations}
    with pytest.raises(RuleViolation) as unknown:
        budget.appropriate([basic("5.00", unit="别的单位")], effective=DAY, reason="未知单位")
    assert "known-unit" in {v.rule for v in unknown.value.violations}
    assert len(budget.pending_events) == pending


def test_a_transfer_keeps_the_total_and_refuses_a_line_to_itself():
    budget = new_budget()
    budget.appropriate([basic("100.00")], effective=DAY, reason="年初")
    budget.transfer(basic("40.00"), basic("40.00", economic="30102", gov_economic="50101"), effective=DAY,
                    reason="调剂")
    assert sum(budget.balances.values()) == Decimal("100.00")
    assert budget.balances[basic("0", economic="30102", gov_economic="50101").dims] == Decimal("40.00")
    with pytest.raises(RuleViolation, match="相同"):
        budget.transfer(basic("1.00"), basic("1.00"), effective=DAY, reason="自己调给自己")
    with pytest.raises(RuleViolation, match="为正"):
        budget.transfer(basic("-1.00"), basic("1.00", economic="30102"), effective=DAY, reason="负数")


def test_a_correction_reverses_an_event_once():
    budget = new_budget()
    budget.appropriate([basic("100.00")], effective=DAY, reason="年初")
    wrong = budget.adjust([basic("30.00")], effective=DAY, reason="录错")
    budget.correct(wrong, [basic("30.00")], effective=DAY, reason="录入错误")
    assert budget.balances[basic("0").dims] == Decimal("100.00")
    with pytest.raises(RuleViolation, match="已由"):
        budget.correct(wrong, [basic("30.00")], effective=DAY, reason="再更正")
    with pytest.raises(RuleViolation, match="没有可更正"):
        budget.correct("no-such-event", None, effective=DAY, reason="不存在")
    with pytest.raises(RuleViolation, match="原因"):
        budget.correct(budget.adjust([basic("1.00")], effective=DAY, reason="x"), [basic("1.00")], effective=DAY,
                       reason="  ")


def test_project_spending_needs_a_registered_project_and_the_cross_axis_rule():
    budget = new_budget()
    with pytest.raises(RuleViolation) as unregistered:
        budget.appropriate([Line.of(Decimal("10"), **PROJECT)], effective=DAY, reason="未登记")
    assert "known-project" in {v.rule for v in unregistered.value.violations}
    budget.register_project("业务费", unit="本级", category="项目支出", annual_amount=Decimal("10.00"), targets={},
                            effective=DAY, reason="登记")
    budget.appropriate([Line.of(Decimal("10"), **PROJECT)], effective=DAY, reason="项目")
    assert budget.balances[Line.of(Decimal(0), **PROJECT).dims] == Decimal("10.00")
    # An import posts each axis on its own (a marginal); reversing one of the two alone would
    # break 表十二 = 表三 项目支出.
    by_function = {"measure": "budget", "source": "general", "period": "current", "code": "2210399",
                   "kind": "project"}
    by_project = {"measure": "budget", "source": "general", "period": "current", "project": "业务费"}
    imported = budget.appropriate([Line.of(Decimal("5"), **by_function)], effective=DAY, reason="导入", native=False)
    budget.appropriate([Line.of(Decimal("5"), **by_project)], effective=DAY, reason="导入", native=False)
    with pytest.raises(RuleViolation) as lone:
        budget.correct(imported, [Line.of(Decimal("5"), **by_function)], effective=DAY, reason="冲销一边")
    assert "project-by-function-equals-project-by-project" in {v.rule for v in lone.value.violations}


def test_publications_documents_and_prior_years_are_recorded_once():
    budget = new_budget()
    anchor = {"chain_position": 0, "chain_head": "0" * 64, "tables_digest": "d" * 64}
    budget.publish("年初预算", effective=DAY, reason="公开", **anchor)
    with pytest.raises(RuleViolation, match="已存在"):
        budget.publish("年初预算", effective=DAY, reason="再公开", **anchor)
    budget.import_document("a" * 64, name="x.txt", tables={}, rounding=[], effective=DAY, reason="导入")
    with pytest.raises(RuleViolation, match="已导入"):
        budget.import_document("a" * 64, name="x.txt", tables={}, rounding=[], effective=DAY, reason="导入")
    with pytest.raises(RuleViolation, match="prior_year"):
        budget.state_prior_year([basic("1.00")], effective=DAY, reason="上年")
    budget.state_prior_year([Line.of(Decimal("1790.06"), measure="prior_year", figure="income_total")],
                            effective=DAY, reason="上年预算数")
    assert replayed(budget).publications == budget.publications and list(budget.publications) == ["年初预算"]


def test_every_event_kind_is_named_once_and_line_events_are_those_with_lines():
    assert set(EVENT_KINDS) == {getattr(Budget, name) for name in (
        "Opened", "Appropriated", "Adjusted", "Transferred", "Corrected", "PriorYearFigureStated",
        "ProjectRegistered", "DocumentImported", "Published", "FinalAccountsRecorded", "AuditRecorded")}
    assert len(set(EVENT_KINDS.values())) == len(EVENT_KINDS)
    assert LINE_EVENTS == {cls for cls in EVENT_KINDS if "lines" in {f.name for f in fields(cls)}}
    assert Budget.Transferred in LINE_EVENTS and Budget.Published not in LINE_EVENTS


def test_a_reader_naming_a_field_an_event_does_not_have_fails_at_once():
    assert declared(Budget.Published, "name", "tables_digest") == ("name", "tables_digest")
    with pytest.raises(TypeError, match="Published has no field chain_tail"):
        declared(Budget.Published, "name", "chain_tail")


def test_an_audit_is_recorded_with_its_findings_and_a_correction_may_cite_one():
    budget = new_budget()
    budget.appropriate([basic("100.00")], effective=DAY, reason="年初")
    wrong = budget.adjust([basic("30.00")], effective=DAY, reason="录错")
    findings = [{"rule": "narrative.amount", "severity": "错误", "message": "与表不符"},
                {"rule": "table.rounding", "severity": "提示", "message": "尾差"}]
    audit = budget.record_audit("某文件.pdf", sha256=None, rules_version=1, counts={"错误": 1, "疑似": 0, "提示": 1},
                                findings=findings, effective=DAY, reason="审校")
    with pytest.raises(RuleViolation, match="没有「3」"):
        budget.correct(wrong, [basic("30.00")], effective=DAY, reason="按审校更正", answers=f"{audit}#3")
    with pytest.raises(RuleViolation, match="没有审校事件"):
        budget.correct(wrong, [basic("30.00")], effective=DAY, reason="按审校更正", answers="other#1")
    answer = budget.correct(wrong, [basic("30.00")], effective=DAY, reason="按审校更正", answers=f"{audit}#1")
    again = replayed(budget)
    assert again.audits == {audit: 2} and again.corrected[wrong] == answer
    assert budget.balances[basic("0").dims] == Decimal("100.00")


def test_an_audit_needs_a_document_and_known_severities():
    budget = new_budget()
    with pytest.raises(RuleViolation, match="严重程度"):
        budget.record_audit("x", sha256=None, rules_version=1, counts={}, findings=[{"rule": "r", "severity": "重大"}],
                            effective=DAY, reason="审校")
    with pytest.raises(RuleViolation, match="审校了什么"):
        budget.record_audit(" ", sha256=None, rules_version=1, counts={}, findings=[], effective=DAY, reason="审校")
    assert budget.audits == {}


def test_every_event_records_who_recorded_it_and_an_event_without_one_still_replays():
    """Issue 20.3: each command names its actor on the event it records; an event stored before
    the field existed (its state without `actor`) replays to the same budget, with no actor."""
    budget = Budget(department="测试部门", fiscal_year=2024, units=[{"name": "本级", "category": "行政单位"}],
                    effective=DAY, reason="开账", actor="cli:张三")
    anchor = {"chain_position": 0, "chain_head": "0" * 64, "tables_digest": "d" * 64}
    budget.register_project("业务费", unit="本级", category="项目支出", annual_amount=Decimal("10.00"), targets={},
                            effective=DAY, reason="登记", actor="admin:ops")
    budget.appropriate([basic("100.00")], effective=DAY, reason="年初", actor="officer:alice")
    wrong = budget.adjust([basic("-10.00")], effective=DAY, reason="调减", actor="officer:bob")
    budget.transfer(basic("5.00"), basic("0", cost="operating", economic="30201", gov_economic="50201"),
                    effective=DAY, reason="调剂", actor="officer:alice")
    budget.correct(wrong, [basic("-10.00")], effective=DAY, reason="更正", actor="admin:ops")
    budget.state_prior_year([Line.of(Decimal("1.00"), measure="prior_year", figure="income_total")],
                            effective=DAY, reason="上年", actor="cli:张三")
    budget.import_document("a" * 64, name="x.txt", tables={}, rounding=[], effective=DAY, reason="导入",
                           actor="admin:ops")
    budget.record_final([Line.of(Decimal("1.00"), measure="final", figure="income_total")], effective=DAY,
                        reason="决算", actor="cli:李四")
    budget.publish("年初预算", effective=DAY, reason="公开", **anchor, actor="admin:ops")
    budget.record_audit("x.pdf", sha256=None, rules_version=1, counts={}, findings=[], effective=DAY, reason="审校",
                        actor="officer:carol")
    events = budget.collect_events()
    assert [type(e) for e in events] == [
        Budget.Opened, Budget.ProjectRegistered, Budget.Appropriated, Budget.Adjusted, Budget.Transferred,
        Budget.Corrected, Budget.PriorYearFigureStated, Budget.DocumentImported, Budget.FinalAccountsRecorded,
        Budget.Published, Budget.AuditRecorded]
    assert {type(e) for e in events} == set(EVENT_KINDS)  # every kind says who
    assert [e.actor for e in events] == ["cli:张三", "admin:ops", "officer:alice", "officer:bob", "officer:alice",
                                         "admin:ops", "cli:张三", "admin:ops", "cli:李四", "admin:ops", "officer:carol"]
    # As a store written before issue 20 holds them: the same states without `actor`.
    older = []
    for e in events:
        copy = object.__new__(type(e))
        copy.__dict__.update({k: v for k, v in vars(e).items() if k != "actor"})
        older.append(copy)
    again = None
    for e in older:
        again = e.mutate(again)
    assert dict(again.balances) == dict(budget.balances) and again.version == budget.version
    assert again.publications == budget.publications and again.corrected == budget.corrected
    assert all(e.actor is None for e in older)
    assert new_budget().collect_events()[0].actor is None  # naming no one is allowed


def test_a_command_is_dated_inside_its_fiscal_year_and_refused_outside():
    budget = new_budget()
    first, last = date(2024, 1, 1), date(2024, 12, 31)
    assert budget.default_effective(date(2024, 5, 20)) == date(2024, 5, 20)  # the year runs: today
    assert budget.default_effective(date(2026, 3, 1)) == last  # the year is over: its last day
    assert budget.default_effective(date(2023, 11, 2)) == first  # not begun: its first day
    budget.appropriate([basic("100.00")], effective=last, reason="年末追加")
    pending = len(budget.pending_events)
    for outside in (date(2023, 12, 31), date(2025, 1, 1)):
        with pytest.raises(RuleViolation, match="生效日期 \\(effective\\) .* 不在 2024 预算年度内") as refused:
            budget.adjust([basic("-1.00")], effective=outside, reason="跨年")
        assert {v.rule for v in refused.value.violations} == {"effective-in-year"}
    with pytest.raises(RuleViolation, match="不在 2024 预算年度内"):
        budget.publish("调整预算", effective=date(2025, 1, 5), reason="次年发布", chain_position=1,
                       chain_head="x", tables_digest="y")
    assert len(budget.pending_events) == pending


def test_a_correction_takes_the_effective_date_of_the_event_it_reverses():
    budget = new_budget()
    budget.appropriate([basic("100.00")], effective=DAY, reason="年初")
    wrong = budget.adjust([basic("30.00")], effective=date(2024, 6, 30), reason="录入错误")
    budget.correct(wrong, [basic("30.00")], reversed_effective=date(2024, 6, 30), reason="更正录入错误")
    assert budget.pending_events[-1].effective == date(2024, 6, 30)
    assert replayed(budget).balances[basic("0").dims] == Decimal("100.00")
    other = budget.adjust([basic("5.00")], effective=date(2024, 7, 1), reason="另一笔")
    budget.correct(other, [basic("5.00")], effective=date(2024, 8, 1), reversed_effective=date(2024, 7, 1),
                   reason="八月起冲销")  # an explicit date is kept
    assert budget.pending_events[-1].effective == date(2024, 8, 1)
    with pytest.raises(RuleViolation, match="不在 2024 预算年度内"):
        budget.correct(budget.adjust([basic("1.00")], effective=DAY, reason="x"), [basic("1.00")],
                       effective=date(2025, 2, 1), reason="次年更正")


def test_a_correction_of_an_event_dated_outside_its_year_by_earlier_code_is_dated_inside():
    """Events recorded before dates were checked (dated the day they were recorded) still
    replay; a correction of one is dated at the nearest day of the fiscal year."""
    budget = new_budget()
    budget.appropriate([basic("100.00")], effective=DAY, reason="年初")
    eid = "old-adjustment"
    budget._adjusted(eid, [basic("10.00").to_dict()], date(2026, 3, 1), "旧代码按记录日记账", None)
    assert replayed(budget).balances[basic("0").dims] == Decimal("110.00")
    budget.correct(eid, [basic("10.00")], reversed_effective=date(2026, 3, 1), reason="更正")
    assert budget.pending_events[-1].effective == date(2024, 12, 31)
