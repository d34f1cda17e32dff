"""The 13 published tables, now or as of a point: JSON, or CSV / XLSX downloads."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from ...readmodel import formats
from ..deps import DepartmentPath, LedgerDep, PointDep, YearPath, point_label
from ..downloads import CSV_TYPE, XLSX_TYPE, csv_response, xlsx_response
from ..errors import READ_ERRORS
from ..layout import amount_cells
from ..schemas import TablesOut
from ..versions import etag

router = APIRouter(prefix="/api/budgets/{department}/{fiscal_year}", tags=["预算报表"])

Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json | csv | xlsx (下载)")]
FILE_RESPONSES = {200: {"content": {CSV_TYPE.split(";")[0]: {}, XLSX_TYPE: {}},
                        "description": "表格 (JSON), 或 format=csv / xlsx 时的下载文件"}, **READ_ERRORS}


def _tables(ledger, department: str, fiscal_year: int, number: int | None, point, output: str,
            response: Response):
    rendered = ledger.tables(department, fiscal_year, number=number, point=point)
    label = point_label(point)
    stem = f"{department}{fiscal_year}年预算" + (f"{rendered[0].name}" if number else "报表")
    ascii_stem = f"budget-{fiscal_year}" + (f"-table{number}" if number else "-tables")
    if output == "csv":
        return csv_response(rendered, f"{stem}.csv", f"{ascii_stem}.csv")
    if output == "xlsx":
        return xlsx_response(rendered, department, f"{stem}.xlsx", f"{ascii_stem}.xlsx")
    if point.is_now:
        response.headers["ETag"] = etag(ledger.version(department, fiscal_year))
    data = formats.to_json_data(rendered, department=department, fiscal_year=fiscal_year, point=label)
    for table, out in zip(rendered, data["tables"], strict=True):
        for row, row_out in zip(table.rows, out["rows"], strict=True):
            for amount, cell in zip(row_out["amounts"], amount_cells(table.number, row), strict=True):
                amount["cell"] = cell
    return TablesOut.model_validate(data)


@router.get("/tables", response_model=TablesOut, responses=FILE_RESPONSES, summary="全部13张表")
def all_tables(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
               response: Response, format: Format = "json"):
    return _tables(ledger, department, fiscal_year, None, point, format, response)


@router.get("/tables/{number}", response_model=TablesOut, responses=FILE_RESPONSES, summary="一张表 (表一…表十三)")
def one_table(department: DepartmentPath, fiscal_year: YearPath,
              number: Annotated[int, Path(description="表号 1–13", ge=1, le=99, examples=[3])],
              ledger: LedgerDep, point: PointDep, response: Response, format: Format = "json"):
    return _tables(ledger, department, fiscal_year, number, point, format, response)
