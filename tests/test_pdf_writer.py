"""The ledger's PDF writer, read back with the PDF reader: every cell (with its merged shape)
and every paragraph must come back as written. The writer's inputs are the expectations: a
table spanning pages, cells whose labels wrap, merged header cells over two and three rows,
figures set in another font (as published documents set them), an empty table with its note,
a table without ruling lines.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ledger.ingest.pdf import read_pdf
from ledger.ingest.pdfwriter import DocumentSpec, PageBreak, Paragraph, Span, TableSpec, header_grid, write_pdf
from ledger.ingest.source import Table, TextLine, is_wide

ITEMS = ["行政运行", "一般行政管理事务", "机关事业单位基本养老保险缴费支出", "机关事业单位职业年金缴费支出",
         "其他行政事业单位养老支出", "行政单位医疗", "住房公积金", "购房补贴"]


def _amount(n: int) -> str:
    value = (Decimal(n * 7919 % 100000) + Decimal(n % 100) / 100)
    return f"{value:,.2f}"


def long_table() -> TableSpec:
    rows = []
    for n in range(1, 71):
        basic, project = _amount(n), _amount(n + 500)
        total = f"{Decimal(basic.replace(',', '')) + Decimal(project.replace(',', '')):,.2f}"
        rows.append([f"2{n:06d}", ITEMS[n % len(ITEMS)] + ("（含上年结转）" if n % 9 == 0 else ""), total, basic, project])
    return TableSpec(
        title="支出决算表",
        header=[[Span("项目", columns=2), Span("本年支出合计", rows=2), Span("其中", columns=2)],
                ["科目编码", "科目名称", "基本支出", "项目支出"]],
        rows=rows, widths=(1.2, 1.6, 1.2, 1.1, 1.1))


def wide_table() -> TableSpec:
    budget = [_amount(n) for n in range(12)]
    return TableSpec(
        title="财政拨款“三公”经费支出决算表", landscape=True,
        header=[[Span("财政拨款“三公”经费", columns=12)],
                [Span("合计", columns=2, rows=2), Span("因公出国（境）费", columns=2, rows=2),
                 Span("公务用车购置及运行费", columns=6), Span("公务接待费", columns=2, rows=2)],
                [Span("小计", columns=2), Span("公务用车购置费", columns=2), Span("公务用车运行费", columns=2)],
                ["预算数", "决算数"] * 6],
        rows=[budget])


def empty_table() -> TableSpec:
    return TableSpec(title="政府性基金预算财政拨款收入支出决算表", unit="单位：元",
                     header=[["科目编码", "科目名称", "年初结转和结余", "本年收入", "本年支出", "年末结转和结余"]],
                     rows=[["合计", "", "", "", "", ""]], note="注：本单位无政府性基金预算财政拨款收入支出，故本表无数据。")


PARAGRAPHS = [
    Paragraph("第三部分 2024年度部门决算情况说明", level=1),
    Paragraph("一、收入支出决算总体情况说明", level=2),
    Paragraph("某某局2024年度收入支出总计2995.39万元。与2023年度相比，收入支出总计减少56.95万元，下降1.87%。"
              "主要原因：基本支出中人员进出及退休变化，以及项目支出中合同支付进度条款等原因减少支付。"),
    Paragraph("机关运行经费支出184.65万元，比2023年度增加2.55万元，增长1.40%。主要原因是优化办公环境、提升照明效率，"
              "更换了老旧照明设施，导致相关支出略有增加。"),
    Paragraph("二、政府采购支出情况", level=2),
    Paragraph("2024年度政府采购金额为251.25万元，其中：货物采购金额4.79万元、工程采购金额0万元、服务采购金额246.47万元。"),
]


def spec(number_font: str | None) -> DocumentSpec:
    return DocumentSpec(title="某某局2024年度部门决算", subtitle="（由账本生成的测试文件）", number_font=number_font,
                        blocks=(*PARAGRAPHS, long_table(), wide_table(), empty_table(), PageBreak(),
                                Paragraph("第四部分 名词解释", level=1),
                                Paragraph("一、财政拨款收入：指单位本年度从本级财政部门取得的财政拨款。")))


def printed(text: str) -> str:
    """The reader's contract on spaces: none is kept next to a Chinese character (there they
    are typographic: justification, spacing between Chinese and Latin)."""
    return re.sub(r" +", lambda m: "" if _by_wide(text, m) else " ", text)


def _by_wide(text: str, m: re.Match) -> bool:
    before = text[m.start() - 1] if m.start() else ""
    after = text[m.end()] if m.end() < len(text) else ""
    return bool(before and is_wide(before)) or bool(after and is_wide(after))


def assert_reads_as_written(table: Table, written: TableSpec) -> None:
    placed = header_grid(written.header, max(len(r) for r in written.rows))
    head = max(r + s.rows for r, _, s in placed)
    got = {(c.row, c.column): (c.text, c.column_span, c.row_span) for row in table.rows[:head] for c in row.cells}
    assert got == {(r, c): (printed(s.text), s.columns, s.rows) for r, c, s in placed}
    assert [row.texts for row in table.rows[head:]] == [[printed(t) for t in r] for r in written.rows]


@pytest.fixture(scope="module", params=[None, "Times-Roman"], ids=["one-font", "figures-in-times"])
def written(request):
    document_spec = spec(request.param)
    data = write_pdf(document_spec)
    return document_spec, data, read_pdf(data, "written.pdf")


def test_every_cell_reads_back_as_written(written):
    document_spec, _, document = written
    tables = document.tables()
    specs = [b for b in document_spec.blocks if isinstance(b, TableSpec)]
    assert len(tables) == len(specs)
    for table, table_spec in zip(tables, specs):
        assert_reads_as_written(table, table_spec)


def test_a_long_table_goes_on_over_pages_and_joins(written):
    _, _, document = written
    long = document.tables()[0]
    assert len(long.parts) >= 2
    assert long.parts[0].continues is False and all(p.continues for p in long.parts[1:])
    assert len(long.pages()) == len(long.parts)
    assert len(long.rows) == 2 + len(long_table().rows)


def test_wrapped_labels_are_one_cell(written):
    _, _, document = written
    long = document.tables()[0]
    wrapped = [c for row in long.rows for c in row.cells if len(c.lines) > 1]
    assert wrapped, "the narrow 科目名称 column should make labels wrap"
    assert all(c.text in {printed(r[1]) for r in long_table().rows} | {"本年支出合计"} for c in wrapped)


def test_titles_and_units_stand_above_their_tables(written):
    document_spec, _, document = written
    blocks = list(document.blocks)
    for table_spec in (b for b in document_spec.blocks if isinstance(b, TableSpec)):
        title = next(i for i, b in enumerate(blocks) if isinstance(b, TextLine) and b.text == printed(table_spec.title))
        assert blocks[title + 1].text == table_spec.unit
        assert isinstance(blocks[title + 2], Table)


def test_the_narrative_reads_back_paragraph_by_paragraph(written):
    document_spec, _, document = written
    paragraphs = document.flow().paragraphs()
    wanted = [printed(b.text) for b in document_spec.blocks if isinstance(b, Paragraph)]
    for text in wanted:
        assert text in paragraphs
    # in the order written
    assert [p for p in paragraphs if p in wanted] == wanted


def test_page_numbers_are_furniture(written):
    _, _, document = written
    furniture = [b for b in document.blocks if isinstance(b, TextLine) and b.furniture]
    assert [b.text for b in furniture] == [f"- {n} -" for n in range(1, document.page_count + 1)]
    assert not re.search(r"- \d+ -", document.flow().text)


def test_the_flow_locates_a_figure_on_its_page(written):
    _, _, document = written
    flow = document.flow()
    at = flow.text.index("184.65")
    (place,) = flow.locate(at, at + len("184.65"))
    line = next(b for b in document.lines() if "184.65" in b.text)
    assert place.page == line.location.page == 1
    assert line.location.box.x0 <= place.box.x0 < place.box.x1 <= line.location.box.x1
    assert place.describe().startswith("第1页 (x=")


def test_writing_is_deterministic():
    assert write_pdf(spec(None)) == write_pdf(spec(None))


def test_a_repeated_header_is_not_read_twice():
    table_spec = TableSpec(**{**long_table().__dict__, "repeat_header": True})
    document = read_pdf(write_pdf(DocumentSpec(title="表", blocks=(table_spec,))), "repeat.pdf")
    (table,) = document.tables()
    assert len(table.parts) >= 2
    assert table.parts[1].rows[0].texts == table.parts[0].rows[0].texts  # printed again on the next page
    assert_reads_as_written(table, table_spec)


def test_a_table_without_lines_is_read_from_the_gaps():
    rows = [r[:1] + r[2:] for r in long_table().rows[:12]]
    table_spec = TableSpec(title="支出决算表（无表格线）", header=[["科目编码", "本年支出合计", "基本支出", "项目支出"]],
                           rows=rows, ruled=False, new_page=False)
    document = read_pdf(write_pdf(DocumentSpec(title="无线表", blocks=(table_spec,))), "unruled.pdf")
    (table,) = document.tables()
    assert table.ruled is False
    assert_reads_as_written(table, table_spec)


def test_header_cells_take_the_next_free_position():
    placed = header_grid(wide_table().header, 12)
    assert [(r, c, s.text) for r, c, s in placed if r == 2] == [(2, 4, "小计"), (2, 6, "公务用车购置费"),
                                                                (2, 8, "公务用车运行费")]
    with pytest.raises(ValueError):
        header_grid([[Span("太宽", columns=3)]], 2)
