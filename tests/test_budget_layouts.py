"""The 9-table budget layouts in 元 (budget-9-yuan, and its 单位 variant budget-9-yuan-unit):
the reference budget's events print them, the documents so printed (kept in tests/corpus/, as
text and as PDF) import into a fresh ledger, and what the new ledger renders is what the
document prints, cell for cell; the 13 tables rendered from the imported events are the
original's. What a test compares with is read from the document at test time (its lines, or
the PDF's grid), never written down here. Documents broken in one place are refused naming
table and line or page, and record nothing."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import pytest
from pdf_support import printed_pdf, printed_text, trim, with_block
from support import SEED, new_database_url

from ledger.application import Ledger
from ledger.application.documents import budget_layout_spec, budget_layout_text, reprinted
from ledger.devtools.layout_corpus import DEPARTMENT, LAYOUTS, WHOLE, YEAR, documents
from ledger.ingest.budget_layout import UNLISTED
from ledger.ingest.errors import DocumentRejected
from ledger.ingest.pdfwriter import TableSpec, write_pdf
from ledger.tables.layouts import MoneyFormat, layout

CORPUS = Path(__file__).parent / "corpus"
KINDS = [(layout_id, suffix) for layout_id in LAYOUTS for suffix in ("txt", "pdf")]


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """The reference budget (imported from the seed) in a store of its own: its documents in
    every budget layout, its tables in those layouts and in the 13, and two document specs."""
    url, drop = new_database_url(tmp_path_factory.mktemp("reference"))
    with Ledger(url) as ledger:
        ledger.import_document(SEED.read_bytes(), SEED.name)
        out = {
            "documents": {name: data for _layout, name, data in documents(ledger)},
            "tables": {lay: ledger.tables(DEPARTMENT, YEAR, layout_id=lay) for lay in LAYOUTS},
            "seed": ledger.tables(DEPARTMENT, YEAR),
            "text": {lay: budget_layout_text(ledger, DEPARTMENT, YEAR, lay) for lay in LAYOUTS},
            "spec": {lay: budget_layout_spec(ledger, DEPARTMENT, YEAR, lay) for lay in LAYOUTS},
        }
    drop()
    return out


def _file(layout_id: str, suffix: str) -> Path:
    return CORPUS / f"{LAYOUTS[layout_id]}.{suffix}"


def test_the_kept_documents_are_those_the_events_print_today(original):
    for name, data in original["documents"].items():
        assert (CORPUS / name).read_bytes() == data, f"{name}: python -m ledger.devtools.layout_corpus tests/corpus"


@pytest.mark.parametrize("layout_id,suffix", KINDS)
def test_a_document_in_yuan_imports_cell_for_cell(ledger, original, layout_id, suffix):
    data = _file(layout_id, suffix).read_bytes()
    result = ledger.import_document(data, _file(layout_id, suffix).name)
    lay = layout(layout_id)
    assert result.plan.layout == layout_id and result.plan.phase == "budget"
    assert f"按「{lay.name}」布局读取 (9 张表)" in result.notes
    assert ledger.layouts(DEPARTMENT, YEAR) == [layout_id, "department-budget"]  # the same events print both
    rendered = ledger.tables(DEPARTMENT, YEAR, layout_id=layout_id)
    titles = [t.title for t in rendered]
    printed = (printed_pdf if suffix == "pdf" else printed_text)(data, titles)
    assert sorted(printed) == sorted(titles)
    compared = 0
    for table in rendered:
        rows = [trim(r.cells) for r in table.rows if any(c.strip() for c in r.cells)]
        grid = printed[table.title]
        if suffix == "txt":
            assert grid == [trim(h) for h in table.header] + rows, table.title
        else:  # the header's merged cells as the PDF's ruling gives them: compare the data rows
            assert grid[len(grid) - len(rows):] == rows, table.title
        compared += sum(1 for r in rows for c in r if re.fullmatch(r"[\d,]+\.\d{2}", c))
    assert compared > 150  # amounts in 元 with 分, thousands separated, compared to the cent
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", c) for t in rendered for r in t.rows for c in r.cells)
    # and what the original's events print in this layout is what the imported events print
    assert [[r.cells for r in t.rows] for t in rendered] == \
        [[r.cells for r in t.rows] for t in original["tables"][layout_id]]


@pytest.mark.parametrize("layout_id,suffix", KINDS)
def test_the_13_tables_of_the_imported_events_are_the_originals(ledger, original, layout_id, suffix):
    ledger.import_document(_file(layout_id, suffix).read_bytes(), _file(layout_id, suffix).name)
    again = ledger.tables(DEPARTMENT, YEAR)
    for before, after in zip(original["seed"], again, strict=True):
        if before.number == 12:
            continue  # projects: below
        assert [r.cells for r in after.rows] == [r.cells for r in before.rows], before.title
    # 表十二: the 9 tables name no project; the project spending is one unlisted project of the unit
    before = {r.cells[0]: r.cells[1:] for r in original["seed"][11].rows if r.cells[0]}
    after = {r.cells[0]: r.cells[1:] for r in again[11].rows if r.cells[0]}
    assert set(after) == {DEPARTMENT, UNLISTED}
    assert after[DEPARTMENT] == before[DEPARTMENT] == after[UNLISTED]
    # 表十一 (机关运行经费) is there because the document's 情况说明 names it: an agency
    assert not again[10].empty and again[10].rows == original["seed"][10].rows


def test_a_unit_document_is_that_units_budget_and_every_posting_carries_the_unit(ledger):
    path = _file("budget-9-yuan-unit", "pdf")
    result = ledger.import_document(path.read_bytes(), path.name)
    assert result.plan.units == [{"name": DEPARTMENT, "category": "参公事业单位"}]
    assert any(note.startswith("单位预算: 记为单位「") for note in result.notes)
    sums = ledger.leaf_sums(DEPARTMENT, YEAR)
    budget = [dict(dims) for dims, amount in sums.items() if dict(dims).get("measure") == "budget" and amount]
    assert budget and all(d.get("unit") == DEPARTMENT for d in budget)


def test_a_department_document_records_the_unit_only_on_economic_postings(ledger):
    path = _file("budget-9-yuan", "txt")
    ledger.import_document(path.read_bytes(), path.name)
    sums = ledger.leaf_sums(DEPARTMENT, YEAR)
    coded = [dict(d) for d, a in sums.items() if "code" in dict(d) and a]
    economic = [dict(d) for d, a in sums.items() if "economic" in dict(d) and a]
    assert coded and all("unit" not in d for d in coded)
    assert economic and all(d["unit"] == DEPARTMENT for d in economic)


def test_the_import_is_exact_in_yuan_with_fen(ledger, original):
    """In 元 with 分 a printed cell is exact: the leaves are the printed amounts, no 尾差."""
    path = _file("budget-9-yuan", "txt")
    result = ledger.import_document(path.read_bytes(), path.name)
    assert result.plan.rounding == [] and result.plan.rounding_cells == []
    total = sum((p.line.amount for p in result.plan.lines if p.line.d.get("code") and "project" not in p.line.d),
                Decimal(0))
    printed = next(r for r in original["tables"]["budget-9-yuan"][2].rows if r.cells[0] == "合计").cells[2]
    assert total == Decimal(printed.replace(",", ""))


@pytest.mark.parametrize("suffix", ["txt", "pdf"])
def test_a_document_in_whole_yuan_imports_its_cells_within_half_a_yuan(ledger, original, suffix):
    """Whole 元 say each amount to ±0.5元: the import finds the 分 (尾差), prints every cell of
    the document again, and each exact amount is within 1元 of the original's (both within
    0.5元 of the printed figure); the 13 tables in 万元 then differ from the original's by at most
    one printed place where an amount lies that close to a rounding boundary."""
    path = CORPUS / f"{WHOLE['budget-9-yuan']}.{suffix}"
    result = ledger.import_document(path.read_bytes(), path.name)
    assert result.plan.layout == "budget-9-yuan"
    assert any(note.startswith("金额印为整数元") for note in result.notes)
    assert result.plan.inconsistencies == []  # the 情况说明's whole-元 机关运行经费 agrees with 表六
    whole = MoneyFormat(unit="元", decimals=0, thousands=True)
    again = ledger.tables(DEPARTMENT, YEAR, layout_id="budget-9-yuan")
    titles = [t.title for t in again]
    printed = (printed_pdf if suffix == "pdf" else printed_text)(path.read_bytes(), titles)
    compared = 0
    for table, before in zip(again, original["tables"]["budget-9-yuan"], strict=True):
        rows = [trim(r.cells) for r in reprinted(table, whole, "budget-9-yuan").rows if any(c.strip() for c in r.cells)]
        assert printed[table.title][len(printed[table.title]) - len(rows):] == rows, table.title
        for row_after, row_before in zip(table.rows, before.rows, strict=True):
            for (_r, _c, amount), (_r2, _c2, was) in zip(row_after.amounts, row_before.amounts, strict=True):
                assert abs(amount - was) <= 1, (table.title, _r, _c, amount, was)
                compared += bool(was)
    assert compared > 150
    for after, before in zip(ledger.tables(DEPARTMENT, YEAR), original["seed"], strict=True):
        if after.number == 12:
            continue
        for row_after, row_before in zip(after.rows, before.rows, strict=True):
            for a, b in zip(row_after.cells, row_before.cells, strict=True):
                if a != b:
                    assert abs(Decimal(a or 0) - Decimal(b or 0)) == Decimal("0.01"), (after.title, a, b)


# ----------------------------------------------------------------------------- broken documents


def _refused(ledger, data: bytes, name: str) -> str:
    with pytest.raises(DocumentRejected) as refused:
        ledger.import_document(data, name)
    assert ledger.last_position() == 0
    return str(refused.value)


def _text_without(text: str, title: str) -> str:
    lines = text.split("\n")
    start = lines.index(title)
    end = next(i for i in range(start + 1, len(lines)) if lines[i] == "")
    return "\n".join(lines[:start] + lines[end + 1:])


def _spec_table(spec, title: str) -> tuple[int, TableSpec]:
    return next((i, b) for i, b in enumerate(spec.blocks) if isinstance(b, TableSpec) and b.title == title)




@pytest.mark.parametrize("layout_id", list(LAYOUTS))
def test_a_table_left_out_is_refused_naming_it_and_where_it_should_be(ledger, original, layout_id):
    tables = original["tables"][layout_id]
    text = _text_without(original["text"][layout_id], tables[1].title)
    message = _refused(ledger, text.encode(), "missing.txt")
    assert f"缺少表二《{tables[1].title}》" in message and f"应在表三《{tables[2].title}》之前" in message
    assert re.search(r"\[第\d+行\]\[表二\]", message), message
    spec = original["spec"][layout_id]
    index, _ = _spec_table(spec, tables[1].title)
    message = _refused(ledger, write_pdf(with_block(spec, index, None)), "missing.pdf")
    assert f"缺少表二《{tables[1].title}》" in message and re.search(r"\[第\d+页[^]]*\]\[表二\]", message), message


def test_a_row_shifted_one_column_right_is_refused_naming_table_and_place(ledger, original):
    tables = original["tables"]["budget-9-yuan"]
    title = tables[4].title  # 一般公共预算支出表
    lines = original["text"]["budget-9-yuan"].split("\n")
    at = next(i for i in range(lines.index(title), len(lines)) if lines[i].startswith("2210201\t"))
    cells = lines[at].split("\t")
    lines[at] = "\t".join([""] + cells)
    message = _refused(ledger, "\n".join(lines).encode(), "shifted.txt")
    assert re.search(rf"\[第{at + 1}行[^]]*\]\[表五\]", message), message
    spec = original["spec"]["budget-9-yuan"]
    index, table = _spec_table(spec, title)
    rows = [list(r) for r in table.rows]
    row = next(i for i, r in enumerate(rows) if r[0] == "2210201")
    rows[row] = [""] + rows[row][:-1]
    message = _refused(ledger, write_pdf(with_block(spec, index, dataclasses.replace(table, rows=rows))),
                       "shifted.pdf")
    assert re.search(r"\[第\d+页[^]]*\]\[表五\]", message), message


def test_a_table_printed_in_wan_instead_of_yuan_is_refused(ledger, original):
    tables = original["tables"]["budget-9-yuan-unit"]
    title = tables[2].title  # 单位支出总表
    lines = original["text"]["budget-9-yuan-unit"].split("\n")
    at = lines.index(title) + 2
    assert lines[at] == "单位：元"
    lines[at] = "单位：万元"
    message = _refused(ledger, "\n".join(lines).encode(), "wan.txt")
    assert f"[第{at + 1}行][表三] 金额单位应为元, 文件写的是「万元」" in message, message
    spec = original["spec"]["budget-9-yuan-unit"]
    index, table = _spec_table(spec, title)
    message = _refused(ledger, write_pdf(with_block(spec, index, dataclasses.replace(table, unit="单位：万元"))),
                       "wan.pdf")
    assert "金额单位应为元" in message and re.search(r"\[第\d+页[^]]*\]\[表三\]", message), message


def test_a_cell_one_fen_off_is_refused_since_yuan_with_fen_is_exact(ledger, original):
    tables = original["tables"]["budget-9-yuan"]
    lines = original["text"]["budget-9-yuan"].split("\n")
    title = tables[2].title  # 部门支出总表: a sum of 表五's leaves
    at = next(i for i in range(lines.index(title), len(lines)) if lines[i].startswith("2210201\t"))
    cells = lines[at].split("\t")
    printed = Decimal(cells[2].replace(",", ""))
    cells[2] = f"{printed + Decimal('0.01'):,.2f}"
    lines[at] = "\t".join(cells)
    message = _refused(ledger, "\n".join(lines).encode(), "fen.txt")
    assert "超出尾差 (±0元)" in message and f"表三 第{at + 1}行第3列 2210201 住房公积金 合计 {cells[2].replace(',', '')}" in message, \
        message


def test_a_document_of_no_layout_is_refused_listing_the_titles_it_prints(ledger, original):
    text = original["text"]["budget-9-yuan"]
    for table in original["tables"]["budget-9-yuan"]:
        text = text.replace(table.title, table.title.replace("2024年", "2024年某某"))
    message = _refused(ledger, text.encode(), "unknown.txt")
    assert "文件的表格不属于任何已知的布局" in message
    assert "《2024年某某部门收支总表》" in message and "《2024年某某国有资本经营预算支出表》" in message


def test_a_9_table_document_that_calls_itself_部门预算公开_is_read_by_its_titles(ledger, original):
    """The seed's line reader takes a text whose head says 部门预算公开, unless its tables'
    titles are another layout's: the layout is found from the titles."""
    text = original["text"]["budget-9-yuan"].replace("2024年部门预算\n", "2024年度部门预算公开\n", 1)
    assert "2024年度部门预算公开" in text[:200]
    result = ledger.import_document(text.encode(), "公开.txt")
    assert result.plan.layout == "budget-9-yuan"
    assert "按「部门预算（9张表，元）」布局读取 (9 张表)" in result.notes


