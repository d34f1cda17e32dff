"""Steps about the figures shown beside the spending that commands change too: “三公”经费
items (表十) and 政府采购 categories (九、政府采购情况)."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import then, when

from ledger.application.commands import Correct
from ledger.domain.classification import PROCUREMENT_LABELS

from .budget import DEPARTMENT, YEAR, Story
from .commands import run
from .history import point_of
from .vocabulary import step

_CATEGORIES = {label: key for key, label in PROCUREMENT_LABELS.items()}


def _procurement(story: Story, category: str, point=None) -> Decimal:
    explanation = story.ledger.explain(DEPARTMENT, YEAR, point)
    if category == "总额":
        return sum((i.amount.value for i in explanation.procurement), Decimal(0))
    [item] = [i for i in explanation.procurement if i.key == _CATEGORIES[category]]
    return item.amount.value


@then(step("政府采购预算「{category:L}」为 {amount:Wan} 万元"))
def _(story: Story, category: str, amount: Decimal):
    assert _procurement(story, category) == amount * 10000, (category, _procurement(story, category))


@then(step("按{point}查看，政府采购预算「{category:L}」为 {amount:Wan} 万元"))
def _(story: Story, point: str, category: str, amount: Decimal):
    got = _procurement(story, category, point_of(story, point))
    assert got == amount * 10000, (point, category, got)


@then(step("变化的格都在{table:T}"))
def _(story: Story, table: str):
    changes = story.marks["diff"].changes
    assert changes and {c.table_name for c in changes} == {table}, [(c.table_name, c.row_label) for c in changes]


@when(step('更正本场景记录的第{n:d}笔命令，原因 "{reason:Q}"'))
def _(story: Story, n: int, reason: str):
    target = story.recorded[n - 1]
    run(story, lambda: story.ledger.correct(DEPARTMENT, YEAR, Correct(event=target.event_id, reason=reason)))
