"""The 2024 决算 of 上海市普陀区财政局 imports from the PDF itself: its nine tables come back
from the events cell for cell, and its narrative's year-over-year and completion figures are
regenerated from the events. What the test compares with is read from the PDF at test time
(its grid cells, its sentences), never written down here."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.application.commands import Correct
from ledger.ingest.pdf import read_pdf
from ledger.ingest.source import Table

CORPUS = Path(__file__).parent / "corpus"
PDF = CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
DEPARTMENT, YEAR = "上海市普陀区财政局", 2024
HEADER_WORDS = {"类", "款", "项"}


def normal(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).replace("“", '"').replace("”", '"')


@pytest.fixture(scope="module")
def printed():
    """The PDF as its own grid: each table's rows (texts of every grid column), by title."""
    document = read_pdf(PDF.read_bytes(), PDF.name)
    titles = {normal(line.text): line for line in document.lines()}
    out: dict[str, list[list[str]]] = {}
    current = None
    for block in document.blocks:
        if not isinstance(block, Table):
            text = normal(block.text)
            if text.endswith("表") and text in titles and not re.match(r"^(第|[一二三四五六七八九十]+、)", text):
                current = text  # a table's title (not a line of the contents)
            continue
        if current is None:
            continue
        rows = out.setdefault(current, [])
        for row in block.rows:
            texts = [""] * block.column_count
            for cell in row.cells:
                texts[cell.column] = cell.text
            if any(texts):
                rows.append(texts)
    return document, out


@pytest.fixture
def final(ledger):
    result = ledger.import_document(PDF.read_bytes(), PDF.name)
    return ledger, result


def data_rows(grid: list[list[str]], width: int) -> list[list[str]]:
    """A printed table's data rows: from the first with an amount or a code on (the header rows
    before them dropped), the header's 类 款 项 left out of the cells."""
    rows = []
    started = False
    for texts in grid:
        texts = ["" if t in HEADER_WORDS else t for t in texts]
        started = started or any(AMOUNT.fullmatch(t) or re.fullmatch(r"\d{3}", t) for t in texts)
        if started and any(texts):
            rows.append(texts + [""] * (width - len(texts)))
    return rows


AMOUNT = re.compile(r"\d[\d,]*\.\d{2}")


def amount_columns(number: int) -> set[int]:
    from ledger.tables.layouts import layout

    out, offset = set(), 0
    for panel in layout("final-accounts").table(number).panels:
        out.update(range(offset + panel.label_width, offset + panel.width))
        offset += panel.width
    return out


def panel_ranges(number: int) -> list[tuple[int, int]]:
    from ledger.tables.layouts import layout

    out, offset = [], 0
    for panel in layout("final-accounts").table(number).panels:
        out.append((offset, offset + panel.width))
        offset += panel.width
    return out


def test_the_nine_tables_come_back_from_the_events_cell_for_cell(final, printed):
    ledger, result = final
    _document, grid = printed
    plan = result.plan
    assert plan.layout == "final-accounts" and plan.phase == "final"
    rendered = ledger.tables(DEPARTMENT, YEAR, layout_id="final-accounts")
    assert [normal(t.title) for t in rendered] == list(grid)  # the nine titles, in the PDF's order
    # Cells the import reported as printed one place off their detail are recorded as the
    # detail says: they, and nothing else, differ from the print.
    reported = {(c["table"], normal(c["row"])) for c in plan.inconsistent_cells}
    compared, differing = 0, []
    for table in rendered:
        width = len(table.rows[0].cells)
        amounts = amount_columns(table.number)
        panels = panel_ranges(table.number)
        theirs = data_rows(grid[normal(table.title)], width)
        ours = [r.cells for r in table.rows if any(r.cells)]
        if table.empty:
            assert not any(AMOUNT.fullmatch(c) for row in theirs for c in row), table.name
            continue

        def label(cells: list[str]) -> str:  # as printed: a merged label cell spans its columns
            return "|".join("".join(normal(c) for i, c in enumerate(cells[start:end], start) if i not in amounts)
                            for start, end in panels)

        by_label = {label(row): row for row in theirs}
        assert len(ours) == len(theirs), (table.name, len(ours), len(theirs))
        for cells in ours:
            assert label(cells) in by_label, (table.name, cells)
            printed_row = by_label[label(cells)]
            for i in sorted(amounts):
                compared += 1
                if cells[i] != printed_row[i].strip():
                    differing.append((table.name, cells, i, printed_row[i]))
    assert compared > 400
    assert len(differing) == len(plan.inconsistent_cells) > 0
    for name, cells, i, _theirs in differing:
        assert any(name == t and any(r == normal(c) for c in cells) for t, r in reported), (name, cells, i)


