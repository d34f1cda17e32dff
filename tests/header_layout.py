"""An independent reading of the header rows in projections/*.yaml for tests: each printed
header cell with its place and spans, read straight from the YAML ("<": the cell to the left
continues, "^": the cell above continues), without the ledger's loader."""

from __future__ import annotations

from pathlib import Path

import yaml

PROJECTIONS = Path(__file__).resolve().parents[1] / "projections"
MARKERS = ("<", "^")


def header_grids(year: int = 2024) -> dict[int, list[list[str]]]:
    """Table number → its header rows as written, with the year filled in."""
    out = {}
    for path in sorted(PROJECTIONS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[int(data["number"])] = [[str(c).format(year=year) for c in row] for row in data["header"]]
    return out


def spans(grid: list[list[str]]) -> list[tuple[int, int, int, int, str]]:
    """(row, column, rowspan, colspan, text) of every cell that is not a continuation: it
    spans the "<" that follow it in its row and the "^" that follow it in its column."""
    cells = []
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            if text in MARKERS:
                continue
            colspan = 1
            while c + colspan < len(row) and row[c + colspan] == "<":
                colspan += 1
            rowspan = 1
            while r + rowspan < len(grid) and grid[r + rowspan][c] == "^":
                rowspan += 1
            cells.append((r, c, rowspan, colspan, text))
    return cells


def header_spans(year: int = 2024) -> dict[int, list[tuple[int, int, int, int, str]]]:
    return {number: spans(grid) for number, grid in header_grids(year).items()}


def printed_text(grid: list[list[str]]) -> list[list[str]]:
    """The rows as the document's text prints them: a continued cell is empty."""
    return [["" if c in MARKERS else c for c in row] for row in grid]
