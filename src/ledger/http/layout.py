"""Where the amounts sit in a printed row: after each panel's label cells, one cell per column."""

from __future__ import annotations

from ..tables.definitions import TableDef, find_table
from ..tables.render import RenderedRow


def _definition(number: int) -> TableDef:
    definition = find_table(number)
    assert definition is not None, number  # the route validated the number
    return definition


def amount_columns(number: int) -> set[int]:
    """Positions of the amount cells in any printed row of a table."""
    out, offset = set(), 0
    for panel in _definition(number).panels:
        out.update(range(offset + panel.label_width, offset + panel.width))
        offset += panel.width
    return out


def amount_cells(number: int, row: RenderedRow) -> list[int]:
    """For each of a row's amounts (in their order), its position among the row's cells."""
    out, offset = [], 0
    for panel, (_index, key) in zip(_definition(number).panels, row.keys, strict=True):
        if key is not None:
            out += [offset + panel.label_width + j for j in range(len(panel.columns))]
        offset += panel.width
    return out