def _sentence(flow: str, pattern: str) -> re.Match:
    match = re.search(pattern, flow)
    assert match, pattern
    return match


def test_the_narratives_figures_are_regenerated_from_the_events(final, printed):
    ledger, _result = final
    document, _grid = printed
    flow = document.flow().text
    ours = ledger.explain_final_text(DEPARTMENT, YEAR)
    # 一、收入支出决算总体情况: the total and its change against 2023, as the PDF prints them
    theirs = _sentence(flow, r"收入支出总计([\d.]+)万元。与(\d{4})年度相比，收入支出总计(增加|减少)([\d.]+)万元，(增长|下降)([\d.]+)%")
    assert theirs.group(0) in ours
    explained = ledger.explain_final(DEPARTMENT, YEAR)
    total = explained.comparison("income_expenditure_total")
    assert (total.current.wan, total.delta.wan, total.percent) == (theirs.group(1), theirs.group(4), theirs.group(6))
    # 机关运行经费 and the general budget's completion, likewise
    theirs = _sentence(flow, r"机关运行经费支出([\d.]+)万元，比(\d{4})年度(增加|减少)([\d.]+)万元，(增长|下降)([\d.]+)%")
    assert theirs.group(0) in ours
    theirs = _sentence(flow, r"一般公共预算财政拨款支出年初预算为([\d.]+)万元，支出决算为([\d.]+)万元，完成年初预算的([\d.]+)%")
    assert theirs.group(0) in ours
    for item in re.finditer(r"年初预算为\s*([\d.]+)\s*万元，支出决算为([\d.]+)万元", flow):
        assert f"年初预算为{item.group(1)}万元，支出决算为{item.group(2)}万元" in ours


def test_changing_the_history_changes_the_explanation(final):
    ledger, _result = final
    before = ledger.explain_final(DEPARTMENT, YEAR)
    assert before.comparison("income_expenditure_total") is not None
    procured = sum((i.amount.value for i in before.procurement), Decimal(0))
    assert procured > 0
    events = ledger.event_feed(0, 1000).items
    prior = next(e for e in events if e.kind == "prior_year_figure"
                 and dict(e.lines[0].dims).get("figure") == "income_expenditure_total")
    goods = next(e for e in events if e.kind == "final_accounts"
                 and dict(e.lines[0].dims).get("procurement") == "goods")
    for event in (prior, goods):
        ledger.correct(DEPARTMENT, YEAR, Correct(event=str(event.position), reason="测试: 更正决算情况说明所列数"))
    after = ledger.explain_final(DEPARTMENT, YEAR)
    assert after.comparison("income_expenditure_total") is None
    assert "与2023年度相比，收入支出总计" not in ledger.explain_final_text(DEPARTMENT, YEAR)
    goods_amount = Decimal(goods.lines[0].fen) / 100
    assert sum((i.amount.value for i in after.procurement), Decimal(0)) == procured - goods_amount
    # the tables themselves did not move
    assert ledger.tables(DEPARTMENT, YEAR, layout_id="final-accounts")[0].rows[-1].cells[1] == "2,995.39"


def test_a_second_final_accounts_document_for_the_same_year_is_refused(final):
    ledger, _result = final
    again = ledger.import_document(PDF.read_bytes(), PDF.name)
    assert again.already_imported and again.recorded == 0
    from ledger.domain.budget import RuleViolation

    other = PDF.read_bytes() + b"\n%"  # another file (other bytes), the same department and year
    with pytest.raises(RuleViolation, match="决算已由另一份公开文件导入"):
        ledger.import_document(other, "copy.pdf")


def test_the_doctored_copy_is_refused_for_its_missing_table(ledger):
    from ledger.ingest.errors import DocumentRejected

    doctored = CORPUS / "shanghai-putuo-caizhengju-2024-final-accounts-doctored.pdf"
    with pytest.raises(DocumentRejected) as refused:
        ledger.import_document(doctored.read_bytes(), doctored.name)
    message = str(refused.value)
    assert "缺少表三《支出决算表》" in message and "第" in message and "页" in message
    assert ledger.last_position() == 0
