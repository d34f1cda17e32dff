"""Exports cannot carry a formula (OWASP "CSV injection"): names from an imported document that
start with = + - @ reach the CSV as quoted text and the XLSX as text cells, while amounts stay
numbers, a reduction (-2.00) included. Reasons and publication names reach no export."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from urllib.parse import quote

import openpyxl

from ledger.http.downloads import to_xlsx
from ledger.tables import formats
from ledger.tables.definitions import load_tables
from ledger.tables.render import Context, render

from .api_support import DEPARTMENT, SEED, YEAR, bearer, upload

HOSTILE_DEPARTMENT = "=1+2长治市住房公积金管理中心"
HOSTILE_PROJECTS = {"业务费": "@SUM(1+1)业务费", "等保测评费": "+1等保测评费", "网络租赁费": "-1+1网络租赁费"}
FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def hostile_document() -> bytes:
    text = SEED.read_text(encoding="utf-8").replace(DEPARTMENT, HOSTILE_DEPARTMENT)
    for name, hostile in HOSTILE_PROJECTS.items():
        text = text.replace(name, hostile)
    return text.encode("utf-8")


def test_names_that_look_like_formulas_are_text_in_csv_and_xlsx(client, tokens):
    imported = upload(client, tokens["admin"], hostile_document(), name="hostile.txt")
    assert imported.status_code == 201, imported.text
    assert imported.json()["department"] == HOSTILE_DEPARTMENT
    budget = f"/api/budgets/{quote(HOSTILE_DEPARTMENT)}/{YEAR}"
    # A reason and a publication name like formulas: recorded, but in no table export.
    client.post(f"{budget}/publications", headers=bearer(tokens["officer"]), json={"name": "=HYPERLINK(1)",
                                                                                   "reason": "@SUM(1)"})
    tables = client.get(f"{budget}/tables").json()["tables"]
    names = [HOSTILE_DEPARTMENT, *HOSTILE_PROJECTS.values()]
    printed = {cell for t in tables for r in t["rows"] for cell in r["cells"]}
    assert set(names) <= printed  # the names reach the tables as they are (表十二)

    text = client.get(f"{budget}/tables", params={"format": "csv"}).content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    for name in names:
        assert "'" + name in cells and name not in cells
    unsafe = [c for c in cells if c.startswith(FORMULA) and not NUMBER.fullmatch(c)]
    assert unsafe == []
    assert "=HYPERLINK(1)" not in text and "@SUM(1)\n" not in text

    data = client.get(f"{budget}/tables", params={"format": "xlsx"}).content
    book = openpyxl.load_workbook(io.BytesIO(data))
    found = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    if cell.value.startswith(FORMULA):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                        found.add(cell.value)
                elif cell.value is not None:
                    assert cell.data_type == "n"  # amounts are numbers
    assert found == set(names)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in xml or "<f " in xml for xml in sheets)


def test_a_negative_amount_stays_a_number_and_tab_or_cr_names_are_quoted():
    three = next(t for t in load_tables() if t.number == 3)
    twelve = next(t for t in load_tables() if t.number == 12)
    ctx = Context(DEPARTMENT, YEAR, [DEPARTMENT], [("\t=1+1", DEPARTMENT), ("\r@SUM(1)", DEPARTMENT)])
    reduced = render(three, {("0/code:2210399", "basic"): Decimal("-20000.00"),
                             ("0/code:2210399", "total"): Decimal("-20000.00")}, ctx)
    projects = render(twelve, {(f"0/unit:{DEPARTMENT}", "total"): Decimal("200.00"),
                               ("0/project:\t=1+1", "total"): Decimal("100.00"),
                               ("0/project:\r@SUM(1)", "total"): Decimal("100.00")}, ctx)
    cells = [c for row in csv.reader(io.StringIO(formats.to_csv([reduced, projects]), newline="")) for c in row]
    assert "-2.00" in cells  # a reduction as printed: a number to a spreadsheet, left as it is
    assert "'\t=1+1" in cells and "'\r@SUM(1)" in cells
    assert [c for c in cells if c.startswith(FORMULA) and not NUMBER.fullmatch(c)] == []

    book = openpyxl.load_workbook(io.BytesIO(to_xlsx([reduced, projects], DEPARTMENT)))
    values = [cell for row in book["表三"].iter_rows() for cell in row if cell.value is not None]
    negative = [cell for cell in values if not isinstance(cell.value, str) and cell.value < 0]
    assert negative and all(cell.data_type == "n" and f"{cell.value:.2f}" == "-2.00" for cell in negative)
    names = {cell.value: cell for row in book["表十二"].iter_rows() for cell in row if isinstance(cell.value, str)}
    # (XML reads a carriage return back as a line feed.)
    assert all(names[n].quotePrefix and names[n].data_type == "s" for n in ("\t=1+1", "\n@SUM(1)"))