def test_an_audit_of_a_9_table_document_checks_its_sums_by_the_imports_solve(original):
    """Nothing recorded: the audit reads the document by its layout and runs the import's solve;
    the document the events print has no 错误, the copy one 分 off has that cell's."""
    path = _file("budget-9-yuan", "txt")
    clean = Ledger.audit_document(path.read_bytes(), path.name)
    assert clean.layout == "budget-9-yuan" and clean.counts.get("错误", 0) == 0
    lines = original["text"]["budget-9-yuan"].split("\n")
    at = next(i for i in range(lines.index(original["tables"]["budget-9-yuan"][2].title), len(lines))
              if lines[i].startswith("2210201\t"))
    cells = lines[at].split("\t")
    cells[2] = f"{Decimal(cells[2].replace(',', '')) + Decimal('0.01'):,.2f}"
    lines[at] = "\t".join(cells)
    broken = Ledger.audit_document("\n".join(lines).encode(), "fen.txt")
    errors = [f for f in broken.findings if f.severity == "错误"]
    assert [f.rule for f in errors] == ["table.detail_sum"]
    assert f"表三 第{at + 1}行第3列 2210201 住房公积金" in errors[0].message


def test_a_department_document_missing_the_tables_its_unit_variant_differs_in_is_read_as_a_department_one(
        ledger, original):
    """Tables 4–9 are the same in both 元 layouts: a 部门 document without its 表一–表三 ties the two,
    and the 部门 layout (before its unit variant) names what is missing."""
    tables = original["tables"]["budget-9-yuan"]
    text = original["text"]["budget-9-yuan"]
    for table in tables[:3]:
        text = _text_without(text, table.title)
    message = _refused(ledger, text.encode(), "no-1-3.txt")
    assert f"缺少表一《{tables[0].title}》(按布局「部门预算（9张表，元）」" in message, message
