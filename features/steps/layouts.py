"""Steps about the budget layouts as data: the reference budget's events printed in the 9 tables
in 元 (部门 and 单位), documents written from those events (text and PDF) imported into an empty
ledger, and what it then prints. The documents are written at scenario time from the events of
a scratch ledger that imported the reference document (devtools/layout_corpus.documents); the
ledger under test is the scenario's own."""

from __future__ import annotations

import re
import tempfile
from decimal import Decimal
from functools import cache

from pytest_bdd import then, when

from ledger.application.ledger import Ledger
from ledger.devtools.layout_corpus import LAYOUTS, documents
from ledger.domain.postings import matches
from ledger.ingest.budget_layout import UNLISTED
from ledger.tables.layouts import MoneyFormat, layouts

from pdf_support import printed_pdf, printed_text, trim

from .budget import DEPARTMENT, SEED, YEAR, Story
from .documents import _import
from .tables import _document_rows
from .vocabulary import step

WAN = MoneyFormat()
# 九张表 table → (十三张表 table, the 13-table cell of a 9-table cell (row key, column key))
SAME = {
    1: (1, lambda row, col: (row, "total" if row.startswith("1/") else col)),
    3: (3, lambda row, col: (row, col)),
    5: (5, lambda row, col: (row, col)),
    6: (6, lambda row, col: (row, col)),
    7: (10, lambda row, col: (f"0/{col}", "general")),
    8: (8, lambda row, col: (row, col)),
    9: (9, lambda row, col: ("1/" + row.split("/", 1)[1], col)),
}


def _layout_id(name: str) -> str:
    return next(lay.id for lay in layouts() if lay.name == name)


@cache
def _written() -> dict[tuple[str, str], bytes]:
    """(layout, 文本|PDF) → the document the reference budget's events print in it."""
    with tempfile.TemporaryDirectory() as tmp, Ledger(f"sqlite:///{tmp}/writer.db") as writer:
        writer.import_document(SEED.read_bytes(), SEED.name)
        return {(lay, "PDF" if name.endswith(".pdf") else "文本"): data for lay, name, data in documents(writer)
                if name.rsplit(".", 1)[0] == LAYOUTS[lay]}  # (not the whole-元 copies)


def _grid(data: bytes, kind: str, titles: list[str]) -> dict[str, list[list[str]]]:
    """Each table's rows as the document prints them (its lines, or the PDF's grid), by title:
    read without the importer's layout layer (tests/pdf_support.py)."""
    return (printed_text if kind == "文本" else printed_pdf)(data, titles)


@then(step("九张表「{name:L}」的金额以元印出, 保留两位小数, 千分位分隔, 零印为空"))
def _(story: Story, name: str):
    lay_id = _layout_id(name)
    tables = story.ledger.tables(DEPARTMENT, YEAR, layout_id=lay_id)
    assert len(tables) == 9 and all(t.unit == "元" for t in tables)
    definitions = next(lay for lay in layouts() if lay.id == lay_id)
    printed = []
    for t in tables:
        for r in t.rows:
            amounts, offset = list(r.amounts), 0
            for panel, (_index, key) in zip(definitions.table(t.number).panels, r.keys, strict=True):
                if key is not None:
                    texts = r.cells[offset + panel.label_width: offset + panel.width]
                    printed += [(text, amounts.pop(0)[2]) for text in texts]
                offset += panel.width
    assert len(printed) > 300
    for text, amount in printed:
        if amount == 0:
            assert text == ""
        else:
            assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", text) and Decimal(text.replace(",", "")) == amount, text
    assert any("," in text for text, _ in printed)


@then("九张表的表一、表三、表五至表九与十三张表相应各表逐格相同 (元换算为万元后)")
def _(story: Story):
    nine = {t.number: t for t in story.ledger.tables(DEPARTMENT, YEAR, layout_id="budget-9-yuan")}
    thirteen = {t.number: t for t in story.ledger.tables(DEPARTMENT, YEAR)}
    compared = 0
    for number, (other, cell_of) in SAME.items():
        cells = {(row, col): amount for r in thirteen[other].rows for row, col, amount in r.amounts}
        for r in nine[number].rows:
            for row, col, amount in r.amounts:
                key = cell_of(row, col)
                assert key in cells or amount == 0, f"九张表表{number} {row} {col}: 十三张表表{other}没有 {key}"
                assert WAN.text(amount) == WAN.text(cells.get(key, Decimal(0))), (number, row, col)
                compared += bool(amount)
    assert compared > 100


