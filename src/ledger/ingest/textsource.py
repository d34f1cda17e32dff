"""The seed's text layout as a `source.Document`: one printed row per line, cells separated by
tabs; a run of such lines is a table, blank lines inside it are page breaks (the part after
them is a continuation, as a table going on over a PDF page); any other line is a line of text
and a paragraph of its own. Markdown heading marks (`### `) are not printed text and are left
out. The checks on the bytes (size, encoding, control characters) are `document.decode`'s.
"""

from __future__ import annotations

import re

from .document import decode, split_cells
from .source import Cell, Document, Location, Row, Table, TextLine, sha256

_HEADING = re.compile(r"^#{1,6}\s+")


def read_text(data: bytes, name: str) -> Document:
    return from_text(decode(data, name), name, sha256(data))


def from_text(text: str, name: str, digest: str = "") -> Document:
    blocks: list[TextLine | Table] = []
    rows: list[Row] = []
    continues = False
    gap = False

    def flush() -> None:
        nonlocal rows, continues
        if rows:
            width = max(len(r.cells) for r in rows)
            blocks.append(Table(rows=tuple(rows), location=Location(line=rows[0].location.line),
                                column_count=width, continues=continues, ruled=False))
        rows, continues = [], False

    for number, raw in enumerate(text.split("\n"), start=1):
        if "\t" in raw:
            if gap and rows:
                flush()
                continues = True
            gap = False
            index = len(rows)
            cells = tuple(Cell(text=value, location=Location(line=number, column=k + 1), row=index, column=k)
                          for k, value in enumerate(split_cells(raw)))
            rows.append(Row(cells, Location(line=number)))
            continue
        line = raw.strip()
        if not line:
            gap = bool(rows) or gap
            continue
        flush()
        gap = False
        blocks.append(TextLine(text=_HEADING.sub("", line), location=Location(line=number)))
    flush()
    return Document(name=name, sha256=digest, source="text", blocks=tuple(blocks))
