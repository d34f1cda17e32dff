"""The header rows of the 13 table definitions are the document's, cell for cell, and say
which printed cells are merged ("<" continues the cell to the left, "^" the cell above); the
loader refuses a header it cannot lay out, naming the place."""

from __future__ import annotations

import pytest
from disclosure import trim
from header_layout import header_grids, header_spans, printed_text
from support import SEED

from ledger.tables.definitions import DefinitionError, HeaderCell, header_cells, load_tables

def document_headers() -> dict[int, list[list[str]]]:
    """For each table, as many lines after its title (and its 部门名称 and 单位 lines) as its definition has header rows."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    out = {}
    for table in load_tables():
        title = table.title_for(2024)
        start = next(i for i, line in enumerate(lines) if line.strip().lstrip("#").strip() == title and "....." not in line)
        body = [line for line in lines[start + 1:] if line.strip() and not line.startswith(("部门名称", "单位："))]
        out[table.number] = [[c.strip() for c in line.split("\t")] for line in body[: len(table.header)]]
    return out


def test_every_header_row_is_the_documents():
    document = document_headers()
    grids = header_grids()
    assert sorted(grids) == list(range(1, 14))
    for number, grid in grids.items():
        for r, (ours, printed) in enumerate(zip(printed_text(grid), document[number], strict=True)):
            assert ours == printed, f"表{number} 表头第{r + 1}行"
    # What the tables print as text (TSV, CSV, JSON): the same, trailing empty cells left out
    # (the bytes every publication's tables digest covers).
    for table in load_tables():
        assert [[c.format(year=2024) for c in row] for row in table.header] == [trim(row) for row in document[table.number]], \
            table.name


def test_the_loader_reads_the_same_spans_as_the_yaml_says():
    expected = header_spans()
    for table in load_tables():
        cells = [(c.row, c.column, c.rowspan, c.colspan, c.text.format(year=2024)) for c in table.header_cells]
        assert cells == expected[table.number], table.name
        # The merged cells tile the header: every place of every row, once.
        places = [(c.row + i, c.column + j) for c in table.header_cells for i in range(c.rowspan) for j in range(c.colspan)]
        assert sorted(places) == [(r, c) for r in range(len(table.header)) for c in range(table.width)], table.name


def test_the_merges_the_page_used_to_get_wrong():
    spans = {number: {text: (rowspan, colspan) for _r, _c, rowspan, colspan, text in cells}
             for number, cells in header_spans().items()}
    assert spans[2]["上年结转"] == (2, 1) and spans[2]["本年收入"] == (1, 6) and spans[2]["单位资金"] == (1, 1)
    assert spans[12]["国有资本经营预算"] == (1, 1) and spans[12]["财政专户管理资金"] == (2, 1)
    assert spans[12]["单位资金"] == (2, 1) and spans[12]["2024年财政拨款"] == (1, 3)
    assert spans[4]["小计"] == (1, 1) and spans[7]["政府性基金收入预算"] == (2, 1)


@pytest.mark.parametrize(("grid", "message"), [
    ([["项目", "<"], ["科目编码"]], "表头第2行有 1 格, 表宽 2 格"),
    ([["<", "合计"]], "表头第1行第1格: 左边没有可延续的格"),
    ([["^", "合计"]], "表头第1行第1格: 上边没有可延续的格"),
    ([["项目", "<", "合计"], ["^", "科目", "^"], ["^", "^", "^"]], "表头第1行第1格「项目」的合并格不是矩形"),
])
def test_a_header_that_cannot_be_laid_out_is_refused(grid, message):
    with pytest.raises(DefinitionError) as refused:
        header_cells(grid, 3 if len(grid[0]) == 3 else 2, "99-example.yaml: ")
    assert str(refused.value).startswith(f"99-example.yaml: {message}")


def test_a_rectangle_merged_both_ways():
    assert header_cells([["收入", "<", "支出"], ["^", "^", "合计"]], 3) == (
        HeaderCell(0, 0, "收入", 2, 2), HeaderCell(0, 2, "支出"), HeaderCell(1, 2, "合计"))
