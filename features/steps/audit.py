"""Steps about audit findings (审校): a 决算 written from the ledger's events, the same
document broken in one place, and what the audit finds in each."""

from __future__ import annotations

from ledger.audit import audit_document
from ledger.devtools.audit_cases import FINAL_CASES
from ledger.application.documents import final_text
from pytest_bdd import given, then, when

from .budget import ROOT, Story
from .final_accounts import FINAL_DEPARTMENT, FINAL_YEAR, PDF
from .vocabulary import step

SEED = ROOT / "examples" / "changzhi-hpf-2024-budget.txt"
_WRITTEN: dict[str, str] = {}  # the document written from events, once per store kind


@given("由账本中的事件写出的上海市普陀区财政局2024年度决算")
def _(story: Story):
    kind = story.ledger.engine.dialect.name
    if kind not in _WRITTEN:
        story.ledger.import_document(PDF.read_bytes(), PDF.name)
        _WRITTEN[kind] = final_text(story.ledger, FINAL_DEPARTMENT, FINAL_YEAR)
    story.document = _WRITTEN[kind]
    story.marks["report"] = audit_document(story.document.encode(), "written.txt")


@given("参考文件 长治市住房公积金管理中心2024年部门预算公开")
def _(story: Story):
    story.document = SEED.read_text(encoding="utf-8")
    story.marks["report"] = audit_document(SEED.read_bytes(), SEED.name)


@when(step("按「{kind:L}」改动这份决算的一处"))
def _(story: Story, kind: str):
    case = next((c for c in FINAL_CASES if c.kind == kind), None)
    assert case is not None, f"没有这种改动: {kind} (见 ledger/devtools/audit_cases.py)"
    broken, line = case.apply(story.document)
    story.marks.update(case=case, line=line, report=audit_document(broken.encode(), "broken.txt"))


@then(step("审校没有「{rule:L}」规则的发现 (尾差可以解释的提示除外)"))
def _(story: Story, rule: str):
    found = [f for f in story.marks["report"].findings if f.rule == rule and f.rounding is not True]
    assert not found, [f.message for f in found]


@then(step("审校在改动之处发现「{rule:L}」"))
def _(story: Story, rule: str):
    case, line = story.marks["case"], story.marks["line"]
    hits = [f for f in story.marks["report"].findings if f.rule == rule]
    assert hits, [(f.rule, f.message) for f in story.marks["report"].findings if f.severity != "提示"]
    if case.table:
        assert any(f.place.table == case.table for f in hits), [(f.place.table, f.message) for f in hits]
    else:
        assert any(f.place.line == line for f in hits), [(f.place.line, f.message) for f in hits]


@then("审校没有错误")
def _(story: Story):
    report = story.marks["report"]
    assert report.counts["错误"] == 0, [f.message for f in report.findings if f.severity == "错误"]


@then("每个尾差都是提示, 并给出四舍五入为印刷数的精确金额")
def _(story: Story):
    from decimal import ROUND_HALF_UP, Decimal

    leaves = [f for f in story.marks["report"].findings if f.rule == "table.rounding" and f.expected]
    assert leaves
    for f in leaves:
        assert f.severity == "提示" and f.rounding is True
        exact = Decimal(f.expected.removesuffix("元").replace(",", ""))
        assert (exact / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == Decimal(f.stated)


@then(step("改动之处没有「{rule:L}」的提示"))
def _(story: Story, rule: str):
    line = story.marks["line"]
    here = [f.message for f in story.marks["report"].findings
            if f.rule == rule and (f.place.line == line or f"第{line}行" in (f.place.text or ""))]
    assert not here, here