@when(step("导入由事件写出的「{name:L}」文件 ({kind})"))
def _(story: Story, name: str, kind: str):
    lay_id = _layout_id(name)
    story.marks["layout"], story.marks["kind"] = lay_id, kind
    story.marks["data"] = _written()[(lay_id, kind)]
    _import(story, story.marks["data"], f"{LAYOUTS[lay_id]}.{'pdf' if kind == 'PDF' else 'txt'}")
    assert story.refusal is None, story.refusal


@when(step("导入由事件写出的「{name:L}」文件 (文本)，其中{table:T}「{code}」的「{column:L}」多印一分"))
def _(story: Story, name: str, table: str, code: str, column: str):
    lay_id = _layout_id(name)
    number = "一二三四五六七八九".index(table[1:]) + 1
    definition = next(lay for lay in layouts() if lay.id == lay_id).table(number)
    title = definition.title_for(YEAR)
    index = definition.panels[0].label_width + [c.label for c in definition.panels[0].columns].index(column)
    lines = _written()[(lay_id, "文本")].decode("utf-8").split("\n")
    at = next(i for i in range(lines.index(title), len(lines)) if lines[i].startswith(code + "\t"))
    cells = lines[at].split("\t")
    cells[index] = f"{Decimal(cells[index].replace(',', '')) + Decimal('0.01'):,.2f}"
    lines[at] = "\t".join(cells)
    _import(story, "\n".join(lines).encode("utf-8"), "多印一分.txt")


@then("重建的九张表与该文件逐格一致")
def _(story: Story):
    tables = story.ledger.tables(DEPARTMENT, YEAR, layout_id=story.marks["layout"])
    grid = _grid(story.marks["data"], story.marks["kind"], [t.title for t in tables])
    assert sorted(grid) == sorted(t.title for t in tables)
    for table in tables:
        rows = [trim(r.cells) for r in table.rows if any(c.strip() for c in r.cells)]
        printed = grid[table.title]
        if story.marks["kind"] == "文本":
            assert printed == [trim(h) for h in table.header] + rows, table.title
        else:  # the PDF's header is merged cells: the data rows, every cell
            assert printed[len(printed) - len(rows):] == rows, table.title


@then("重建的十三张表除表十二外与公开文件逐行一致")
def _(story: Story):
    tables = story.ledger.tables(DEPARTMENT, YEAR)
    expected = _document_rows([t.title for t in tables])
    for table in tables:
        if table.number != 12:
            produced = [r.trimmed() for r in table.rows if any(a for _k, _c, a in r.amounts)]
            assert produced == expected[table.title], f"{table.name}《{table.title}》与公开文件不一致"


@then("表十二只列一个「未列明的项目支出」, 其各列等于表三项目支出按来源之和, 精确到分")
def _(story: Story):
    table = story.ledger.tables(DEPARTMENT, YEAR, number=12)[0]
    projects = [key for r in table.rows for _panel, key in r.keys if key and key.startswith("0/project:")]
    assert projects == [f"0/project:{UNLISTED}"]
    sums = story.ledger.leaf_sums(DEPARTMENT, YEAR)
    for source in ("general", "government_fund", "state_capital", "special_account", "unit_funds"):
        by_code = sum((a for d, a in sums.items()
                       if matches(dict(d), {"measure": "budget", "kind": "project", "code": True, "source": source,
                                            "period": "current"})), Decimal(0))
        cell = next((a for r in table.rows for row, col, a in r.amounts
                     if row == f"0/project:{UNLISTED}" and col == source), Decimal(0))
        assert cell == by_code, (source, cell, by_code)


@then("由事件计算, 单位财务收支总表的 人员经费 + 公用经费 + 项目支出 = 支出总计, 精确到分")
def _(story: Story):
    table = story.ledger.tables(DEPARTMENT, YEAR, number=1, layout_id="budget-9-yuan-unit")[0]
    cells = {row: amount for r in table.rows for row, _col, amount in r.amounts}
    parts = cells["1/personnel"] + cells["1/operating"] + cells["1/project"]
    assert parts == cells["1/expenditure_total"] > 0, (parts, cells["1/expenditure_total"])
    assert cells["1/personnel"] > 0 and cells["1/operating"] > 0 and cells["1/project"] > 0


@then(step("每笔预算记录都带有单位「{unit:L}」"))
def _(story: Story, unit: str):
    sums = story.ledger.leaf_sums(DEPARTMENT, YEAR)
    budget = [dict(d) for d, a in sums.items() if dict(d).get("measure") == "budget" and a]
    assert budget and all(d.get("unit") == unit for d in budget), [d for d in budget if d.get("unit") != unit][:3]
