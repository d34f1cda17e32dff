"""Write a document in the look of a published disclosure, as PDF (reportlab): a title,
paragraphs of narrative, and ruled tables with merged header cells, a unit line
(「单位：万元」 or 「单位：元」) and rows that go on over as many pages as they need.

The text is set in reportlab's built-in CID font STSong-Light (no font file needed: the PDF
names the font and the reader's viewer supplies it). Figures can be set in another font, as
published documents do (`DocumentSpec.number_font`), so the reader's handling of mixed fonts
is exercised by our own documents too.

    write_pdf(DocumentSpec(title="…", blocks=(Paragraph("…"), TableSpec(...), ...))) -> bytes

The output is deterministic (no dates or random ids in the file): the same spec gives the
same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import BaseDocTemplate, Frame, NextPageTemplate, PageTemplate, Spacer
from reportlab.platypus import PageBreak as _PageBreak
from reportlab.platypus import Paragraph as _Paragraph
from reportlab.platypus import Table as _Table
from reportlab.platypus import TableStyle

FONT = "STSong-Light"
MARGIN = 72.0  # points: 2.54 cm, as an office document's default
_NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+%?$")
_DIGITS = re.compile(r"[\d][\d,.%]*")


@dataclass(frozen=True)
class Span:
    """A header cell that may cover several columns and rows."""

    text: str
    columns: int = 1
    rows: int = 1


@dataclass(frozen=True)
class TableSpec:
    title: str
    header: Sequence[Sequence[str | Span]]  # rows of cells; each takes the next free position
    rows: Sequence[Sequence[str]]
    unit: str | None = "单位：万元"
    widths: Sequence[float] | None = None  # relative column widths; by content if None
    landscape: bool = False
    ruled: bool = True
    repeat_header: bool = False  # published tables go on without repeating their header
    note: str | None = None  # e.g. 「注：本表无数据」, under the table
    new_page: bool = True  # a published table starts on a page of its own
    size: float = 9.0


@dataclass(frozen=True)
class Paragraph:
    text: str
    level: int = 0  # 0 body text (first line indented); 1 part heading; 2 section heading


@dataclass(frozen=True)
class PageBreak:
    pass


@dataclass(frozen=True)
class DocumentSpec:
    title: str
    blocks: Sequence[Paragraph | TableSpec | PageBreak] = ()
    subtitle: str | None = None
    number_font: str | None = None  # e.g. "Times-Roman": figures set as in published documents
    page_numbers: bool = True  # 「- 3 -」 at the foot of each page
    author: str = "budget-ledger"
    size: float = 12.0


def header_grid(header: Sequence[Sequence[str | Span]], columns: int) -> list[tuple[int, int, Span]]:
    """Where each header cell stands: (row, column, span), HTML's rule for colspan/rowspan
    (a cell takes the first position of its row not covered by a cell from above)."""
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, cells in enumerate(header):
        c = 0
        for cell in cells:
            span = cell if isinstance(cell, Span) else Span(cell)
            while (r, c) in taken:
                c += 1
            if c + span.columns > columns:
                raise ValueError(f"header row {r + 1}: 「{span.text}」 goes past column {columns}")
            for dr in range(span.rows):
                for dc in range(span.columns):
                    taken.add((r + dr, c + dc))
            placed.append((r, c, span))
            c += span.columns
    return placed


def _register() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass
class _Styles:
    size: float
    number_font: str | None
    cache: dict = field(default_factory=dict)

    def get(self, kind: str, size: float | None = None) -> ParagraphStyle:
        size = size or self.size
        key = (kind, size)
        if key not in self.cache:
            base = dict(fontName=FONT, fontSize=size, leading=size * 1.5, wordWrap="CJK")
            shapes = {
                "title": dict(fontSize=size * 1.6, leading=size * 2.4, alignment=TA_CENTER, spaceAfter=size),
                "subtitle": dict(fontSize=size * 1.2, leading=size * 2, alignment=TA_CENTER, spaceAfter=size * 2),
                "h1": dict(fontSize=size * 1.3, leading=size * 2.2, alignment=TA_CENTER, spaceBefore=size, spaceAfter=size),
                "h2": dict(leading=size * 2, firstLineIndent=size * 2, spaceBefore=size * 0.5),
                "body": dict(firstLineIndent=size * 2, alignment=TA_JUSTIFY),
                "table-title": dict(fontSize=size * 1.5, leading=size * 2.2, alignment=TA_CENTER, spaceAfter=size * 0.5),
                "unit": dict(alignment=TA_RIGHT, leading=size * 1.6),
                "note": dict(alignment=TA_LEFT, leading=size * 1.8, spaceBefore=size * 0.5),
                "cell": dict(leading=size * 1.3, alignment=TA_LEFT),
                "cell-number": dict(leading=size * 1.3, alignment=TA_RIGHT),
                "cell-head": dict(leading=size * 1.3, alignment=TA_CENTER),
            }
            self.cache[key] = ParagraphStyle(f"{kind}-{size}", **{**base, **shapes[kind]})
        return self.cache[key]

    def markup(self, text: str) -> str:
        text = escape(text)
        if self.number_font:
            text = _DIGITS.sub(lambda m: f'<font name="{self.number_font}">{m.group()}</font>', text)
        return text


def write_pdf(spec: DocumentSpec) -> bytes:
    _register()
    out = io.BytesIO()
    portrait_size, landscape_size = A4, landscape(A4)
    doc = BaseDocTemplate(out, pagesize=portrait_size, leftMargin=MARGIN, rightMargin=MARGIN,
                          topMargin=MARGIN, bottomMargin=MARGIN, title=spec.title, author=spec.author,
                          creator="budget-ledger", invariant=1)

    def foot(canvas, document) -> None:  # type: ignore[no-untyped-def]
        if spec.page_numbers:
            canvas.saveState()
            canvas.setFont(FONT, 10)
            width = canvas._pagesize[0]
            canvas.drawCentredString(width / 2, MARGIN / 2.5, f"- {document.page} -")
            canvas.restoreState()

    def frame(size: tuple[float, float], name: str) -> Frame:
        return Frame(MARGIN, MARGIN, size[0] - 2 * MARGIN, size[1] - 2 * MARGIN, id=name,
                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)

    doc.addPageTemplates([
        PageTemplate("portrait", [frame(portrait_size, "p")], onPage=foot, pagesize=portrait_size),
        PageTemplate("landscape", [frame(landscape_size, "l")], onPage=foot, pagesize=landscape_size),
    ])
    styles = _Styles(spec.size, spec.number_font)
    story: list = [_Paragraph(styles.markup(spec.title), styles.get("title"))]
    if spec.subtitle:
        story.append(_Paragraph(styles.markup(spec.subtitle), styles.get("subtitle")))
    orientation = "portrait"
    for block in spec.blocks:
        if isinstance(block, PageBreak):
            story.append(_PageBreak())
        elif isinstance(block, Paragraph):
            kind = {0: "body", 1: "h1", 2: "h2"}.get(block.level, "body")
            story.append(_Paragraph(styles.markup(block.text), styles.get(kind)))
        else:
            wanted = "landscape" if block.landscape else "portrait"
            if wanted != orientation or block.new_page:
                story += [NextPageTemplate(wanted), _PageBreak()]
                orientation = wanted
            width = (landscape_size if block.landscape else portrait_size)[0] - 2 * MARGIN
            story += _table(block, styles, width)
    doc.build(story)
    return out.getvalue()


def _table(spec: TableSpec, styles: _Styles, width: float) -> list:
    first = sum(c.columns if isinstance(c, Span) else 1 for c in spec.header[0]) if spec.header else 0
    columns = max([first] + [len(r) for r in spec.rows])
    placed = header_grid(spec.header, columns)
    head_rows = max((r + s.rows for r, _, s in placed), default=0)
    grid: list[list[object]] = [[""] * columns for _ in range(head_rows + len(spec.rows))]
    # Without lines, a reader only sees the columns by the gaps between them: a character's width.
    pad = 3 if spec.ruled else spec.size * 0.75
    commands = [("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), pad), ("RIGHTPADDING", (0, 0), (-1, -1), pad),
                ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    for r, c, span in placed:
        grid[r][c] = _Paragraph(styles.markup(span.text), styles.get("cell-head", spec.size))
        if span.columns > 1 or span.rows > 1:
            commands.append(("SPAN", (c, r), (c + span.columns - 1, r + span.rows - 1)))
    for i, row in enumerate(spec.rows):
        if len(row) > columns:
            raise ValueError(f"row {i + 1} has {len(row)} cells, the table {columns}")
        for c, text in enumerate(row):
            if text:
                kind = "cell-number" if _NUMBER.match(text) else "cell"
                grid[head_rows + i][c] = _Paragraph(styles.markup(text), styles.get(kind, spec.size))
    if spec.ruled:
        commands.append(("GRID", (0, 0), (-1, -1), 0.5, colors.black))
    table = _Table(grid, colWidths=_widths(spec, columns, width, styles),
                   repeatRows=head_rows if spec.repeat_header else 0, style=TableStyle(commands), hAlign="CENTER")
    title = _Paragraph(styles.markup(spec.title), styles.get("table-title"))
    title.keepWithNext = True
    out: list = [title]
    if spec.unit:
        unit = _Paragraph(styles.markup(spec.unit), styles.get("unit", spec.size))
        unit.keepWithNext = True
        out.append(unit)
    out.append(table)
    if spec.note:
        out.append(_Paragraph(styles.markup(spec.note), styles.get("note", spec.size)))
    out.append(Spacer(1, spec.size))
    return out


def _widths(spec: TableSpec, columns: int, width: float, styles: _Styles) -> list[float]:
    if spec.widths:
        if len(spec.widths) != columns:
            raise ValueError(f"{len(spec.widths)} widths for {columns} columns")
        total = sum(spec.widths)
        return [width * w / total for w in spec.widths]
    natural = [2 * spec.size] * columns
    for row in spec.rows:
        for c, text in enumerate(row):
            natural[c] = max(natural[c], pdfmetrics.stringWidth(text, FONT, spec.size) + 8 + (0 if spec.ruled else spec.size))
    for r, c, span in header_grid(spec.header, columns):
        if span.columns == 1:
            natural[c] = max(natural[c], min(pdfmetrics.stringWidth(span.text, FONT, spec.size) + 8, 6 * spec.size))
    total = sum(natural)
    return [width * n / total for n in natural]
