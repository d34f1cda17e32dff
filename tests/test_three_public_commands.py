"""Commands on “三公”经费 items (表十) and 政府采购 categories (issue 19 item 4): the same
Appropriated/Adjusted/Transferred/Corrected events as the spending commands, on the dimensions
an import records for those figures, so that a command lands in the same cells and figures;
the rules refuse what a budget officer would refuse and record nothing. Both stores."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ledger.application.commands import Adjust, Appropriate, Correct, Publish, Transfer
from ledger.domain.budget import Budget, RuleViolation
from ledger.domain.postings import Line
from ledger.readmodel.queries import Point
from support import DEPARTMENT, YEAR

D, Y = DEPARTMENT, YEAR
GENERAL_BASIC = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}


def cell(ledger, table: int, row: str, column: str, point: Point | None = None) -> Decimal:
    [rendered] = ledger.tables(D, Y, number=table, point=point)
    return next((a for r in rendered.rows for k, c, a in r.amounts if (k, c) == (row, column)), Decimal(0))


def three_public(ledger, point: Point | None = None) -> dict[str, Decimal]:
    return {i.key: i.amount.value for i in ledger.explain(D, Y, point).three_public}


def procurement(ledger, point: Point | None = None) -> dict[str, Decimal]:
    return {i.key: i.amount.value for i in ledger.explain(D, Y, point).procurement}


def test_a_three_public_adjustment_is_an_adjustment_on_the_imported_cells(imported):
    ledger = imported
    before = {key: cell(ledger, 10, key, "general") for key in ("0/reception", "0/total")}
    figures_before = three_public(ledger)
    done = ledger.adjust(D, Y, Adjust(line={"three_public": "reception"}, amount="-1000", reason="压减接待",
                                      effective="2024-06-30", document_no="长财预〔2024〕7号"))
    assert done.kind == "adjustment"
    # 表十's cell, its row total and the 合计 row move; the explanation's figure with them.
    assert cell(ledger, 10, "0/reception", "general") == before["0/reception"] - 1000
    assert cell(ledger, 10, "0/total", "general") == before["0/total"] - 1000
    assert cell(ledger, 10, "0/total", "total") == before["0/total"] - 1000
    assert three_public(ledger)["reception"] == figures_before["reception"] - 1000
    total = next(c for c in ledger.explain(D, Y).comparisons if c.key == "three_public")
    assert total.current.value == cell(ledger, 10, "0/total", "total")
    # Lineage: the cell's events are the import's appropriation and this adjustment, adding up to it.
    lineage = ledger.history(D, Y, 10, "公务接待费", "一般公共预算")
    assert [(c.kind, c.amount.value) for c in lineage.contributions] == [
        ("appropriation", before["0/reception"]), ("adjustment", Decimal("-1000.00"))]
    assert lineage.total.value == lineage.amount.value == before["0/reception"] - 1000
    assert lineage.contributions[-1].document_no == "长财预〔2024〕7号"
    # Diff between the publication and now: only 表十's cells, each by this event.
    diff = ledger.diff(D, Y, Point(publication="年初预算"), Point())
    assert {(c.table, c.row, c.column) for c in diff.changes} == {
        (10, "0/reception", "general"), (10, "0/reception", "total"), (10, "0/total", "general"),
        (10, "0/total", "total")}
    assert all(c.delta.value == -1000 and [e.event_id for e in c.events] == [done.event_id] for c in diff.changes)
    # The event feed shows it with its lines as recorded: the import's dimensions, no others.
    [event] = [e for e in ledger.event_feed(0, 1000, D, Y).items if e.event_id == done.event_id]
    assert event.kind == "adjustment" and event.reason == "压减接待"
    assert [(dict(x.dims), x.fen) for x in event.lines] == [
        ({"measure": "budget", "source": "general", "three_public": "reception"}, -100000)]


def test_three_public_of_every_fiscal_source_adds_up_in_table_10(imported):
    ledger = imported
    ledger.appropriate(D, Y, Appropriate(line={**GENERAL_BASIC, "source": "government_fund"}, amount="2万元",
                                         reason="基金安排的人员支出"))
    ledger.appropriate(D, Y, Appropriate(line={"three_public": "vehicle_operation", "source": "government_fund"},
                                         amount="3000", reason="基金安排的用车"))
    [table] = ledger.tables(D, Y, number=10)
    amounts = {(k, c): a for r in table.rows for k, c, a in r.amounts}
    for row in ("0/overseas", "0/reception", "0/vehicles", "0/vehicle_purchase", "0/vehicle_operation", "0/total"):
        parts = sum(amounts.get((row, s), Decimal(0)) for s in ("general", "government_fund", "state_capital"))
        assert amounts.get((row, "total"), Decimal(0)) == parts, row
    assert amounts[("0/vehicle_operation", "government_fund")] == Decimal("3000.00")
    assert sum(three_public(ledger).values()) == amounts[("0/total", "total")]


def test_procurement_changes_show_in_the_explanation_at_each_point(imported):
    ledger = imported
    start = procurement(ledger)
    up = ledger.adjust(D, Y, Adjust(line={"procurement": "goods"}, amount="1万元", reason="增购设备"))
    ledger.publish(D, Y, Publish(name="调整预算", reason="年中"))
    ledger.transfer(D, Y, Transfer(from_line={"procurement": "services"}, to_line={"procurement": "works"},
                                   amount="5000", reason="改为工程"))
    now = procurement(ledger)
    assert now == {"goods": start["goods"] + 10000, "works": start["works"] + 5000,
                   "services": start["services"] - 5000}
    assert procurement(ledger, Point(publication="年初预算")) == start
    assert procurement(ledger, Point(publication="调整预算"))["goods"] == start["goods"] + 10000
    assert procurement(ledger, Point(position=up.position - 1)) == start
    text = ledger.explain_text(D, Y)
    total = sum(now.values()) / 10000
    assert f"政府采购预算总额{total:.2f}万元" in text and "政府采购工程预算0.50万元" in text
    # Procurement is in no table: the thirteen tables stay as published.
    assert ledger.tables(D, Y) == ledger.tables(D, Y, point=Point(publication="年初预算"))


def test_corrections_reverse_and_are_refused_when_they_would_go_negative(imported):
    ledger = imported
    reception = three_public(ledger)["reception"]
    added = ledger.appropriate(D, Y, Appropriate(line={"three_public": "reception"}, amount="1万元", reason="追加"))
    ledger.adjust(D, Y, Adjust(line={"three_public": "reception"}, amount=str(-(reception + 10000)), reason="取消"))
    position = ledger.last_position()
    with pytest.raises(RuleViolation) as refused:
        ledger.correct(D, Y, Correct(event=added.event_id, reason="追加有误"))
    assert {v.rule for v in refused.value.violations} == {"non-negative"}
    assert "公务接待费 一般公共预算 为 -1.00 万元" in str(refused.value)
    assert ledger.last_position() == position
    goods = ledger.adjust(D, Y, Adjust(line={"procurement": "goods"}, amount="-500", reason="少买"))
    ledger.correct(D, Y, Correct(event=str(goods.position), reason="录错"))
    assert procurement(ledger) == procurement(ledger, Point(publication="年初预算"))


def test_refusals_name_the_rule_and_record_nothing(imported):
    ledger = imported
    position = ledger.last_position()
    cases = [
        (lambda: Adjust(line={"three_public": "overseas"}, amount="-1", reason="x"), "non-negative"),
        (lambda: Adjust(line={"procurement": "works"}, amount="-1", reason="x"), "non-negative"),
        (lambda: Adjust(line={"three_public": "reception", "source": "state_capital"}, amount="1", reason="x"),
         "three-public-within-expenditure"),
        (lambda: Adjust(line={"procurement": "services"}, amount="1800万元", reason="x"),
         "procurement-within-expenditure"),
    ]
    for make, rule in cases:
        with pytest.raises(RuleViolation) as refused:
            ledger.adjust(D, Y, make())
        assert rule in {v.rule for v in refused.value.violations}, refused.value
    with pytest.raises(RuleViolation) as mixed:
        ledger.transfer(D, Y, Transfer(from_line={"three_public": "reception"}, to_line=GENERAL_BASIC,
                                       amount="100", reason="x"))
    assert [v.rule for v in mixed.value.violations] == ["same-kind-transfer"]
    assert ledger.last_position() == position


def test_spending_may_not_fall_below_its_three_public():
    """A spending cut that leaves a fiscal source with less spending than its “三公”经费 is refused;
    one that does not, passes (the domain alone)."""
    day = date(2024, 1, 1)
    budget = Budget(department="测试部门", fiscal_year=2024, units=[{"name": "本级", "category": "行政单位"}],
                    effective=day, reason="开账")
    basic = {"measure": "budget", "source": "general", "period": "current", "code": "2210399", "kind": "basic",
             "economic": "30101", "gov_economic": "50101", "cost": "personnel", "unit": "本级"}
    budget.appropriate([Line.of(Decimal("1000"), **basic)], effective=day, reason="年初")
    budget.appropriate([Line.of(Decimal("300"), measure="budget", source="general", three_public="reception")],
                       effective=day, reason="接待")
    budget.adjust([Line.of(Decimal("-700"), **basic)], effective=day, reason="压减到与三公相等")
    with pytest.raises(RuleViolation) as refused:
        budget.adjust([Line.of(Decimal("-0.01"), **basic)], effective=day, reason="再减")
    assert [v.rule for v in refused.value.violations] == ["three-public-within-expenditure"]
    assert "一般公共预算“三公”经费 为 300.00 元, 超过一般公共预算支出 299.99 元" in str(refused.value)
    # A line of the 三公 axis names only its figure's dimensions.
    with pytest.raises(RuleViolation) as extra:
        budget.adjust([Line.of(Decimal("1"), measure="budget", source="general", three_public="reception",
                               code="2210399")], effective=day, reason="混写")
    assert [v.rule for v in extra.value.violations] == ["three-public-line"]
    assert "不能同时写 功能分类科目" in str(extra.value)


def test_a_line_names_its_kind_by_its_keys_and_refusals_name_the_field():
    with pytest.raises(ValidationError) as source:
        Adjust(line={"three_public": "reception", "source": "unit_funds"}, amount="1", reason="x")
    [error] = source.value.errors()
    assert error["loc"][-1] == "source" and "“三公”经费按财政拨款公开" in error["msg"]
    with pytest.raises(ValidationError) as mixed:
        Adjust(line={"procurement": "goods", "code": "2210399"}, amount="1", reason="x")
    assert [e["type"] for e in mixed.value.errors()] == ["extra_forbidden"]
    assert type(Adjust(line=GENERAL_BASIC, amount="1", reason="x").line).__name__ == "LineSpec"


def test_the_cli_records_and_refuses_three_public_and_procurement(imported, cli):
    help_text = cli("adjust", "--help").stdout
    assert "--three-public" in help_text and "--procurement" in help_text
    done = cli("adjust", "-d", D, "-y", str(Y), "--three-public", "vehicle_operation", "--source", "general",
               "--amount", "-2000", "--reason", "压减用车", "--format", "json")
    assert json.loads(done.stdout)["kind"] == "adjustment"
    cli("transfer", "-d", D, "-y", str(Y), "--from", "three_public=vehicle_operation",
        "--to", "three_public=reception", "--amount", "1000", "--reason", "调剂")
    cli("appropriate", "-d", D, "-y", str(Y), "--procurement", "works", "--amount", "1万元", "--reason", "修缮")
    assert cell(imported, 10, "0/vehicle_operation", "general") == Decimal("17000.00")
    assert cell(imported, 10, "0/reception", "general") == Decimal("4000.00")
    assert procurement(imported)["works"] == Decimal("10000.00")
    position = imported.last_position()
    wrong = cli("adjust", "-d", D, "-y", str(Y), "--three-public", "reception", "--code", "2210399",
                "--amount", "1", "--reason", "x", check=False)
    assert wrong.returncode == 2 and "line.code: 不允许的字段: “三公”经费行只写 three_public 与 source" in wrong.stderr
    fiscal = cli("adjust", "-d", D, "-y", str(Y), "--three-public", "reception", "--source", "unit_funds",
                 "--amount", "1", "--reason", "x", check=False)
    assert fiscal.returncode == 2 and "line.source: “三公”经费按财政拨款公开" in fiscal.stderr
    negative = cli("adjust", "-d", D, "-y", str(Y), "--procurement", "works", "--amount", "-2万元", "--reason", "x",
                   check=False)
    assert negative.returncode == 2 and "政府采购工程 为 -1.00 万元, 预算数不能为负" in negative.stderr
    assert imported.last_position() == position


def test_the_commands_replay_alike_after_a_rebuild(imported):
    ledger = imported
    ledger.adjust(D, Y, Adjust(line={"three_public": "reception"}, amount="1000", reason="x"))
    ledger.adjust(D, Y, Adjust(line={"procurement": "goods"}, amount="1000", reason="x"))
    tables, figures = ledger.tables(D, Y), ledger.explain(D, Y)
    ledger.rebuild()
    assert ledger.tables(D, Y) == tables and ledger.explain(D, Y) == figures
    assert ledger.verify().ok


def test_the_document_written_from_events_carries_the_changes_and_imports_alike(imported, tmp_path):
    """The 部门预算公开 the ledger writes after the commands (application/documents.budget_text)
    prints them in 表十 and in 九、政府采购情况, and imports into another store with the same
    figures: the import reads the command's dimensions back as they were recorded."""
    from ledger.application import Ledger
    from ledger.application.documents import budget_text
    from support import new_database_url

    ledger = imported
    ledger.adjust(D, Y, Adjust(line={"three_public": "vehicle_operation"}, amount="-3000", reason="压减用车"))
    ledger.appropriate(D, Y, Appropriate(line={"three_public": "overseas"}, amount="1.5万元", reason="出访"))
    ledger.adjust(D, Y, Adjust(line={"procurement": "services"}, amount="-1万元", reason="服务减少"))
    text = budget_text(ledger, D, Y)
    assert "政府采购服务预算10.07万元" in text and "因公出国（境）费1.50万元" in text
    url, drop = new_database_url(tmp_path / "again")
    try:
        with Ledger(url) as again:
            again.import_document(text.encode(), "written-from-events.txt")
            assert again.tables(D, Y, number=10) == ledger.tables(D, Y, number=10)
            assert procurement(again) == procurement(ledger)
            assert three_public(again) == three_public(ledger)
    finally:
        drop()


