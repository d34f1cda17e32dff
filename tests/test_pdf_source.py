"""The layout-neutral model of a printed document (ingest/source.py), and the seed's text
layout turned into it (ingest/textsource.py): the same shape as a PDF gives, so the later
layout-driven importer reads either. Expectations about the seed are computed from its lines."""

from __future__ import annotations

import pytest
from support import SEED

from ledger.ingest.errors import DocumentRejected, Problem
from ledger.ingest.pdfwriter import DocumentSpec, Paragraph, write_pdf
from ledger.ingest.source import Box, Cell, Document, Location, Row, Table, TextLine, read_source
from ledger.ingest.textsource import from_text, read_text


def test_locations_describe_themselves_in_chinese():
    assert Location(page=8, box=Box(120.4, 339.6, 200, 350)).describe() == "第8页 (x=120, y=340)"
    assert Location(page=8).describe() == "第8页"
    assert Location(line=157).describe() == "第157行"
    assert Location(line=157, column=3).describe() == "第157行第3列"


def test_a_problem_names_its_page():
    problem = Problem(None, "这一页没有文字层", location=Location(page=10))
    assert str(problem) == "[第10页] 这一页没有文字层"
    assert problem.page == 10
    assert str(Problem(12, "金额单位应为万元", "表三")) == "[第12行][表三] 金额单位应为万元"  # as before


def _seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").split("\n")


def test_the_seeds_rows_become_table_rows_cell_by_cell():
    lines = _seed_lines()
    document = read_text(SEED.read_bytes(), SEED.name)
    rows = [row for table in document.page_tables() for row in table.rows]
    expected = [(n, [c.strip() for c in line.split("\t")]) for n, line in enumerate(lines, start=1) if "\t" in line]
    assert [(r.location.line, r.texts) for r in rows] == expected
    for row in rows:
        assert [c.location for c in row.cells] == [Location(line=row.location.line, column=k)
                                                   for k in range(1, len(row.cells) + 1)]


def test_the_seeds_text_lines_are_lines_and_paragraphs():
    lines = _seed_lines()
    document = read_text(SEED.read_bytes(), SEED.name)
    text = [(n, line.strip().lstrip("#").strip()) for n, line in enumerate(lines, start=1)
            if line.strip() and "\t" not in line]
    assert [(b.location.line, b.text) for b in document.lines()] == text
    assert document.flow().paragraphs() == [t for _, t in text]


def test_blank_lines_inside_a_table_make_a_continuation():
    lines = _seed_lines()
    document = read_text(SEED.read_bytes(), SEED.name)
    pieces = list(document.page_tables())
    # a piece continues when only blank lines stand between the previous piece's last row and its first
    for before, piece in zip(pieces, pieces[1:]):
        between = lines[before.rows[-1].location.line:piece.rows[0].location.line - 1]
        assert piece.continues == all(not line.strip() for line in between)
    assert any(p.continues for p in pieces)
    assert len(document.tables()) == len(pieces) - sum(p.continues for p in pieces)


def test_the_flow_maps_offsets_back_to_lines():
    lines = _seed_lines()
    flow = read_text(SEED.read_bytes(), SEED.name).flow()
    sentence = "机关运行经费"
    at = flow.text.index(sentence)
    (place,) = flow.locate(at, at + len(sentence))
    assert sentence in lines[place.line - 1]
    assert all(sentence not in line for line in lines[:place.line - 1] if "\t" not in line)


def _cell(text: str, row: int, column: int, rows: int = 1, columns: int = 1, page: int = 1) -> Cell:
    return Cell(text, Location(page=page), row, column, rows, columns)


def test_merged_cells_fill_their_span_of_the_grid():
    head = _cell("项目", 0, 0, columns=2)
    total = _cell("合计", 0, 2, rows=2)
    table = Table(rows=(Row((head, total), Location(page=1)),
                        Row((_cell("编码", 1, 0), _cell("名称", 1, 1)), Location(page=1))),
                  location=Location(page=1), column_count=3)
    assert table.grid() == [[head, head, total], [table.rows[1].cells[0], table.rows[1].cells[1], total]]
    assert table.texts() == [["项目", None, "合计"], ["编码", "名称", None]]


def test_continuations_join_and_a_repeated_header_is_dropped():
    def piece(page: int, texts: list[list[str]], continues: bool) -> Table:
        rows = tuple(Row(tuple(_cell(t, r, c, page=page) for c, t in enumerate(row)), Location(page=page))
                     for r, row in enumerate(texts))
        return Table(rows=rows, location=Location(page=page), column_count=2, continues=continues)

    first = piece(6, [["项目", "决算数"], ["一、收入", "1.00"]], False)
    again = piece(7, [["项目", "决算数"], ["二、收入", "2.00"]], True)
    other = piece(9, [["项目", "决算数"], ["三、收入", "3.00"]], False)
    document = Document("x", "", "pdf", (first, TextLine("收入决算表", Location(page=8)), again, other))
    joined, separate = Document("x", "", "pdf", (first, again, other)).tables()
    assert [r.texts for r in joined.rows] == [["项目", "决算数"], ["一、收入", "1.00"], ["二、收入", "2.00"]]
    assert [r.location.page for r in joined.rows] == [6, 6, 7]
    assert [c.row for r in joined.rows for c in r.cells] == [0, 0, 1, 1, 2, 2]
    assert joined.pages() == [6, 7] and separate.pages() == [9]
    assert len(document.tables()) == 2  # a table marked as continuing joins the one before it in the flow


def test_a_text_line_locates_its_characters():
    boxes = tuple(Box(10 + 12 * i, 100, 22 + 12 * i, 112) for i in range(6))
    line = TextLine("支出184.65", Location(page=3, box=Box.around(boxes)), boxes=boxes + boxes[-1:] * 2)
    assert line.locate(2, 4) == Location(page=3, box=Box(34, 100, 58, 112))


def test_read_source_picks_the_reader_by_the_bytes():
    assert read_source(SEED.read_bytes(), SEED.name).source == "text"
    pdf = write_pdf(DocumentSpec(title="标题", blocks=(Paragraph("正文。"),)))
    assert read_source(pdf, "untitled").source == "pdf"
    with pytest.raises(DocumentRejected) as refused:
        read_source(b"<html><body>not found</body></html>", "disclosure.pdf")
    assert "网页" in str(refused.value)
    assert from_text("标题\n\n甲\t乙\n", "t").blocks[1].rows[0].texts == ["甲", "乙"]
