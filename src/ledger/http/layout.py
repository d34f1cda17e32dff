"""Where the amounts sit in a printed row: after each panel's label cells, one cell per column."""

from __future__ import annotations

from ..tables.definitions import TableDef
from ..tables.layouts import layout
from ..tables.render import RenderedRow, RenderedTable


def _definition(table: RenderedTable) -> TableDef:
    definition = layout(table.layout).table(table.number)
    assert definition is not None, table.number  # it was rendered from this definition
    return definition


def amount_columns(table: RenderedTable) -> set[int]:
    """Positions of the amount cells in any printed row of a table."""
    out, offset = set(), 0
    for panel in _definition(table).panels:
        out.update(range(offset + panel.label_width, offset + panel.width))
        offset += panel.width
    return out


def amount_cells(table: RenderedTable, row: RenderedRow) -> list[int]:
    """For each of a row's amounts (in their order), its position among the row's cells."""
    out, offset = [], 0
    for panel, (_index, key) in zip(_definition(table).panels, row.keys, strict=True):
        if key is not None:
            out += [offset + panel.label_width + j for j in range(len(panel.columns))]
        offset += panel.width
    return out
