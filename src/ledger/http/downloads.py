"""Tables as files: CSV (the CLI's layout) and XLSX (one sheet per table, as printed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from ..audit import AuditReport
from ..audit.formats import COLUMNS, HEADINGS, raw
from ..audit.model import SEVERITIES
from ..tables import formats
from ..tables.render import RenderedTable
from .layout import amount_columns

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(data: bytes, media_type: str, name: str, ascii_name: str) -> Response:
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


def csv_response(tables: Sequence[RenderedTable], name: str, ascii_name: str) -> Response:
    # The byte-order mark lets spreadsheet programs read the Chinese labels as UTF-8.
    return _attachment(("\ufeff" + formats.to_csv(tables)).encode("utf-8"), CSV_TYPE, name, ascii_name)


def to_xlsx(tables: Sequence[RenderedTable], department: str) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.name)
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([f"部门名称：{department}", "", "", "单位：万元"])
        first = sheet.max_row + 1
        for header in table.header:
            sheet.append(header)
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for merged in table.header_cells:  # merged as printed (the definitions' "<" and "^")
            if merged.rowspan > 1 or merged.colspan > 1:
                sheet.merge_cells(start_row=first + merged.row, start_column=1 + merged.column,
                                  end_row=first + merged.row + merged.rowspan - 1,
                                  end_column=merged.column + merged.colspan)
        amounts = amount_columns(table)
        for row in table.rows:
            # Printed 万元 figures as exact decimals (not floats), shown with two places.
            sheet.append([Decimal(c) if i in amounts and c else c for i, c in enumerate(row.cells)])
            for i, cell in enumerate(sheet[sheet.max_row]):
                if i in amounts:
                    cell.number_format = "0.00"
        if table.empty:
            sheet.append([formats.EMPTY_NOTE])
        for letter, width in zip("ABCDEFGHIJ", (14, 36, 14, 14, 14, 14, 14, 14, 14, 14), strict=False):
            sheet.column_dimensions[letter].width = width
    text_only(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def text_only(book: Workbook) -> None:
    """Every text cell stored as text, never as a formula (openpyxl makes a formula of any
    string starting with "="; names come from imported documents, OWASP "CSV injection"),
    those a spreadsheet would take for a formula also marked quotePrefix, as Excel marks a
    cell typed with a leading single quote. Amounts are numbers and stay numbers."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                    if formats.formula_like(cell.value):
                        cell.quotePrefix = True


def xlsx_response(tables: Sequence[RenderedTable], department: str, name: str, ascii_name: str) -> Response:
    return _attachment(to_xlsx(tables, department), XLSX_TYPE, name, ascii_name)


def findings_xlsx(report: AuditReport) -> bytes:
    """The findings as a worksheet (the same columns as the CSV), text never a formula."""
    book = Workbook()
    sheet = book.active
    sheet.title = "审校"
    sheet.append([f"审校: {report.document}", f"{report.department or ''} {report.fiscal_year or ''}年度",
                  "  ".join(f"{s} {report.counts.get(s, 0)}" for s in SEVERITIES)])
    sheet["A1"].font = Font(bold=True)
    sheet.append(list(HEADINGS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for f in report.findings:
        sheet.append([raw(f, c) for c in COLUMNS])
    for letter, width in zip("ABCDEFGHIJKLMNOPQRS", (8, 22, 14, 5, 7, 7, 6, 7, 24, 14, 12, 16, 14, 14, 14, 8, 30, 60, 60),
                             strict=False):
        sheet.column_dimensions[letter].width = width
    text_only(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
