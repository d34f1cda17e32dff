"""The 13 published tables, now or as of a point: JSON, or CSV / XLSX downloads."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ...tables import formats
from ..deps import (
    DepartmentPath,
    LedgerDep,
    PointDep,
    ReaderRoute,
    YearPath,
    point_label,
)
from ..downloads import CSV_TYPE, XLSX_TYPE, csv_response, xlsx_response
from ..errors import READ_ERRORS
from ..layout import amount_cells
from ..paths import BUDGET
from ..schemas import TablesOut
from ..versions import etag

router = APIRouter(prefix=BUDGET, tags=["预算报表"], route_class=ReaderRoute)

JSON = "application/json"
Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json | csv | xlsx (下载)")]
FILE_RESPONSES = {200: {"content": {CSV_TYPE.split(";")[0]: {}, XLSX_TYPE: {}},
                        "description": "表格 (JSON), 或 format=csv / xlsx 时的下载文件"}, **READ_ERRORS}


def _body(rendered, department: str, fiscal_year: int, point) -> bytes:
    """The JSON of TablesOut, validated and serialised once: it is returned as a Response, so
    FastAPI does not validate it against the response model again."""
    data = formats.to_json_data(rendered, department=department, fiscal_year=fiscal_year, point=point_label(point))
    for table, out in zip(rendered, data["tables"], strict=True):
        for row, row_out in zip(table.rows, out["rows"], strict=True):
            for amount, cell in zip(row_out["amounts"], amount_cells(table, row), strict=True):
                amount["cell"] = cell
    return TablesOut.model_validate(data).model_dump_json().encode()


def _tables(ledger, department: str, fiscal_year: int, number: int | None, point, output: str,
            layout: str | None = None) -> Response:
    rendered = ledger.tables(department, fiscal_year, number=number, point=point, layout_id=layout)
    stem = f"{department}{fiscal_year}年预算" + (f"{rendered[0].name}" if number else "报表")
    ascii_stem = f"budget-{fiscal_year}" + (f"-table{number}" if number else "-tables")
    if output == "csv":
        return csv_response(rendered, f"{stem}.csv", f"{ascii_stem}.csv")
    if output == "xlsx":
        return xlsx_response(rendered, department, f"{stem}.xlsx", f"{ascii_stem}.xlsx")
    headers = {"ETag": etag(ledger.version(department, fiscal_year))} if point.is_now else None
    return Response(_body(rendered, department, fiscal_year, point), media_type=JSON, headers=headers)


async def _answer(request: Request, ledger, department: str, fiscal_year: int, number: int | None, point,
                  output: str, layout: str | None = None) -> Response:
    """The current tables as JSON come from the cache (tablecache.py: a cached answer costs one
    query and no thread); everything else is rendered in a worker thread."""
    cache = request.app.state.table_cache
    if output != "json" or not point.is_now or cache is None or layout is not None:
        return await run_in_threadpool(_tables, ledger, department, fiscal_year, number, point, output, layout)
    entry = await cache.get(ledger, (department, fiscal_year, number), lambda: _body(
        ledger.tables(department, fiscal_year, number=number), department, fiscal_year, point))
    return Response(entry.body, media_type=JSON, headers={"ETag": entry.etag})


# async: the cached answer needs no thread (the blocking work is handed to one in _answer).
LayoutQuery = Annotated[str | None, Query(
    description="布局: 省略为部门预算13张表 (department-budget); final-accounts 为部门决算9张表; "
                "一个预算有哪些布局见 GET /api/budgets/{department}/{fiscal_year} 的 layouts",
    max_length=64, pattern=r"^[a-z0-9-]+$", examples=["final-accounts"])]


@router.get("/tables", response_model=TablesOut, responses=FILE_RESPONSES, summary="一个布局的全部表 (默认13张表)")
async def all_tables(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
                     request: Request, format: Format = "json", layout: LayoutQuery = None):
    return await _answer(request, ledger, department, fiscal_year, None, point, format, layout)


@router.get("/tables/{number}", response_model=TablesOut, responses=FILE_RESPONSES, summary="一张表 (表一…)")
async def one_table(department: DepartmentPath, fiscal_year: YearPath,
                    number: Annotated[int, Path(description="表号 (部门预算 1–13, 部门决算 1–9)", ge=1, le=99,
                                                examples=[3])],
                    ledger: LedgerDep, point: PointDep, request: Request, format: Format = "json",
                    layout: LayoutQuery = None):
    return await _answer(request, ledger, department, fiscal_year, number, point, format, layout)
