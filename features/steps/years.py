"""Steps about consecutive years of one department: the next year made from this year's events
(devtools/nextyear.py), its comparisons with last year's own events, the crosswalk."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import given, then

from ledger.devtools.nextyear import example_changes, next_year

from .budget import DEPARTMENT, ROOT, SEED, Story
from .vocabulary import step

CROSSWALKS = ROOT / "examples" / "crosswalks"


def _comparison(story: Story, year: int, label: str):
    found = [c for c in story.ledger.explain(DEPARTMENT, year).comparisons if c.label == label]
    assert found, f"{year}年没有与上年比较的「{label}」"
    return found[0]


@given("账本中有长治市住房公积金管理中心2024年预算和由其事件做出的2025年预算")
def _(story: Story):
    story.ledger.crosswalks = str(CROSSWALKS)
    story.ledger.import_document(SEED.read_bytes(), SEED.name)
    text = next_year(story.ledger, DEPARTMENT, 2024, example_changes())
    result = story.ledger.import_document(text.encode(), "next-year.txt")
    assert result.fiscal_year == 2025
    story.marks["before"] = {c.label: c for c in story.ledger.explain(DEPARTMENT, 2025).comparisons}


@then(step("{year:d}年「{label:L}」的上年数等于{prior:d}年表一「{row:L}」，取自账本中{basis:d}年度预算"))
def _(story: Story, year: int, label: str, prior: int, row: str, basis: int):
    c = _comparison(story, year, label)
    printed = story.ledger.history(DEPARTMENT, prior, 1, row, "amount").amount.value
    assert c.prior.value == printed and c.prior_source == "ledger" and c.prior_year == prior
    assert c.prior_basis.startswith(f"账本中{basis}年度预算")


@then(step("{year:d}年「{label:L}」的上年数与{doc:d}年文件所列一致"))
def _(story: Story, year: int, label: str, doc: int):
    c = _comparison(story, year, label)
    assert c.stated is not None and c.agrees is True, (c.stated, c.prior)


@then(step("{year:d}年「{label:L}」的上年数比调整前少 {delta:Wan} 万元，与{doc:d}年文件所列不一致"))
def _(story: Story, year: int, label: str, delta: Decimal, doc: int):
    c = _comparison(story, year, label)
    before = story.marks["before"][label]
    assert before.prior.value - c.prior.value == delta * 10000
    assert c.stated == before.stated and c.agrees is False


@then(step("{year:d}年重新生成的情况说明并列文件所列与账本中的{prior:d}年度上年数"))
def _(story: Story, year: int, prior: int):
    c = _comparison(story, year, "预算支出总计")
    text = story.ledger.explain_text(DEPARTMENT, year)
    expected = (f"本年文件所列上年数为{Decimal(c.stated.wan):,.2f}万元，与账本中{prior}年度数"
                f"{Decimal(c.prior.wan):,.2f}万元不一致")
    assert expected in text, text


@then(step("审校{year:d}年预算发现「{title:L}」，列出两个数及其来源"))
def _(story: Story, year: int, title: str):
    report = story.ledger.audit_budget(DEPARTMENT, year)
    found = [f for f in report.findings if f.title == title]
    assert found, [(f.rule, f.message) for f in report.findings]
    c = _comparison(story, year, "预算支出总计")
    one = next(f for f in found if f.message.startswith("预算支出总计"))
    assert one.stated.startswith(f"{c.stated.wan}万元 (本年文件所列")
    assert one.expected == f"{c.prior.wan}万元 ({c.prior_basis})"


def _groups(story: Story, year: int):
    return story.ledger.explain(DEPARTMENT, year).code_comparisons


@then(step("{year:d}年科目「{codes:L}」与{prior:d}年科目「{prior_codes:L}」按对照表比较（{mapping}）"))
def _(story: Story, year: int, codes: str, prior: int, prior_codes: str, mapping: str):
    wanted = (codes.split("、"), prior_codes.split("、"))
    found = [g for g in _groups(story, year) if (g.codes, g.prior_codes) == wanted]
    assert found, [(g.codes, g.prior_codes, g.mapping) for g in _groups(story, year)]
    assert found[0].mapping == mapping


@then(step("{year:d}年报告无对应的上年科目「{code:L}」"))
def _(story: Story, year: int, code: str):
    e = story.ledger.explain(DEPARTMENT, year)
    assert code in e.unmapped
    assert any(g.prior_codes == [code] and g.mapping == "unmapped" and g.prior.value > 0 for g in e.code_comparisons)


@then("按科目比较的上年数之和等于2024年一般公共预算当年支出")
def _(story: Story):
    e = story.ledger.explain(DEPARTMENT, 2025)
    prior = sum((g.prior.value for g in e.code_comparisons), Decimal(0))
    assert prior == story.ledger.history(DEPARTMENT, 2024, 5, "合计", "合计").amount.value