def test_a_figure_no_table_prints_has_its_lineage_and_its_diff(imported, cli):
    """政府采购 is in none of the 13 tables: its events are read from the explanation's figure
    (Ledger.figure_history, the CLI's --figure), and a diff of two points lists it."""
    ledger = imported
    first = ledger.figure_history(D, Y, "procurement")
    up = ledger.adjust(D, Y, Adjust(line={"procurement": "goods"}, amount="1万元", reason="增购设备"))
    moved = ledger.transfer(D, Y, Transfer(from_line={"procurement": "services"}, to_line={"procurement": "works"},
                                           amount="5000", reason="改为工程"))
    now = ledger.figure_history(D, Y, "procurement")
    assert now.amount.value == sum(procurement(ledger).values()) == first.amount.value + 10000
    assert now.total == now.amount and now.count == first.count + 1  # the transfer nets to zero in the total
    assert now.contributions[-1].position == up.position and now.contributions[-1].amount.value == 10000
    works = ledger.figure_history(D, Y, "procurement:works")
    assert works.contributions[-1].position == moved.position and works.contributions[-1].amount.value == 5000
    assert works.amount.value == procurement(ledger)["works"]

    diff = ledger.diff(D, Y, Point(publication="年初预算"), Point())
    figures = {f.figure: f for f in diff.figures}
    assert figures["procurement"].delta.value == 10000
    assert [e.position for e in figures["procurement"].events] == [up.position]
    assert figures["procurement:services"].delta.value == -5000
    assert [e.position for e in figures["procurement:works"].events] == [moved.position]
    assert "three_public" not in figures  # unchanged figures are not listed
    ran = cli("history", "-d", D, "-y", str(Y), "--figure", "procurement:goods", "-f", "json")
    assert json.loads(ran.stdout)["amount"] == ledger.figure_history(D, Y, "procurement:goods").amount.model_dump()
    assert cli("history", "-d", D, "-y", str(Y), "--figure", "nonsense", check=False).returncode == 3
