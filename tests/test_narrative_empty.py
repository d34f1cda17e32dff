"""The regenerated 情况说明 never prints an empty enumeration (issue 20.5): for a budget of
commands only (no document: no projects, no 三公, no procurement, one kind of cost), a
clause whose list is empty is left out, and no project count of 0 is printed."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from ledger.application.commands import Adjust, LineSpec
from ledger.domain.budget import Budget

DEPARTMENT, YEAR = "只有命令的部门", 2024
OFFICE = LineSpec(code="2210399", kind="basic", economic="办公费/办公经费", cost="operating")
# An enumeration with nothing in it: a colon followed by a separator, the end of a sentence or 等.
EMPTY = re.compile(r"[：:](?:[；;。，、]|等)|包括[；。]|方面[；。]|0个")


def opened(ledger) -> None:
    """A budget opened without a document: the Budget aggregate saved in the ledger's store."""
    budget = Budget(department=DEPARTMENT, fiscal_year=YEAR, units=[{"name": "本级", "category": "行政单位"}],
                    effective=date(YEAR, 1, 1), reason="开账")
    ledger.events.save(budget)


def test_a_budget_of_commands_only_has_no_empty_list_in_its_narrative(ledger, cli):
    opened(ledger)
    empty = ledger.explain_text(DEPARTMENT, YEAR)  # nothing recorded yet
    assert not EMPTY.search(empty), EMPTY.search(empty)
    assert "支出包括" not in empty and "主要用于以下方面" not in empty and "主要包括：" not in empty
    assert "没有纳入绩效目标管理的二级项目" in empty

    ledger.adjust(DEPARTMENT, YEAR, Adjust(line=OFFICE, amount="12345.67", reason="办公费", effective="2024-03-01"))
    text = cli("explain", "-d", DEPARTMENT, "-y", str(YEAR)).stdout
    assert not EMPTY.search(text), (EMPTY.search(text), text)
    assert "人员经费0万元；" in text  # no personnel items: the clause is left out
    assert "公用经费1.23万元，主要包括：办公费。" in text
    assert "主要用于以下方面：住房保障支出1.23万元，占100.00%等。" in text
    assert "二级项目" in text and "二级项目0个" not in text
    assert Decimal("12345.67") == ledger.explain(DEPARTMENT, YEAR).totals["operating"].value
