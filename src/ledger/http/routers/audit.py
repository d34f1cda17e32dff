"""What an auditor reads: the event feed (notification log, in pages with a cursor), the
events behind one cell (lineage), and what changed between two points (diff)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from ...readmodel import queries
from ...readmodel.lineage import Diff, Lineage
from ..deps import (AS_OF_DOC, EFFECTIVE_DOC, MAX_POSITION, PLAIN_TEXT, PUBLICATION_DOC, AsOf, DepartmentPath,
                    EffectiveDate, LedgerDep, PointDep, YearPath, make_point, point_label)
from ..errors import READ_ERRORS
from ..schemas import KIND_LABELS, EventOut, EventPage

router = APIRouter(tags=["审计"])

After = Annotated[int, Query(description="游标: 只返回此通知位置之后的事件 (上一页的 next_after)", ge=0,
                             le=MAX_POSITION)]
Limit = Annotated[int, Query(description="每页事件数", ge=1, le=1000)]


def _page(page) -> EventPage:
    items = [EventOut(position=r.position, budget_id=r.budget_id, event_id=r.event_id, version=r.version,
                      kind=r.kind, kind_label=KIND_LABELS.get(r.kind, r.kind), recorded_at=r.recorded_at,
                      effective=r.effective, reason=r.reason or "", document_no=r.document_no, detail=r.detail)
             for r in page.items]
    return EventPage(items=items, next_after=page.next_after, last_position=page.last_position)


@router.get("/api/events", response_model=EventPage, responses=READ_ERRORS, summary="事件日志 (全部预算), 分页")
def events(ledger: LedgerDep, after: After = 0, limit: Limit = 100) -> EventPage:
    return _page(ledger.event_feed(after, limit))


@router.get("/api/budgets/{department}/{fiscal_year}/events", response_model=EventPage, responses=READ_ERRORS,
            summary="一个预算的事件, 分页; 可限定到某一时点")
def budget_events(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
                  after: After = 0, limit: Limit = 100) -> EventPage:
    return _page(ledger.event_feed(after, limit, department, fiscal_year, point))


RowQuery = Annotated[str, Query(description="行: 标签 (合计)、科目编码 (2210399) 或行键 (0/code:2210399)",
                                min_length=1, max_length=400, pattern=PLAIN_TEXT, examples=["2210399"])]
ColumnQuery = Annotated[str, Query(description="列: 标签 (基本支出) 或列键 (basic)", min_length=1, max_length=100,
                                   pattern=PLAIN_TEXT, examples=["基本支出"])]


@router.get("/api/budgets/{department}/{fiscal_year}/tables/{number}/lineage", response_model=Lineage,
            responses=READ_ERRORS, summary="一个格的来历: 构成它的事件及其贡献")
def lineage(department: DepartmentPath, fiscal_year: YearPath,
            number: Annotated[int, Path(description="表号 1–13", ge=1, le=99, examples=[3])],
            row: RowQuery, column: ColumnQuery, ledger: LedgerDep, point: PointDep) -> Lineage:
    return ledger.history(department, fiscal_year, number, row, column, point)


def _side(prefix: str, word: str):
    def side(
        as_of: Annotated[AsOf | None, Query(alias=f"{prefix}_as_of", description=f"{word}: {AS_OF_DOC}")] = None,
        effective: Annotated[EffectiveDate | None, Query(alias=f"{prefix}_effective",
                                                         description=f"{word}: {EFFECTIVE_DOC}")] = None,
        publication: Annotated[str | None, Query(alias=f"{prefix}_publication", max_length=200, pattern=PLAIN_TEXT,
                                                 description=f"{word}: {PUBLICATION_DOC}")] = None,
    ) -> queries.Point:
        return make_point(as_of, effective, publication)

    return side


@router.get("/api/budgets/{department}/{fiscal_year}/diff", response_model=Diff, responses=READ_ERRORS,
            summary="两个时点之间变化的每一格, 及造成变化的事件")
def diff(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep,
         before: Annotated[queries.Point, Depends(_side("from", "起点"))],
         after: Annotated[queries.Point, Depends(_side("to", "终点"))]) -> Diff:
    return ledger.diff(department, fiscal_year, before, after, labels=(point_label(before), point_label(after)))
