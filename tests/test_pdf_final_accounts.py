"""The 2024 决算 of 上海市普陀区财政局 read from its PDF, checked against the page itself.

Expectations are computed at test time from pdfplumber's own view of each page (its words,
its ruling lines, its extract_text), not from the reader's structure and not copied from the
document: every amount printed inside a table lands in exactly one cell, that cell is the box
the ruling lines draw around it, its row holds the words of that band, a header cell stands
above it; the tables' titles are found in the order of the table of contents; the narrative
reads as sentences with their figures in place. The doctored copy (re-typeset by another
producer: other fonts, line breaks, positions) must read as well as the original.
"""

from __future__ import annotations

import re

import pdfplumber
import pytest
from pdf_support import AMOUNT, DOCTORED, ORIGINAL, contents_titles, printed_titles, read

from ledger.ingest.source import Cell, Table

DOCUMENTS = [ORIGINAL, DOCTORED]
IDS = ["original", "doctored"]


@pytest.fixture(scope="module", params=DOCUMENTS, ids=IDS)
def corpus(request):
    path = request.param
    with pdfplumber.open(path) as pdf:
        pages = {p.page_number: {"words": p.extract_words(), "edges": p.edges, "text": p.extract_text() or "",
                                 "page": p} for p in pdf.pages}
        yield path, read(path), pages


def _inside(box, x: float, y: float) -> bool:
    return box.x0 <= x <= box.x1 and box.top <= y <= box.bottom


