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


def _turned_page() -> bytes:
    """A page turned by /Rotate 90 (reportlab writes its mediabox 842 x 595: it displays 595 wide),
    its content drawn turned the other way so that it displays upright: three lines of text and
    a ruled table of two rows under them, as displayed."""
    import io

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(595, 842), invariant=1)
    c.setPageRotation(90)
    c.rotate(90)  # drawing as displayed (the page turns a quarter clockwise)
    c.translate(0, -595)
    c.setFont("STSong-Light", 12)
    for k, line in enumerate(["第一行：说明", "第二行：收入", "第三行：支出"]):
        c.drawString(72, 595 - 100 - 20 * k, line)
    xs, ys = [72, 200, 320], [595 - 200, 595 - 220, 595 - 240]
    for x in xs:
        c.line(x, ys[0], x, ys[-1])
    for y in ys:
        c.line(xs[0], y, xs[-1], y)
    c.drawString(76, 595 - 215, "项目")
    c.drawString(204, 595 - 215, "金额")
    c.drawString(76, 595 - 235, "行政运行")
    c.drawString(204, 595 - 235, "1,511.89")
    c.showPage()
    c.save()
    return out.getvalue()


def test_a_page_turned_by_rotate_reads_as_it_displays():
    data = _turned_page()
    assert b"/Rotate 90" in data
    document = reader.read_pdf(data, "turned.pdf")
    assert [b.text for b in document.lines()] == ["第一行：说明", "第二行：收入", "第三行：支出"]
    (table,) = document.tables()
    assert [r.texts for r in table.rows] == [["项目", "金额"], ["行政运行", "1,511.89"]]
    line = next(document.lines())
    assert abs(line.location.box.x0 - 72) < 0.5 and 88 < line.location.box.top < 100  # as displayed
    # and as pdfminer read it
    structure = reader._open(data)
    ((number, page_obj),) = reader._pages(structure, reader.PdfLimits())
    view = reader._View(page_obj)
    assert (view.width, view.height) == (595, 842) == (page_obj.mediabox[3], page_obj.mediabox[2])
    pdf = pypdfium2.PdfDocument(data)
    page = pdf[0]
    text = page.get_textpage()
    ours = sorted(reader._chars(text.raw, view, reader.PdfLimits(), time.monotonic() + 10), key=_key)
    text.close()
    page.close()
    pdf.close()
    theirs = sorted((c for c in reader._pdfminer_chars(structure, page_obj, 1, reader.PdfLimits(), time.monotonic() + 10)
                     if c.text.strip()), key=_key)
    assert [c.text for c in ours] == [c.text for c in theirs]
    for a, b in zip(ours, theirs):
        assert max(abs(a.x0 - b.x0), abs(a.x1 - b.x1), abs(a.top - b.top), abs(a.base - b.base)) < 0.01, (a, b)


WITHOUT_FONTS = r"""
import json, sys, tempfile
from ledger.devtools.pdfium_fonts import restart_pdfium
restart_pdfium([tempfile.mkdtemp()])  # no stand-in font for STSong-Light, which reportlab does not embed
sys.path.insert(0, sys.argv[1])
import time
import pypdfium2
import test_pdf_reader as drawn
from ledger.ingest import pdf as reader

by_pdfminer = []
pdfminer_chars = reader._pdfminer_chars
reader._pdfminer_chars = lambda *args, **kwargs: (by_pdfminer.append(args[2]), pdfminer_chars(*args, **kwargs))[1]


def sentence(c, _):
    drawn.sentence(c, 700, drawn.RUNS)


def prose(c, _):
    c.setFont(drawn.FONT, 12)
    for k in range(3):
        c.drawString(72, 760 - 18 * k, "这是一行没有表格线的正文，" * 3)


out = {}
for name, draw in (("sentence", sentence), ("prose", prose)):
    data = drawn.pdf(draw)
    by_pdfminer.clear()
    document = reader.read_pdf(data, name)
    pdf = pypdfium2.PdfDocument(data)
    page = pdf[0]
    text = page.get_textpage()
    view = reader._View(reader._pages(reader._open(data), reader.PdfLimits())[0][1])
    pdfium_alone = "".join(c.text for c in reader._chars(text.raw, view, reader.PdfLimits(), time.monotonic() + 10))
    out[name] = {"lines": [b.text for b in document.lines()], "by_pdfminer": list(by_pdfminer), "pdfium_alone": pdfium_alone}
print(json.dumps(out, ensure_ascii=False))
"""


def test_without_a_stand_in_font_such_pages_are_read_by_pdfminer():
    """On a machine without a CJK font, PDFium's text page drops a lone 「。」 in the not
    embedded STSong-Light (its glyph has no box, its object no width) and takes identical lines
    for overprinted copies; those pages are read by pdfminer, and read whole."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    env = {"PYTHONPATH": str(tests.parent / "src"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", WITHOUT_FONTS, str(tests)], check=True, capture_output=True,
                         text=True, env=env, timeout=120)
    found = json.loads(out.stdout)
    from test_pdf_reader import RUNS

    sentence = "".join(r for r, _ in RUNS)
    assert found["sentence"]["lines"] == [sentence] and found["sentence"]["by_pdfminer"] == [1]
    assert found["sentence"]["pdfium_alone"] == sentence[:-1]  # the 「。」 PDFium alone misses
    line = "这是一行没有表格线的正文，" * 3
    assert found["prose"]["lines"] == [line] * 3 and found["prose"]["by_pdfminer"] == [1]
    assert found["prose"]["pdfium_alone"] == line  # one of three
