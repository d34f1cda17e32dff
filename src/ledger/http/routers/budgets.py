"""The budgets in the ledger; one budget with its version (ETag), publications and documents,
now or as of a point."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..deps import DepartmentPath, LedgerDep, PointDep, ReaderRoute, YearPath
from ..errors import READ_ERRORS
from ..paths import BUDGET
from ..schemas import BudgetDetail, BudgetSummary, DocumentOut, PublicationOut, Unit
from ..versions import etag

router = APIRouter(prefix="/api/budgets", tags=["预算"], route_class=ReaderRoute)


@router.get("", response_model=list[BudgetSummary], summary="账本中的全部预算")
def list_budgets(ledger: LedgerDep, point: PointDep) -> list[BudgetSummary]:
    return [BudgetSummary(department=r.department, fiscal_year=r.fiscal_year, budget_id=r.budget_id,
                          units=[Unit(**u) for u in r.units]) for r in ledger.budgets(point)]


@router.get(BUDGET.removeprefix("/api/budgets"), response_model=BudgetDetail, responses=READ_ERRORS,
            summary="一个预算: 版本 (ETag)、发布节点、导入的文件")
def budget(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
           response: Response) -> BudgetDetail:
    if point.is_now:
        # The version a write's If-Match is checked against: the event store's own.
        response.headers["ETag"] = etag(ledger.version(department, fiscal_year))
    detail = ledger.budget(department, fiscal_year, point)
    row = detail.budget
    return BudgetDetail(
        department=row.department, fiscal_year=row.fiscal_year, budget_id=row.budget_id,
        units=[Unit(**u) for u in row.units], version=detail.version, position=detail.position,
        publications=[PublicationOut(**p) for p in detail.publications],
        documents=[DocumentOut(**d) for d in detail.documents],
        layouts=ledger.layouts(department, fiscal_year),
    )
