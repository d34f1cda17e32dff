"""The reader takes a page's characters and ruling lines from PDFium; before, pdfminer's
interpretation gave them (and still does for a page whose text PDFium's text page leaves
short). On the real documents of tests/corpus/, page by page, the two must agree: the same
characters with the same boxes, baselines and sizes, and the same table cells."""

from __future__ import annotations

import time

import pypdfium2
import pytest
from pdf_support import DOCTORED, HOSTILE, ORIGINAL

from ledger.ingest import pdf as reader

SHIFTED = HOSTILE / "column-shifted.pdf"
LINES = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


def _key(c: reader._Char) -> tuple[int, float]:
    return round(c.base), c.x0


@pytest.mark.parametrize("path", [ORIGINAL, DOCTORED, SHIFTED], ids=lambda p: p.name)
def test_pdfium_reads_each_page_as_pdfminer_did(path):
    data = path.read_bytes()
    structure = reader._open(data)
    pages = reader._pages(structure, reader.PdfLimits())
    pdf = pypdfium2.PdfDocument(data)
    limits, deadline = reader.PdfLimits(), time.monotonic() + 60
    try:
        assert len(pdf) == len(pages)
        tables = 0
        for number, page_obj in pages:
            view = reader._View(page_obj)
            page = pdf[number - 1]
            text = page.get_textpage()
            drawn = reader._Drawing(view, limits, deadline)
            drawn.walk(page.raw)
            ours = sorted(reader._unique(c for c in reader._chars(text.raw, view, limits, deadline)
                                         if reader._on_page(c, view)), key=_key)
            text.close()
            page.close()
            theirs = sorted(reader._unique(c for c in reader._pdfminer_chars(structure, page_obj, number, limits, deadline)
                                           if reader._on_page(c, view)), key=_key)
            assert [c.text for c in ours] == [c.text for c in theirs], f"page {number}"
            for a, b in zip(ours, theirs):
                assert abs(a.x0 - b.x0) < 0.01 and abs(a.x1 - b.x1) < 0.01, (number, a, b)
                assert abs(a.top - b.top) < 0.01 and abs(a.bottom - b.bottom) < 0.01, (number, a, b)
                assert abs(a.base - b.base) < 0.01 and abs(a.size - b.size) < 0.01, (number, a, b)
            plumber = reader.pdfplumber.page.Page(structure, page_obj, page_number=number)
            found = [t for t in plumber.find_tables(LINES) if len(t.cells) >= 2]
            assert bool(drawn.segments) == bool(plumber.edges), f"page {number}"
            mine = reader._tables(drawn.edges)
            assert len(mine) == len(found), f"page {number}"
            for ours_table, their_table in zip(sorted(mine, key=lambda t: t.bbox[1]), sorted(found, key=lambda t: t.bbox[1])):
                assert len(ours_table.cells) == len(their_table.cells)
                for a, b in zip(sorted(ours_table.cells), sorted(their_table.cells)):
                    assert max(abs(x - y) for x, y in zip(a, b)) < 1.0, (number, a, b)
            tables += len(found)
            plumber.close()
        assert tables >= 1
    finally:
        pdf.close()
        structure.stream.close()
