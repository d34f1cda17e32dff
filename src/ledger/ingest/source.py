"""A printed document as a flow of blocks, whatever it was printed as (PDF or the seed's text
layout), so that one layout-driven importer can read either.

- `Location`: where something stands. In a PDF: the page (1-based) and a box in PDF points,
  origin top-left (x0, top, x1, bottom, as pdfplumber gives them). In a text file: the line
  (1-based) and, for a cell, its column (1-based). `describe()` says it in Chinese for messages.
- `TextLine`: a printed line of running text, with the box of every character (PDF), so a
  figure found in a sentence can be shown on its page.
- `Table`: rows of `Cell`s on a grid. A merged cell is one `Cell` with its `row_span` and
  `column_span`; it belongs to the row where its top-left corner is. A table that goes on
  from the previous page is a separate block with `continues=True`; `Document.tables()` joins
  the pieces (each row still knows its page).
- `TextFlow`: the running text as one string (Chinese lines join without a space; a line that
  ends a paragraph keeps the break), with a map from character offsets back to locations.

Nothing here reads a file: `pdf.read_pdf` and `textsource.read_text` build a `Document`.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from .errors import Problem


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in PDF points, origin at the top-left corner of the page."""

    x0: float
    top: float
    x1: float
    bottom: float

    @staticmethod
    def around(boxes: Iterable[Box]) -> Box:
        boxes = list(boxes)
        return Box(min(b.x0 for b in boxes), min(b.top for b in boxes),
                   max(b.x1 for b in boxes), max(b.bottom for b in boxes))

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.top + self.bottom) / 2

    def contains(self, x: float, y: float, tolerance: float = 0.0) -> bool:
        return (self.x0 - tolerance <= x <= self.x1 + tolerance
                and self.top - tolerance <= y <= self.bottom + tolerance)


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a document: page and box (PDF) or line and column (text layout)."""

    page: int | None = None
    box: Box | None = None
    line: int | None = None
    column: int | None = None

    def describe(self) -> str:
        """「第8页 (x=120, y=340)」, 「第157行」, 「第157行第3列」."""
        parts = []
        if self.page is not None:
            parts.append(f"第{self.page}页")
            if self.box is not None:
                parts.append(f" (x={round(self.box.x0)}, y={round(self.box.top)})")
        if self.line is not None:
            parts.append(f"第{self.line}行")
            if self.column is not None:
                parts.append(f"第{self.column}列")
        return "".join(parts) or "文件"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line. `boxes` holds one box per character of `text` (PDF; a space the reader
    put between two words gets the gap between them), None for the text layout."""

    text: str
    location: Location
    boxes: tuple[Box, ...] | None = None
    size: float | None = None  # the font size most of the line is set in (PDF)
    ends_paragraph: bool = True
    furniture: bool = False  # a page number or running header/footer: not part of the text

    def locate(self, start: int = 0, end: int | None = None) -> Location:
        """Where characters [start, end) of this line stand."""
        end = len(self.text) if end is None else end
        if self.boxes is None or not 0 <= start < end <= len(self.boxes):
            return self.location
        return replace(self.location, box=Box.around(self.boxes[start:end]))


@dataclass(frozen=True, slots=True)
class Cell:
    """A cell of a table grid. `row`/`column` (0-based) are its top-left grid position."""

    text: str
    location: Location
    row: int
    column: int
    row_span: int = 1
    column_span: int = 1
    lines: tuple[TextLine, ...] = ()  # the text lines inside it (PDF), top to bottom

    @property
    def columns(self) -> range:
        return range(self.column, self.column + self.column_span)

    @property
    def rows(self) -> range:
        return range(self.row, self.row + self.row_span)


@dataclass(frozen=True, slots=True)
class Row:
    """The cells whose top-left corner is in this grid row, left to right."""

    cells: tuple[Cell, ...]
    location: Location

    @property
    def texts(self) -> list[str]:
        return [cell.text for cell in self.cells]


@dataclass(frozen=True, slots=True)
class Stray:
    """Text inside a table's height but in none of its cells (beside the grid, or in a gap of
    it): a row shifted past the last column, a figure printed outside its box. `row` is the grid
    row whose height it shares, if any. The layout decides whether that is an error."""

    line: TextLine
    row: int | None


@dataclass(frozen=True, slots=True)
class Table:
    """A table as printed on one page (or joined: see `parts`)."""

    rows: tuple[Row, ...]
    location: Location
    column_count: int
    column_edges: tuple[float, ...] = ()  # x of the grid's column boundaries (PDF)
    continues: bool = False  # goes on from the table that ended the previous page
    ruled: bool = True  # False: the grid was inferred from the words' positions (no lines)
    strays: tuple[Stray, ...] = ()
    parts: tuple[Table, ...] = ()  # a joined table: the page pieces it was made of

    def grid(self) -> list[list[Cell | None]]:
        """Every grid position with the cell covering it (a merged cell fills its span)."""
        grid: list[list[Cell | None]] = [[None] * self.column_count for _ in self.rows]
        for row in self.rows:
            for cell in row.cells:
                for r in cell.rows:
                    for c in cell.columns:
                        if r < len(grid) and c < self.column_count:
                            grid[r][c] = cell
        return grid

    def texts(self) -> list[list[str | None]]:
        """Cell texts by grid position; None where a merged cell from elsewhere covers it (as
        pdfplumber's `extract()`)."""
        out: list[list[str | None]] = [[None] * self.column_count for _ in self.rows]
        for row in self.rows:
            for cell in row.cells:
                if cell.row < len(out) and cell.column < self.column_count:
                    out[cell.row][cell.column] = cell.text
        return out

    def pages(self) -> list[int]:
        pieces = self.parts or (self,)
        return [p.location.page for p in pieces if p.location.page is not None]


