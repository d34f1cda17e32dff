"""Steps about disclosure documents: the reference document, copies of it with one printed
figure or sentence changed, and importing them."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import given, then, when

from ledger.domain.budget import RuleViolation
from ledger.domain.money import to_wan, wan_to_yuan
from ledger.ingest import document as disclosure
from ledger.ingest.errors import DocumentRejected

from .budget import SEED, YEAR, Story, table_def
from .vocabulary import step


def _cell_line(text: str, table: str, row: str, column: str) -> tuple[int, int]:
    """(line number, cell index) of a printed cell of a table in the document's layout."""
    definition = table_def(table)
    printed = disclosure.parse(text.encode("utf-8"), SEED.name).tables[definition.number]
    offset = 0
    for panel in definition.panels:
        labels = [c.label.format(year=YEAR) for c in panel.columns]
        for printed_row in printed.rows:
            cells = printed_row.cells + [""] * (offset + panel.width)
            label = " ".join(c.strip() for c in cells[offset: offset + panel.label_width] if c.strip())
            if label == row or label.split(" ")[0] == row:
                if column not in labels:
                    raise LookupError(f"{table}没有列「{column}」(可选: {'、'.join(labels)})")
                return printed_row.line, offset + panel.label_width + labels.index(column)
        offset += panel.width
    raise LookupError(f"公开文件的{table}中没有「{row}」这一行")


@given("长治市住房公积金管理中心2024年部门预算公开文件")
def _(story: Story):
    story.document = SEED.read_text(encoding="utf-8")


@given(step("一份公开文件副本，其中{table:T}「{row:L}」的「{column:L}」由 {old} 改印为 {new}"))
def _(story: Story, table: str, row: str, column: str, old: str, new: str):
    lines = SEED.read_text(encoding="utf-8").split("\n")
    number, index = _cell_line("\n".join(lines), table, row, column)
    cells = lines[number - 1].split("\t")
    cells += [""] * (index + 1 - len(cells))
    assert cells[index].strip() == old, f"公开文件第{number}行印的是 {cells[index]!r}, 不是 {old}"
    cells[index] = new
    lines[number - 1] = "\t".join(cells)
    story.document = "\n".join(lines)
    story.changed_lines = [number]


@given(step('一份公开文件副本，其中情况说明的 "{old:Q}" 改为 "{new:Q}"'))
def _(story: Story, old: str, new: str):
    lines = SEED.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if "第三部分" in line and line.startswith("#"))
    number = next((i for i in range(start, len(lines)) if old in lines[i]), None)
    assert number is not None, f"情况说明中没有「{old}」"
    lines[number] = lines[number].replace(old, new, 1)
    story.document = "\n".join(lines)
    story.changed_lines = [number + 1]


@given(step('一份公开文件副本，其中概况的 "{old:Q}" 改为 "{new:Q}"'))
def _(story: Story, old: str, new: str):
    text = SEED.read_text(encoding="utf-8")
    head, sep, rest = text.partition("## 第二部分")
    assert old in head, f"第一部分 概况中没有「{old}」"
    story.document = head.replace(old, new, 1) + sep + rest


@given(step("一份在「{title:L}」之前截断的公开文件副本"))
def _(story: Story, title: str):
    text = SEED.read_text(encoding="utf-8")
    cut = text.index("\n" + title)  # the table itself, not its line in the contents
    story.document = text[:cut]
    story.changed_lines = [text[:cut].rstrip("\n").count("\n") + 1]


@given("一份改存为 GB18030 编码的公开文件副本")
def _(story: Story):
    story.document = None
    story.marks["bytes"] = SEED.read_text(encoding="utf-8").encode("gb18030")


def _import(story: Story, data: bytes, name: str) -> None:
    story.position_before = story.ledger.last_position()
    story.refusal = None
    try:
        story.imported = story.ledger.import_document(data, name)
    except (DocumentRejected, RuleViolation) as exc:
        story.refusal = exc


@given("账本中已导入长治市住房公积金管理中心2024年部门预算公开文件")
def _(story: Story):
    story.imported = story.ledger.import_document(SEED.read_bytes(), SEED.name)
    story.marks["imported_position"] = story.ledger.last_position()


@given("一个空账本")
def _(story: Story):
    assert story.ledger.last_position() == 0


@when("导入公开文件")
@when("再次导入同一份公开文件")
def _(story: Story):
    _import(story, SEED.read_bytes(), SEED.name)


@when("导入这份副本")
def _(story: Story):
    data = story.document.encode("utf-8") if story.document is not None else story.marks["bytes"]
    _import(story, data, "副本-" + SEED.name)


@then(step('导入被拒绝，提示包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    assert isinstance(story.refusal, DocumentRejected | RuleViolation), f"导入未被拒绝: {story.imported}"
    assert fragment in str(story.refusal), f"提示中没有「{fragment}」:\n{story.refusal}"


@then("提示指出被改动的那一行")
def _(story: Story):
    assert story.refusal is not None
    for number in story.changed_lines:
        assert f"第{number}行" in str(story.refusal), f"提示没有指出第{number}行:\n{story.refusal}"


@then("本次没有记录任何事件")
def _(story: Story):
    assert story.refusal is None, story.refusal
    assert story.imported.recorded == 0 and story.imported.already_imported
    assert story.ledger.last_position() == story.position_before


@then(step('导入说明包含 "{fragment:Q}"'))
def _(story: Story, fragment: str):
    assert any(fragment in note for note in story.imported.notes), story.imported.notes


@then("导入报告列出为尾差调整过的叶子格，每一格的精确金额四舍五入后仍是其印刷数")
def _(story: Story):
    adjusted = story.imported.plan.rounding
    assert adjusted, "公开文件的合计无法全由印刷的叶子格直接得出, 应有调整过的叶子格"
    for leaf in adjusted:
        exact, printed = Decimal(leaf["amount"]), Decimal(leaf["printed"])
        assert to_wan(exact) == printed, leaf
        assert abs(exact - wan_to_yuan(printed)) <= 50, leaf  # 0.005万元 = 50元
        assert exact != wan_to_yuan(printed), leaf


@then(step('导入报告指出需要尾差的格包括 "{cell:Q}"'))
def _(story: Story, cell: str):
    assert any(c.startswith(cell) for c in story.imported.plan.rounding_cells), story.imported.plan.rounding_cells
