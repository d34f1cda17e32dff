"""The explanation behind the narrative (figures, shares, year-over-year changes) and the
regenerated narrative itself (第三部分 情况说明)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from ...explain.final import FinalExplanation
from ...explain.model import Explanation
from ..deps import (
    DepartmentPath,
    LedgerDep,
    PointDep,
    ReaderRoute,
    YearPath,
    point_label,
)
from ..errors import READ_ERRORS
from ..paths import BUDGET
from ..schemas import NarrativeOut

PriorPublication = Annotated[str | None, Query(
    max_length=200, description="账本中有上年预算时, 上年数取自上年的这个发布节点 (如 年初预算); "
                                "默认: 账本在本年所取节点时的上年 (现在: 上年最新)")]

router = APIRouter(prefix=BUDGET, tags=["情况说明"], route_class=ReaderRoute)


@router.get("/explanation", response_model=Explanation, responses=READ_ERRORS,
            summary="情况说明的数据: 同比变动、结构占比、三公经费、政府采购、项目")
def explanation(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
                prior_publication: PriorPublication = None) -> Explanation:
    return ledger.explain(department, fiscal_year, point, prior_publication=prior_publication)


@router.get("/narrative", response_model=NarrativeOut,
            responses={200: {"content": {"text/plain": {}}}, **READ_ERRORS},
            summary="由事件重新生成的第三部分 情况说明")
def narrative(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
              format: Annotated[Literal["json", "text"], Query(description="json | text")] = "json",
              prior_publication: PriorPublication = None):
    text = ledger.explain_text(department, fiscal_year, point, prior_publication=prior_publication)
    if format == "text":
        return PlainTextResponse(text)
    return NarrativeOut(department=department, fiscal_year=fiscal_year, point=point_label(point), text=text,
                        paragraphs=[line.strip() for line in text.splitlines() if line.strip()])


@router.get("/explanation/final", response_model=FinalExplanation, responses=READ_ERRORS,
            summary="决算情况说明的数据: 比上年、完成年初预算、三公、机关运行经费、政府采购")
def final_explanation(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep,
                      point: PointDep, prior_publication: PriorPublication = None) -> FinalExplanation:
    return ledger.explain_final(department, fiscal_year, point, prior_publication=prior_publication)


@router.get("/narrative/final", response_model=NarrativeOut,
            responses={200: {"content": {"text/plain": {}}}, **READ_ERRORS},
            summary="由事件重新生成的部门决算情况说明")
def final_narrative(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
                    format: Annotated[Literal["json", "text"], Query(description="json | text")] = "json",
                    prior_publication: PriorPublication = None):
    text = ledger.explain_final_text(department, fiscal_year, point, prior_publication=prior_publication)
    if format == "text":
        return PlainTextResponse(text)
    return NarrativeOut(department=department, fiscal_year=fiscal_year, point=point_label(point), text=text,
                        paragraphs=[line.strip() for line in text.splitlines() if line.strip()])
