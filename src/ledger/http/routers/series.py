"""A figure or a table cell of one department across its years and phases (时间序列)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...application.series import FIGURES, Series
from ..deps import DepartmentPath, LedgerDep, ReaderRoute
from ..errors import READ_ERRORS

router = APIRouter(prefix="/api/series", tags=["情况说明"], route_class=ReaderRoute)


@router.get("/{department:department}", response_model=Series, responses=READ_ERRORS,
            summary="时间序列: 一个数或一个表格单元在各年度、各节点 (发布节点、最新、决算) 的值")
def series(department: DepartmentPath, ledger: LedgerDep,
           figure: Annotated[str | None, Query(max_length=40, description="情况说明的数: " + ", ".join(
               f"{k} {label}" for k, (label, _f) in FIGURES.items()))] = None,
           table: Annotated[int | None, Query(ge=1, le=13, description="表号 1–13 (部门预算)")] = None,
           row: Annotated[str | None, Query(max_length=200, description="行: 科目编码或行名称; 编码经科目对照表跟到各年")] = None,
           column: Annotated[str | None, Query(max_length=200, description="列名称或列键, 如 合计")] = None,
           anchor: Annotated[int | None, Query(ge=1900, le=2999, description="row 的编码是哪一年的 (默认最后一年)")] = None,
           ) -> Series:
    return ledger.series(department, figure=figure, table=table, row=row, column=column, anchor=anchor)
