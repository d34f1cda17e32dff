"""决算 PDFs broken in one place are refused at the layout level, naming page and table, and
record nothing. The documents are written from the events of the corpus 决算 (so the unbroken
one imports, and reproduces its tables), then broken: a row shifted, a table left out, the
unit misprinted, a cell changed beyond rounding."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from pdf_support import with_block

from ledger.application.documents import final_spec
from ledger.ingest.errors import DocumentRejected
from ledger.ingest.pdfwriter import TableSpec, write_pdf

PDF = Path(__file__).parent / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
DEPARTMENT, YEAR = "上海市普陀区财政局", 2024


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    """The corpus 决算 as a document spec written from its events (its own store)."""
    from support import new_database_url

    from ledger.application import Ledger

    url, drop = new_database_url(tmp_path_factory.mktemp("final"))
    with Ledger(url) as ledger:
        ledger.import_document(PDF.read_bytes(), PDF.name)
        out = final_spec(ledger, DEPARTMENT, YEAR)
        tables = ledger.tables(DEPARTMENT, YEAR, layout_id="final-accounts")
    drop()
    return out, tables


def _table(spec, title: str) -> tuple[int, TableSpec]:
    return next((i, b) for i, b in enumerate(spec.blocks) if isinstance(b, TableSpec) and b.title == title)




def _import(ledger, spec, name: str):
    return ledger.import_document(write_pdf(spec), name)


def test_the_document_written_from_the_events_imports_and_gives_the_same_tables(ledger, spec):
    document, tables = spec
    _import(ledger, document, "written.pdf")
    again = ledger.tables(DEPARTMENT, YEAR, layout_id="final-accounts")
    assert [[r.cells for r in t.rows] for t in again] == [[r.cells for r in t.rows] for t in tables]


def _refused(ledger, document, name) -> str:
    with pytest.raises(DocumentRejected) as refused:
        _import(ledger, document, name)
    assert ledger.last_position() == 0
    return str(refused.value)


def test_a_row_shifted_one_column_right_is_refused_naming_page_and_table(ledger, spec):
    document, tables = spec
    index, table = _table(document, tables[4].title)  # 一般公共预算财政拨款支出决算表
    row = next(i for i, r in enumerate(table.rows) if "行政运行" in r)
    rows = [list(r) for r in table.rows]
    rows[row] = [""] + rows[row][:-1]
    message = _refused(ledger, with_block(document, index, dataclasses.replace(table, rows=rows)), "shifted.pdf")
    assert re.search(r"\[第\d+页[^]]*\]\[表五\]", message), message


def test_a_table_left_out_is_refused_naming_the_table_and_where_it_should_be(ledger, spec):
    document, tables = spec
    index, _table_spec = _table(document, tables[6].title)  # 财政拨款“三公”经费支出决算表
    message = _refused(ledger, with_block(document, index, None), "missing.pdf")
    assert "缺少表七《财政拨款“三公”经费支出决算表》" in message
    assert re.search(r"\[第\d+页[^]]*\]\[表七\].*应在表八《政府性基金预算财政拨款收入支出决算表》之前", message), message


def test_a_table_printed_in_yuan_instead_of_wan_is_refused(ledger, spec):
    document, tables = spec
    index, table = _table(document, tables[2].title)  # 支出决算表
    message = _refused(ledger, with_block(document, index, dataclasses.replace(table, unit="单位：元")), "yuan.pdf")
    assert "金额单位应为万元" in message and "[表三]" in message and "页" in message


def test_a_cell_changed_beyond_rounding_is_refused_naming_its_page_table_and_row(ledger, spec):
    document, tables = spec
    index, table = _table(document, tables[2].title)  # 支出决算表
    rows = [list(r) for r in table.rows]
    row = next(i for i, r in enumerate(rows) if "信息化建设" in r)
    column = next(j for j, c in enumerate(rows[row]) if re.fullmatch(r"[\d,]+\.\d{2}", c))
    rows[row][column] = "136.25"  # printed 135.25 in every other table
    message = _refused(ledger, with_block(document, index, dataclasses.replace(table, rows=rows)), "changed.pdf")
    assert "超出尾差" in message and re.search(r"表三 第\d+页 \(x=\d+, y=\d+\) 2010607 信息化建设", message), message
