"""The PDF reader on pages drawn for one point each (with reportlab's canvas): figures set a
little off the baseline of their sentence, text beside a table, a running header, a page of
text without lines. What is drawn is the expectation."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from ledger.ingest.pdf import read_pdf
from ledger.ingest.source import Table, TextLine

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def pdf(draw, pages: int = 1) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, invariant=1)
    for n in range(pages):
        draw(c, n + 1)
        c.showPage()
    c.save()
    return out.getvalue()


def sentence(c: canvas.Canvas, y: float, parts: list[tuple[str, float]], x: float = 72, moved: bool = False) -> None:
    """Draw runs of text on one line, each run `rise` points above the line: by the text rise
    operator (the text matrix keeps the line's baseline), or moved (its own text position)."""
    text = c.beginText(x, y)
    for run, rise in parts:
        font = "Times-Roman" if run[0].isdigit() else FONT
        if moved:
            c.setFont(font, 12)
            c.drawString(x, y + rise, run)
            x += pdfmetrics.stringWidth(run, font, 12)
            continue
        text.setFont(font, 12)
        text.setRise(rise)
        text.textOut(run)
    if not moved:
        c.drawText(text)


RUNS = [("机关运行经费支出", 0), ("184.65", -2.5), ("万元，比", 0), ("2023", 1.5), ("年度增加", 0), ("2.55", -2.5),
        ("万元，增长", 0), ("1.40%", -2.5), ("。", 0)]


@pytest.mark.parametrize("moved", [False, True], ids=["text-rise", "own-position"])
@pytest.mark.parametrize("leading", [14.0, 18.0])
def test_figures_off_the_baseline_stay_in_their_sentence(leading, moved):
    def draw(c, _):
        sentence(c, 700, RUNS, moved=moved)
        sentence(c, 700 - leading, [("下一行的文字，没有数字。", 0)], moved=moved)
        sentence(c, 700 - 2 * leading, [("再下一行", 0), ("3", 2.0), ("个。", 0)], moved=moved)

    document = read_pdf(pdf(draw), "rise.pdf")
    assert [b.text for b in document.lines()] == ["".join(r for r, _ in RUNS), "下一行的文字，没有数字。", "再下一行3个。"]


def test_text_outside_the_cells_is_reported_as_a_stray_of_its_row():
    def draw(c, _):
        c.setFont(FONT, 10)
        xs, ys = [100, 200, 300], [700, 680, 660, 640]
        for x in xs[:2]:
            c.line(x, ys[0], x, ys[-1])
        c.line(xs[2], ys[0], xs[2], ys[2])  # the last row's right cell is left open
        for y in ys:
            c.line(xs[0], y, xs[-1], y)
        c.drawString(105, 686, "项目")
        c.drawString(205, 686, "金额")
        c.drawString(105, 666, "行政运行")
        c.drawString(205, 666, "1,511.89")
        c.drawString(310, 666, "8.37")  # one column too far: beside the ruled grid
        c.drawString(105, 646, "公务接待费")
        c.drawString(205, 646, "0.95")  # inside the table's box, in no cell
        c.drawString(72, 600, "表后的文字。")

    document = read_pdf(pdf(draw), "stray.pdf")
    (table,) = document.tables()
    assert [r.texts for r in table.rows] == [["项目", "金额"], ["行政运行", "1,511.89"], ["公务接待费"]]
    assert sorted((s.line.text, s.row) for s in table.strays) == [("0.95", 2), ("8.37", 1)]
    assert [b.text for b in document.lines()] == ["表后的文字。"]


def test_a_running_header_and_page_numbers_are_furniture():
    def draw(c, n):
        c.setFont(FONT, 9)
        c.drawString(72, 800, "上海市普陀区财政局2024年度部门决算")
        c.setFont(FONT, 12)
        c.drawString(72, 700, f"第{n}页的正文。")
        c.drawCentredString(297, 30, f"{n}")

    document = read_pdf(pdf(draw, pages=4), "header.pdf")
    furniture = [b.text for b in document.blocks if isinstance(b, TextLine) and b.furniture]
    assert furniture == [t for n in range(1, 5) for t in ("上海市普陀区财政局2024年度部门决算", str(n))]
    assert document.flow().paragraphs() == [f"第{n}页的正文。" for n in range(1, 5)]


def test_a_lone_number_in_the_body_is_not_furniture():
    def draw(c, _):
        c.setFont(FONT, 12)
        c.drawString(72, 700, "序号")
        c.drawString(72, 680, "3")

    document = read_pdf(pdf(draw), "body-number.pdf")
    assert [b.text for b in document.lines()] == ["序号", "3"]


def test_a_page_with_only_text_has_no_table():
    def draw(c, _):
        c.setFont(FONT, 12)
        for k in range(30):
            c.drawString(72, 760 - 18 * k, "这是一行没有表格线的正文，" * 3)

    document = read_pdf(pdf(draw), "prose.pdf")
    assert not [b for b in document.blocks if isinstance(b, Table)]
    assert len(list(document.lines())) == 30
