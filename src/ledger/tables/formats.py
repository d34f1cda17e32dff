"""Write rendered tables as text, TSV, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence

from ..domain.money import format_wan
from .render import RenderedTable

EMPTY_NOTE = "注：本表无数据"

# OWASP "CSV injection": a spreadsheet program runs a cell that starts with = + - @ (or with a
# tab or carriage return) as a formula. Such a text cell gets a leading single quote, which
# spreadsheets read as "this is text". A printed amount (a minus, digits, one point: "-2.00",
# as the tables print a reduction) is a number, not a formula, and is left as it is.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def formula_like(text: str) -> bool:
    """Whether a spreadsheet program would take this cell for a formula."""
    return text.startswith(FORMULA_START) and _NUMBER.fullmatch(text) is None


def safe_cell(text: str) -> str:
    """A cell as CSV writes it: formula-like text quoted, everything else as it is."""
    return "'" + text if formula_like(text) else text


def _rows(table: RenderedTable) -> list[list[str]]:
    rows = [list(r.cells) for r in table.rows]
    if table.empty:
        rows.append([EMPTY_NOTE])
    return rows


def to_tsv(tables: Sequence[RenderedTable]) -> str:
    out = []
    for table in tables:
        out.append(f"# {table.title}")
        out += ["\t".join(h) for h in table.header]
        out += ["\t".join(r) for r in _rows(table)]
    return "\n".join(out) + "\n"


def to_csv(tables: Sequence[RenderedTable]) -> str:
    """The tables as CSV, every cell through safe_cell (names come from imported documents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # The csv module quotes only the line terminator's characters: a row with a carriage
    # return in a cell is written with every cell quoted, so that it reads back as one row.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        writer.writerow([safe_cell(f"# {table.title}")])
        for row in [*table.header, *_rows(table)]:
            cells = [safe_cell(c) for c in row]
            (quoted if any("\r" in c for c in cells) else writer).writerow(cells)
    return buffer.getvalue()


def to_json_data(tables: Sequence[RenderedTable], **meta: object) -> dict[str, object]:
    return {
        **meta,
        "unit": tables[0].unit if tables else "万元",
        "tables": [
            {
                "number": t.number,
                "name": t.name,
                "title": t.title,
                "empty": t.empty,
                "header": t.header,
                "header_cells": [{"text": c.text, "row": c.row, "column": c.column, "rowspan": c.rowspan,
                                  "colspan": c.colspan} for c in t.header_cells],
                "rows": [
                    {
                        "cells": r.cells,
                        "amounts": [
                            {"row": row, "column": col, "yuan": f"{amount:.2f}", "wan": format_wan(amount, blank_zero=False)}
                            for row, col, amount in r.amounts
                        ],
                    }
                    for r in t.rows
                ],
            }
            for t in tables
        ],
    }


def to_json(tables: Sequence[RenderedTable], **meta: object) -> str:
    return json.dumps(to_json_data(tables, **meta), ensure_ascii=False, indent=2) + "\n"


def to_text(tables: Sequence[RenderedTable], department: str) -> str:
    from rich.console import Console
    from rich.table import Table

    console = Console(record=True, width=200, file=io.StringIO(), color_system=None)
    for table in tables:
        grid = Table(title=f"{table.name} {table.title}", caption=f"部门名称：{department}    单位：{table.unit}",
                     show_header=False, show_lines=False)
        width = max([len(r.cells) for r in table.rows] + [len(h) for h in table.header] + [1])
        for _ in range(width):
            grid.add_column()
        for h in table.header:
            grid.add_row(*(h + [""] * (width - len(h))), style="bold")
        for row in _rows(table):
            grid.add_row(*(row + [""] * (width - len(row))))
        console.print(grid)
    return console.export_text()