def _center(word: dict) -> tuple[float, float]:
    return (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2


def _rule_around(edges: list[dict], x: float, y: float) -> tuple[float, float, float, float]:
    """The nearest ruling lines around a point: left, top, right, bottom."""
    horizontal = [e for e in edges if e["orientation"] == "h" and e["x0"] - 1 <= x <= e["x1"] + 1]
    vertical = [e for e in edges if e["orientation"] == "v" and e["top"] - 1 <= y <= e["bottom"] + 1]
    top = max(e["top"] for e in horizontal if e["top"] < y)
    bottom = min(e["top"] for e in horizontal if e["top"] > y)
    left = max(e["x0"] for e in vertical if e["x0"] < x)
    right = min(e["x0"] for e in vertical if e["x0"] > x)
    return left, top, right, bottom


def _cells(table: Table) -> list[Cell]:
    return [c for row in table.rows for c in row.cells]


def test_every_amount_lands_in_one_cell_of_its_ruled_box(corpus):
    _, document, pages = corpus
    checked = 0
    for table in document.page_tables():
        page = pages[table.location.page]
        box = table.location.box
        for word in page["words"]:
            if not AMOUNT.match(word["text"]):
                continue
            x, y = _center(word)
            if not _inside(box, x, y):
                continue
            holding = [c for c in _cells(table) if _inside(c.location.box, x, y)]
            assert len(holding) == 1, f"page {table.location.page}: {word['text']} in {len(holding)} cells"
            cell = holding[0]
            assert cell.text == word["text"]
            left, top, right, bottom = _rule_around(page["edges"], x, y)
            assert cell.location.box.x0 == pytest.approx(left, abs=2)
            assert cell.location.box.x1 == pytest.approx(right, abs=2)
            assert cell.location.box.top == pytest.approx(top, abs=2)
            assert cell.location.box.bottom == pytest.approx(bottom, abs=2)
            # Its row holds the words of its band (the label, the codes, the other figures).
            for other in page["words"]:
                ox, oy = _center(other)
                if top < oy < bottom and box.x0 < ox < box.x1:
                    mates = [c for c in _cells(table) if _inside(c.location.box, ox, oy)]
                    assert mates and any(cell.row in m.rows for m in mates), (other["text"], word["text"])
            checked += 1
    assert checked >= 100


def test_no_amount_is_lost_or_doubled(corpus):
    _, document, pages = corpus
    for number, page in pages.items():
        tables = [t for t in document.page_tables() if t.location.page == number]
        printed = sorted(w["text"] for w in page["words"] if AMOUNT.match(w["text"])
                         and any(_inside(t.location.box, *_center(w)) for t in tables))
        celled = sorted(c.text for t in tables for c in _cells(t) if AMOUNT.match(c.text))
        assert celled == printed, f"page {number}"


def _header_rows(table: Table) -> int:
    """Rows above the first that holds an amount (all of them for a table without any)."""
    return next((i for i, row in enumerate(table.rows) if any(AMOUNT.match(c.text) for c in row.cells)), len(table.rows))


def test_every_amount_has_a_header_above_it(corpus):
    _, document, _ = corpus
    checked = 0
    for table in document.tables():
        header = [c for row in table.rows[:_header_rows(table)] for c in row.cells if c.text]
        for row in table.rows[_header_rows(table):]:
            for cell in row.cells:
                if not AMOUNT.match(cell.text):
                    continue
                x = cell.location.box.center[0]
                above = [h for h in header if h.location.box.x0 <= x <= h.location.box.x1
                         and set(h.columns) & set(cell.columns)]
                assert above, f"{cell.text} on page {cell.location.page}: no header above it"
                checked += 1
    assert checked >= 100


def test_a_figure_printed_a_line_off_its_label_is_in_the_labels_row():
    """In the original's 支出决算表, pdftotext puts 2,336.91 a line above its row: figures stand
    higher or lower than their labels. Each is in the row of the label of its ruled band."""
    document = read(ORIGINAL)
    moved = 0
    with pdfplumber.open(ORIGINAL) as pdf:
        for table in document.page_tables():
            words = pdf.pages[table.location.page - 1].extract_words()
            for row in table.rows:
                label = next((c for c in row.cells if c.text and not AMOUNT.match(c.text) and not c.text.isdigit()), None)
                if label is None:
                    continue
                label_tops = [w["top"] for w in words if _inside(label.location.box, *_center(w))]
                for cell in row.cells:
                    if AMOUNT.match(cell.text):
                        word = next(w for w in words if w["text"] == cell.text and _inside(cell.location.box, *_center(w)))
                        moved += all(abs(top - word["top"]) > 3 for top in label_tops)
    assert moved >= 10


def test_cells_printed_on_several_lines_read_as_one_text(corpus):
    """A label that wraps inside its cell (「机关事业单位基本养老保险缴」「费支出」) is one text,
    its lines in order; pdfplumber's words in the cell's box, top to bottom, are its pieces."""
    _, document, pages = corpus
    wrapped = 0
    for table in document.page_tables():
        words = pages[table.location.page]["words"]
        for cell in (c for row in table.rows for c in row.cells):
            inside = sorted((w for w in words if _inside(cell.location.box, *_center(w))), key=lambda w: (w["top"], w["x0"]))
            if len(inside) > 1 and max(w["top"] for w in inside) - min(w["top"] for w in inside) > 3:
                assert cell.text == "".join(w["text"] for w in inside)
                wrapped += 1
    assert wrapped >= 5


def _printed_lines(pages: dict, after: int) -> set[str]:
    out = set()
    for number, page in pages.items():
        if number > after:
            out |= {re.sub(r"[\s“”\"]", "", line) for line in page["text"].split("\n")}
    return out


def test_table_titles_in_the_order_of_the_contents(corpus):
    path, document, pages = corpus
    listed = contents_titles(document)
    assert len(listed) == 9
    found = [title for title, _ in printed_titles(document, listed)]
    toc_page = max(b.location.page for b in document.lines() if b.text.startswith("第四部分") and b.location.page < 5)
    printed = _printed_lines(pages, toc_page)
    expected = [t for t in listed if re.sub(r"[“”\"]", "", t) in printed]
    assert found == expected
    if path == ORIGINAL:
        assert found == listed


def test_continued_tables_are_joined_with_their_pages(corpus):
    """A table at the top of a page, after a page that ends inside a table (by pdfplumber's own
    table finder and words), continues it; the joined table keeps each row's page."""
    path, document, pages = corpus
    with pdfplumber.open(path) as pdf:
        expected = set()
        for page in pdf.pages[1:]:
            tables = page.find_tables()
            previous = pdf.pages[page.page_number - 2]
            before = previous.find_tables()
            words = previous.extract_words()
            if not tables or not before or not words:
                continue
            last = max(words, key=lambda w: w["bottom"])
            ended_in_table = any(t.bbox[1] <= (last["top"] + last["bottom"]) / 2 <= t.bbox[3] for t in before)
            top = min(t.bbox[1] for t in tables)
            nothing_above = not [w for w in page.extract_words() if w["bottom"] <= top]
            if ended_in_table and nothing_above:
                expected.add(page.page_number)
    continued = {t.location.page for t in document.page_tables() if t.continues}
    assert continued == expected and expected
    for table in document.tables():
        if len(table.parts) > 1:
            assert table.pages() == list(range(table.pages()[0], table.pages()[0] + len(table.parts)))
            assert [r.location.page for r in table.rows] == sorted(r.location.page for r in table.rows)
            assert len(table.rows) == sum(len(p.rows) for p in table.parts)


def test_the_operating_cost_sentence_reads_with_its_figures(corpus):
    _, document, pages = corpus
    flow = document.flow()
    match = re.search(r"机关运行经费支出(\d[\d,.]*)万元，比(\d{4})年度增加(\d[\d,.]*)万元，增长(\d[\d,.]*)%", flow.text)
    assert match, "the sentence on 机关运行经费 is not in the flow with its figures"
    figures = list(match.groups())
    # The same figures, in the same order, are the numbers printed on the sentence's lines.
    places = flow.locate(match.start(), match.end())
    assert places
    printed = []
    for place in places:
        b = place.box
        text = pages[place.page]["page"].crop((b.x0 + 0.5, b.top, b.x1 - 0.5, b.bottom)).extract_text()
        printed += re.findall(r"\d[\d,.]*\d|\d", text)
    assert printed == figures
    # 184.65 stands where pdfplumber's words put it.
    start = match.start(1)
    where = flow.locate(start, start + len(figures[0]))[0]
    word = next(w for w in pages[where.page]["words"] if figures[0] in w["text"] and _inside(where.box, *_center(w)))
    assert word
    # and it is the 公用经费合计 of the 基本支出 table (机关运行经费 = 公用经费 of this agency).
    total = next(c for t in document.tables() for r in t.rows for c in r.cells if c.text == "公用经费合计")
    row = next(r for t in document.tables() for r in t.rows if total in r.cells)
    after = [c for c in row.cells if c.column > total.column]
    assert after[0].text == figures[0]


def test_no_sentence_lost_its_figures(corpus):
    """Naive extraction leaves 「支出 万元，比 年度增加 万元」 with the figures on another line."""
    _, document, _ = corpus
    text = document.flow().text
    for stub in ("支出 万元", "比 年度", "增长 。", " 万元，"):
        assert stub not in text


def test_narrative_lines_join_into_paragraphs(corpus):
    _, document, _ = corpus
    paragraphs = document.flow().paragraphs()
    lines = list(document.lines())
    assert len(paragraphs) < len(lines) * 0.7
    # a paragraph ends at a full stop, a colon, a semicolon or is a heading; none ends mid-word
    narrative = [p for p in paragraphs if len(p) > 60]
    assert narrative
    for paragraph in narrative:
        assert paragraph[-1] in "。：；）", paragraph[-30:]
