"""Steps about a 部门决算: the corpus PDF of 上海市普陀区财政局 2024, its tables rebuilt by the
决算 layout, copies of it in the text layout changed in one place, and its explanation."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import given, then, when

from ledger.application.commands import Correct
from ledger.application.documents import final_text
from ledger.domain.postings import matches
from ledger.tables.layouts import layout

from .budget import ROOT, Story
from .documents import _import
from .vocabulary import step

PDF = ROOT / "tests" / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
FINAL_DEPARTMENT, FINAL_YEAR = "上海市普陀区财政局", 2024
LAYOUT = "final-accounts"


def _table(story: Story, name: str):
    number = next(t.number for t in layout(LAYOUT).tables if t.name == name)
    return story.ledger.tables(FINAL_DEPARTMENT, FINAL_YEAR, number=number, layout_id=LAYOUT)[0]


def _printed(story: Story, name: str, row: str, column: str) -> str:
    """What a 决算 table prints at a row (by its label, in any panel) and column (by label)."""
    table = _table(story, name)
    definition = layout(LAYOUT).table(table.number)
    for printed_row in table.rows:
        offset = 0
        for panel, (_index, key) in zip(definition.panels, printed_row.keys, strict=True):
            label = "".join(printed_row.cells[offset: offset + panel.label_width])
            if key is not None and label == row:
                columns = [c.label for c in panel.columns]
                assert column in columns, f"{name}「{row}」没有列「{column}」(可选: {'、'.join(columns)})"
                return printed_row.cells[offset + panel.label_width + columns.index(column)]
            offset += panel.width
    raise AssertionError(f"决算{name}中没有「{row}」这一行")


def _sum(story: Story, where: dict) -> Decimal:
    sums = story.ledger.leaf_sums(FINAL_DEPARTMENT, FINAL_YEAR)
    return sum((amount for dims, amount in sums.items() if matches(dict(dims), where)), Decimal("0.00"))


@given("账本中已导入上海市普陀区财政局2024年部门决算 PDF 文件")
def _(story: Story):
    story.imported = story.ledger.import_document(PDF.read_bytes(), PDF.name)
    story.marks["final_events"] = story.ledger.last_position()


@then(step("决算{table:T}「{row:L}」的「{column:L}」印为 {value} 万元"))
def _(story: Story, table: str, row: str, column: str, value: str):
    assert _printed(story, table, row, column) == value


@then("由事件计算, 年初结转和结余 + 本年收入 + 使用非财政拨款结余 = 本年支出 + 结余分配 + 年末结转和结余, 精确到分")
def _(story: Story):
    base = {"measure": "final", "economic": False, "three_public": False}
    left = _sum(story, {**base, "flow": ["opening", "income", "balance_use"]})
    right = _sum(story, {**base, "flow": ["expenditure", "distribution", "closing"]})
    assert left == right and left > 0, (left, right)


@then("由事件计算, 一般公共预算财政拨款的 年初结转和结余 + 本年收入 = 本年支出 + 年末结转和结余, 精确到分")
def _(story: Story):
    base = {"measure": "final", "source": "general", "economic": False, "three_public": False}
    left = _sum(story, {**base, "flow": ["opening", "income"]})
    right = _sum(story, {**base, "flow": ["expenditure", "closing"]})
    assert left == right and left > 0, (left, right)


@given(step("这份决算的文本副本，其中决算{table:T}「{row:L}」的「{column:L}」由 {old} 改印为 {new}"))
def _(story: Story, table: str, row: str, column: str, old: str, new: str):
    text = final_text(story.ledger, FINAL_DEPARTMENT, FINAL_YEAR)
    lines = text.split("\n")
    title = _table(story, table).title
    start = lines.index(title)
    for i in range(start + 1, len(lines)):
        cells = lines[i].split("\t")
        if row in cells:
            index = cells.index(row) + 1
            assert cells[index] == old, f"第{i + 1}行印的是 {cells[index]!r}, 不是 {old}"
            cells[index] = new
            lines[i] = "\t".join(cells)
            story.changed_lines = [i + 1]
            break
    else:
        raise AssertionError(f"{table}中没有「{row}」")
    # The copy is another file of the same department and year: imported into an empty ledger
    # of its own it would be refused only for itself, so keep this ledger and compare positions.
    story.document = "\n".join(lines)


@when("导入这份决算副本")
def _(story: Story):
    story.position_before = story.ledger.last_position()
    _import(story, story.document.encode("utf-8"), "决算副本.txt")


@then("账本中只有原来那份决算的事件")
def _(story: Story):
    assert story.ledger.last_position() == story.marks["final_events"]


@then(step("由事件计算, 一般公共预算财政拨款支出决算 {final} 万元, 年初预算 {budget} 万元, 完成年初预算 {rate}%"))
def _(story: Story, final: str, budget: str, rate: str):
    explained = story.ledger.explain_final(FINAL_DEPARTMENT, FINAL_YEAR)
    general = next(c for c in explained.completions if c.key == "general")
    assert (general.final.wan, general.budget.wan, general.percent) == (final, budget, rate)
    # the rate is the events' own division, not a figure read from the document
    assert general.percent == f"{(general.final.value * 100 / general.budget.value).quantize(Decimal('0.01')):.2f}"
    story.marks["completion"] = general


@then("分母是决算文件所列的年初预算 (账本中没有该预算的年初预算发布节点)")
def _(story: Story):
    assert story.marks["completion"].source == "stated"
    names = [p["name"] for p in story.ledger.budget(FINAL_DEPARTMENT, FINAL_YEAR).publications]
    assert "年初预算" not in names and "决算" in names


@then(step('重新生成的决算情况说明包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    text = story.ledger.explain_final_text(FINAL_DEPARTMENT, FINAL_YEAR)
    assert fragment in text, text


@then(step('重新生成的决算情况说明不再包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    text = story.ledger.explain_final_text(FINAL_DEPARTMENT, FINAL_YEAR)
    assert fragment not in text, text


@when("再导入另一份同一部门、同一年度的决算文件")
def _(story: Story):
    _import(story, final_text(story.ledger, FINAL_DEPARTMENT, FINAL_YEAR).encode("utf-8"), "另一份决算.txt")


@when(step('更正记录2023年度收入支出总计的那一笔上年数陈述，原因 "{reason:Q}"'))
def _(story: Story, reason: str):
    stated = next(e for e in story.ledger.event_feed(0, 1000).items if e.kind == "prior_year_figure"
                  and dict(e.lines[0].dims).get("figure") == "income_expenditure_total")
    story.ledger.correct(FINAL_DEPARTMENT, FINAL_YEAR, Correct(event=str(stated.position), reason=reason))