Block = Union[TextLine, Table]


@dataclass(frozen=True, slots=True)
class TextFlow:
    """Running text as one string; `pieces` says where each line's text starts in it."""

    text: str
    pieces: tuple[tuple[int, TextLine], ...]

    def locate(self, start: int, end: int) -> tuple[Location, ...]:
        """Where characters [start, end) of the flow stand: one location per printed line
        they touch (a figure can wrap over two lines, or two pages)."""
        out = []
        starts = [offset for offset, _ in self.pieces]
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        while i < len(self.pieces):
            offset, line = self.pieces[i]
            if offset >= end:
                break
            lo, hi = max(start, offset) - offset, min(end, offset + len(line.text)) - offset
            if lo < hi:
                out.append(line.locate(lo, hi))
            i += 1
        return tuple(out)

    def location_at(self, offset: int) -> Location:
        found = self.locate(offset, offset + 1)
        if found:
            return found[0]
        starts = [o for o, _ in self.pieces]
        i = max(bisect.bisect_right(starts, offset) - 1, 0)
        return self.pieces[i][1].location if self.pieces else Location()

    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n") if p]


@dataclass(frozen=True)
class Document:
    """A printed document: its blocks in reading order."""

    name: str
    sha256: str
    source: str  # "pdf" or "text"
    blocks: tuple[Block, ...]
    page_count: int | None = None
    warnings: tuple[Problem, ...] = ()

    def lines(self) -> Iterator[TextLine]:
        """The text lines outside tables, page furniture left out."""
        return (b for b in self.blocks if isinstance(b, TextLine) and not b.furniture)

    def page_tables(self) -> Iterator[Table]:
        """Tables as printed, one per page piece."""
        return (b for b in self.blocks if isinstance(b, Table))

    def tables(self) -> list[Table]:
        """Tables with their continuations joined; a header row that a continuation repeats
        (its first rows equal the first rows of the table) is left out of the join."""
        out: list[list[Table]] = []
        for table in self.page_tables():
            if table.continues and out:
                out[-1].append(table)
            else:
                out.append([table])
        return [join(pieces) for pieces in out]

    def flow(self) -> TextFlow:
        """The running text (lines outside tables, without furniture) as one string. A table
        between two lines ends the paragraph before it."""
        text: list[str] = []
        pieces: list[tuple[int, TextLine]] = []
        length = 0
        previous: TextLine | None = None
        broken = False  # a table stood since the previous line
        for block in self.blocks:
            if isinstance(block, Table):
                broken = True
                continue
            if block.furniture or not block.text:
                continue
            if previous is None:
                glue = ""
            elif previous.ends_paragraph or broken:
                glue = "\n"
            else:
                glue = joiner(previous.text, block.text)
            length += len(glue)
            pieces.append((length, block))
            text += [glue, block.text]
            length += len(block.text)
            previous, broken = block, False
        return TextFlow("".join(text), tuple(pieces))


def join(pieces: list[Table]) -> Table:
    """One table from its page pieces: rows renumbered, each row and cell keeps its page."""
    if len(pieces) == 1:
        return pieces[0]
    first = pieces[0]
    rows: list[Row] = []
    strays: list[Stray] = []
    for n, piece in enumerate(pieces):
        skip = repeated_header(first, piece) if n else 0
        base = len(rows) - skip
        for row in piece.rows[skip:]:
            rows.append(Row(tuple(replace(c, row=c.row + base) for c in row.cells), row.location))
        strays += [Stray(s.line, None if s.row is None else s.row + base) for s in piece.strays
                   if s.row is None or s.row >= skip]
    return Table(rows=tuple(rows), location=first.location,
                 column_count=max(p.column_count for p in pieces), column_edges=first.column_edges,
                 continues=False, ruled=all(p.ruled for p in pieces), strays=tuple(strays),
                 parts=tuple(pieces))


def repeated_header(first: Table, piece: Table) -> int:
    """How many leading rows of a continuation repeat the first rows of its table."""
    n = 0
    while (n < len(piece.rows) and n < len(first.rows) - 1
           and _shape(piece.rows[n]) == _shape(first.rows[n]) and any(piece.rows[n].texts)):
        n += 1
    return n


def _shape(row: Row) -> list[tuple[str, int, int, int]]:
    return [(c.text, c.column, c.column_span, c.row_span) for c in row.cells]


def is_wide(ch: str) -> bool:
    """CJK ideographs, kana, fullwidth forms and CJK punctuation: text set without spaces."""
    o = ord(ch)
    return (0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF
            or 0xFE30 <= o <= 0xFE4F or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x3FFFF
            or ch in "“”‘’—…·")


def joiner(before: str, after: str) -> str:
    """What goes between two printed lines of one paragraph (or two lines of one cell):
    nothing next to Chinese text or inside a number cut by the wrap, a space between words."""
    if not before or not after:
        return ""
    a, b = before[-1], after[0]
    if is_wide(a) or is_wide(b):
        return ""
    if (a.isdigit() or a in ",.") and (b.isdigit() or b in ",.%"):
        return ""
    if a == "-":
        return ""
    return " "


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_source(data: bytes, name: str) -> Document:
    """A document from a file's bytes: a PDF by its header, otherwise the text layout."""
    from .pdf import looks_like_pdf, read_pdf
    from .textsource import read_text

    if looks_like_pdf(data) or name.lower().endswith(".pdf"):
        return read_pdf(data, name)
    return read_text(data, name)
