"""The budgets in the ledger; one budget with its version (ETag), publications and documents,
now or as of a point."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import and_, exists, select

from ...readmodel import queries, schema
from ..deps import DepartmentPath, LedgerDep, PointDep, YearPath
from ..errors import READ_ERRORS
from ..schemas import BudgetDetail, BudgetSummary, DocumentOut, PublicationOut, Unit
from ..versions import etag

router = APIRouter(prefix="/api/budgets", tags=["预算"])


def _opened_by(point: queries.Point):
    """Budgets whose opening event the point includes."""
    b = schema.budgets.c
    conditions = []
    if point.position is not None:
        conditions.append(b.position <= point.position)
    if point.recorded is not None:
        conditions.append(b.opened_at <= queries.as_stored(point.recorded))
    if point.effective is not None:
        conditions.append(b.effective <= point.effective)
    if point.publication is not None:
        p = schema.publications.c
        conditions.append(exists().where(p.budget_id == b.budget_id, p.name == point.publication))
    return and_(*conditions)


@router.get("", response_model=list[BudgetSummary], summary="账本中的全部预算")
def list_budgets(ledger: LedgerDep, point: PointDep) -> list[BudgetSummary]:
    ledger.catch_up()
    b = schema.budgets.c
    query = select(schema.budgets).order_by(b.department, b.fiscal_year)
    if not point.is_now:
        query = query.where(_opened_by(point))
    with ledger.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [BudgetSummary(department=r.department, fiscal_year=r.fiscal_year, budget_id=r.budget_id,
                          units=[Unit(**u) for u in r.units]) for r in rows]


@router.get("/{department}/{fiscal_year}", response_model=BudgetDetail, responses=READ_ERRORS,
            summary="一个预算: 版本 (ETag)、发布节点、导入的文件")
def budget(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
           response: Response) -> BudgetDetail:
    ledger.catch_up()
    if point.is_now:
        # The version a write's If-Match is checked against: the event store's own.
        response.headers["ETag"] = etag(ledger.version(department, fiscal_year))
    with ledger.engine.connect() as conn:
        row = queries.find_budget(conn, department, fiscal_year)
        if point.is_now:
            b = schema.budgets.c
            last, version = conn.execute(select(b.last_position, b.version).where(b.budget_id == row.budget_id)).one()
        else:
            event = queries.last_event(conn, ledger.log, row, point)
            last, version = (event.position, event.version) if event is not None else (None, 0)
        p, d = schema.publications.c, schema.documents.c
        publications = conn.execute(select(p.name, p.position, p.effective, p.recorded_at)
                                    .where(p.budget_id == row.budget_id, p.position <= (last or 0))
                                    .order_by(p.position)).all()
        documents = conn.execute(select(d.name, d.sha256, d.position)
                                 .where(d.budget_id == row.budget_id, d.position <= (last or 0))
                                 .order_by(d.position)).all()
    return BudgetDetail(
        department=row.department, fiscal_year=row.fiscal_year, budget_id=row.budget_id,
        units=[Unit(**u) for u in row.units], version=version, position=last,
        publications=[PublicationOut(**r._mapping) for r in publications],
        documents=[DocumentOut(**r._mapping) for r in documents],
    )
