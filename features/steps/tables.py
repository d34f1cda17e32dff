"""Steps that read the rebuilt tables: printed figures, exact sums, and cells compared across
tables. Every figure comes from the real ledger; the expected figures in the scenarios are
the document's."""

from __future__ import annotations

import importlib.util
from decimal import Decimal

from pytest_bdd import then

from ledger.readmodel.queries import Point

from .budget import (
    DEPARTMENT,
    ROOT,
    SEED,
    YEAR,
    Story,
    assert_printed,
    cells_of,
    descendants,
    printed_value,
    read_cell,
    render,
)
from .vocabulary import step


@then(step("{table:T}「{row:L}」的「{column:L}」印为 {value:Wan} 万元"))
@then(step("{table:T}「{row:L}」的「{column:L}」仍印为 {value:Wan} 万元"))
def _(story: Story, table: str, row: str, column: str, value: Decimal):
    assert_printed(read_cell(story.ledger, table, row, column), value)


@then(step("{table:T}「{row:L}」的「{column:L}」为空"))
def _(story: Story, table: str, row: str, column: str):
    cell = read_cell(story.ledger, table, row, column)
    assert cell.amount == 0 and cell.printed == "", cell


@then(step("{t1:T}「{r1:L}」的「{c1:L}」等于{t2:T}「{r2:L}」的「{c2:L}」，都印为 {value:Wan} 万元"))
def _(story: Story, t1: str, r1: str, c1: str, t2: str, r2: str, c2: str, value: Decimal):
    left, right = read_cell(story.ledger, t1, r1, c1), read_cell(story.ledger, t2, r2, c2)
    assert left.amount == right.amount, f"{left} ≠ {right}"
    assert_printed(left, value)
    assert_printed(right, value)


@then(step("{table:T}「{row:L}」的「{column:L}」精确等于其下{level:Level}之和"))
def _(story: Story, table: str, row: str, column: str, level: str):
    cell = read_cell(story.ledger, table, row, column)
    definition, rendered = render(story.ledger, table)
    cells = cells_of(definition, rendered)
    parts = descendants(cells, cell.row, level)
    assert parts, f"{table}「{row}」下没有{level}"
    total = sum((cells[(k, cell.column)].amount for k in parts), Decimal("0.00"))
    assert cell.amount == total, f"{cell} ≠ 其下{level}之和 {total} 元"


@then(step("{table:T}每一行的「{total:L}」都精确等于{parts:Cols}之和"))
def _(story: Story, table: str, total: str, parts: list[str]):
    definition, rendered = render(story.ledger, table)
    names = parts
    keys = {c.label: c.key for p in definition.panels for c in p.columns}
    assert all(n in keys for n in [total, *names]), f"{table}的列: {'、'.join(keys)}"
    cells = cells_of(definition, rendered)
    rows = sorted({k for k, _c in cells})
    assert rows
    for row in rows:
        whole = cells[(row, keys[total])].amount
        summed = sum((cells[(row, keys[n])].amount for n in names), Decimal("0.00"))
        assert whole == summed, f"{cells[(row, keys[total])]} ≠ {'、'.join(names)}之和 {summed} 元"


@then(step("{table:T}「{row:L}」的「{column:L}」印为 {value:Wan} 万元，精确等于下列各行之和:"))
def _(story: Story, table: str, row: str, column: str, value: Decimal, datatable):
    cell = read_cell(story.ledger, table, row, column)
    assert_printed(cell, value)
    header, *lines = datatable
    assert header == ["行", "印刷数"], header
    total = Decimal("0.00")
    for label, printed in lines:
        part = read_cell(story.ledger, table, label, column)
        assert_printed(part, printed or "0")
        total += part.amount
    assert cell.amount == total, f"{cell} ≠ 各行之和 {total} 元"


@then(step("{table:T}「{row:L}」的「{column:L}」印为 {value:Wan} 万元，而{parts:Cols}的印刷数相加为 {summed:Wan} 万元"))
def _(story: Story, table: str, row: str, column: str, value: Decimal, parts: list[str], summed: Decimal):
    cell = read_cell(story.ledger, table, row, column)
    assert_printed(cell, value)
    pieces = [read_cell(story.ledger, table, row, name) for name in parts]
    assert sum(printed_value(p) for p in pieces) == summed
    assert cell.amount == sum(p.amount for p in pieces), "精确金额之和应等于合计"


@then(step("{table:T}「{row:L}」的「{column:L}」印为 {value:Wan} 万元，而其下{level:Level}的印刷数相加为 {summed:Wan} 万元"))
def _(story: Story, table: str, row: str, column: str, value: Decimal, level: str, summed: Decimal):
    cell = read_cell(story.ledger, table, row, column)
    assert_printed(cell, value)
    definition, rendered = render(story.ledger, table)
    cells = cells_of(definition, rendered)
    parts = [cells[(k, cell.column)] for k in descendants(cells, cell.row, level)]
    assert parts
    assert sum(printed_value(p) for p in parts) == summed
    assert cell.amount == sum(p.amount for p in parts), "精确金额之和应等于合计"


@then(step("{table:T}的每一格都精确等于{other:T}的同一格"))
def _(story: Story, table: str, other: str):
    mine = {k: c.amount for k, c in cells_of(*render(story.ledger, table)).items()}
    theirs = {k: c.amount for k, c in cells_of(*render(story.ledger, other)).items()}
    assert mine and mine == theirs


@then("以下各格印为:")
def _(story: Story, datatable):
    header, *lines = datatable
    assert header == ["表", "行", "列", "印刷数"], header
    for table, row, column, printed in lines:
        assert_printed(read_cell(story.ledger, table, row, column), printed or "0")


def _all_tables(story: Story, point: Point | None = None):
    return story.ledger.tables(DEPARTMENT, YEAR, point=point)


@then(step("各表与发布节点「{name:L}」时完全相同"))
def _(story: Story, name: str):
    assert _all_tables(story) == _all_tables(story, Point(publication=name))


@then(step("各表与发布节点「{name:L}」时不同"))
def _(story: Story, name: str):
    assert _all_tables(story) != _all_tables(story, Point(publication=name))


def _document_rows(titles: list[str]) -> dict[str, list[list[str]]]:
    """The document's printed rows with amounts, read independently of the importer (the unit
    tests' reader, tests/disclosure.py)."""
    spec = importlib.util.spec_from_file_location("ledger_test_disclosure", ROOT / "tests" / "disclosure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.amount_rows(SEED.read_text(encoding="utf-8"), titles)


@then("重建的十三张表与公开文件逐行一致")
def _(story: Story):
    tables = _all_tables(story)
    assert len(tables) == 13
    expected = _document_rows([t.title for t in tables])
    for table in tables:
        produced = [r.trimmed() for r in table.rows if any(a for _k, _c, a in r.amounts)]
        assert produced == expected[table.title], f"{table.name}《{table.title}》与公开文件不一致"
