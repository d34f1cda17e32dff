"""Effective dates (issue 20.1): a command is dated inside its budget's fiscal year. Without
one it takes today while the year runs, the year's last day once it is over, its first day
before it begins; a correction takes the date of the event it reverses. A date outside the
year is refused and records nothing. Runs on the store of LEDGER_TEST_STORE."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from support import DEPARTMENT, SEED, YEAR

from ledger.application.commands import Adjust, Correct, LineSpec
from ledger.domain.budget import RuleViolation
from ledger.readmodel.queries import Point

LINE = LineSpec(code="2210399", kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel")
YEAR_END = date(YEAR, 12, 31)


def cell_2210399(ledger, point: Point | None = None) -> Decimal:
    table = ledger.tables(DEPARTMENT, YEAR, number=3, point=point)[0]
    return next(a for r in table.rows for k, c, a in r.amounts if (k, c) == ("0/code:2210399", "basic"))


def test_a_past_year_command_and_its_correction_are_dated_at_the_year_end(imported):
    assert date.today() > YEAR_END, "the seed's fiscal year (2024) is over"
    year_end = Point(effective=YEAR_END)
    start = cell_2210399(imported, year_end)
    wrong = imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="5万元", reason="录入错误"))
    assert wrong.effective == YEAR_END
    assert wrong.effective_note == f"未给生效日期; {YEAR}年度已结束, 取年度最后一天 {YEAR_END}"
    assert cell_2210399(imported, year_end) == start + Decimal(50000)  # counted in the year it belongs to
    fixed = imported.correct(DEPARTMENT, YEAR, Correct(event=str(wrong.position), reason="更正录入错误"))
    assert fixed.effective == YEAR_END and "被更正事件的生效日期" in fixed.effective_note
    assert cell_2210399(imported, year_end) == start  # the error no longer counts at 12-31

    mid = imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="1万元", reason="年中", effective="2024-06-30"))
    assert (mid.effective, mid.effective_note) == (date(2024, 6, 30), None)
    fixed = imported.correct(DEPARTMENT, YEAR, Correct(event=mid.event_id, reason="更正"))
    assert fixed.effective == date(2024, 6, 30)
    assert cell_2210399(imported, Point(effective=date(2024, 6, 30))) == cell_2210399(
        imported, Point(effective=date(2024, 6, 29)))


def test_a_date_outside_the_fiscal_year_is_refused_and_records_nothing(imported):
    before = imported.last_position()
    for outside in ("2025-01-01", "2023-12-31"):
        with pytest.raises(RuleViolation, match=f"生效日期 \\(effective\\) {outside} 不在 2024 预算年度内"):
            imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="100", reason="跨年", effective=outside))
    wrong = imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount="100", reason="x", effective="2024-03-01"))
    with pytest.raises(RuleViolation, match="不在 2024 预算年度内"):
        imported.correct(DEPARTMENT, YEAR, Correct(event=wrong.event_id, reason="更正", effective="2026-01-05"))
    assert imported.last_position() == before + 1


def test_the_cli_says_which_date_it_used_and_refuses_one_outside_the_year(cli):
    cli("import", str(SEED))
    line = ["-d", DEPARTMENT, "-y", str(YEAR), "--code", "2210399", "--kind", "basic",
            "--economic", "基本工资/工资奖金津补贴", "--cost", "personnel"]
    done = cli("adjust", *line, "--amount", "1000", "--reason", "年末调整")
    assert f"生效日期 {YEAR_END}" in done.stdout and "年度已结束, 取年度最后一天" in done.stdout
    recorded = json.loads(cli("adjust", *line, "--amount", "1000", "--reason", "录错", "--effective", "2024-05-01",
                              "--format", "json").stdout)
    assert (recorded["effective"], recorded["effective_note"]) == ("2024-05-01", None)
    fixed = json.loads(cli("correct", "-d", DEPARTMENT, "-y", str(YEAR), "--event", str(recorded["position"]),
                           "--reason", "更正录入错误", "--format", "json").stdout)
    assert fixed["effective"] == "2024-05-01" and "被更正事件" in fixed["effective_note"]
    refused = cli("adjust", *line, "--amount", "1000", "--reason", "跨年", "--effective", "2025-01-02", check=False)
    assert refused.returncode == 2
    assert "生效日期 (effective) 2025-01-02 不在 2024 预算年度内" in refused.stderr and "未记录任何事件" in refused.stderr
    assert "须在预算年度内" in cli("adjust", "--help").stdout
