"""Steps about projects (表十二) and their performance-target tables (绩效目标表, in 元)."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import then

from ledger.domain.money import to_wan

from .budget import DEPARTMENT, SEED, YEAR, Story, assert_printed, read_cell
from .vocabulary import step


@then(step("项目「{name:L}」在表十二印为 {wan:Wan} 万元，即其绩效目标表（第{line:d}行）年度资金总额 {yuan} 元四舍五入到万元两位"))
def _(story: Story, name: str, wan: Decimal, line: int, yuan: str):
    exact = Decimal(yuan.replace(",", ""))
    printed_line = SEED.read_text(encoding="utf-8").split("\n")[line - 1]
    assert "年度资金总额" in printed_line and yuan in printed_line, f"公开文件第{line}行: {printed_line}"
    cell = read_cell(story.ledger, "表十二", name, "合计")
    assert_printed(cell, wan)
    assert cell.amount == exact, f"表十二「{name}」精确金额 {cell.amount} 元, 绩效目标表 {exact} 元"
    assert to_wan(exact) == wan
    project = next(p for p in story.ledger.explain(DEPARTMENT, YEAR).projects if p.name == name)
    assert project.annual_amount is not None and project.annual_amount.value == exact
