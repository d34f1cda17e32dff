"""What an auditor reads: the event feed (notification log, in pages with a cursor), the
events behind one cell (lineage), and what changed between two points (diff)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from ...audit import Finding
from ...readmodel import queries
from ...readmodel.lineage import Diff, FigureLineage, Lineage
from ..deps import (
    AS_OF_DOC,
    EFFECTIVE_DOC,
    MAX_POSITION,
    PLAIN_TEXT,
    PUBLICATION_DOC,
    AsOf,
    DepartmentPath,
    EffectiveDate,
    LedgerDep,
    PointDep,
    ReaderRoute,
    YearPath,
    make_point,
    point_label,
)
from ..errors import READ_ERRORS, Problem
from ..paths import BUDGET
from ..schemas import KIND_LABELS, EventOut, EventPage

router = APIRouter(tags=["审计"], route_class=ReaderRoute)

After = Annotated[int, Query(description="游标: 只返回此通知位置之后的事件 (上一页的 next_after)", ge=0,
                             le=MAX_POSITION)]
Limit = Annotated[int, Query(description="每页事件数", ge=1, le=1000)]


def _page(page, points: bool = False) -> EventPage:
    items = [EventOut(position=r.position, budget_id=r.budget_id, event_id=r.event_id, version=r.version,
                      kind=r.kind, kind_label=KIND_LABELS.get(r.kind, r.kind), recorded_at=r.recorded_at,
                      effective=r.effective, reason=r.reason or "", document_no=r.document_no, actor=r.actor,
                      detail=r.detail, point=page.point_of(r) if points else None)
             for r in page.items]
    return EventPage(items=items, next_after=page.next_after, last_position=page.last_position)


@router.get("/api/events", response_model=EventPage, responses=READ_ERRORS, summary="事件日志 (全部预算), 分页")
def events(ledger: LedgerDep, after: After = 0, limit: Limit = 100) -> EventPage:
    return _page(ledger.event_feed(after, limit))


@router.get(BUDGET + "/events", response_model=EventPage, responses=READ_ERRORS,
            summary="一个预算的事件, 分页; 可限定到某一时点")
def budget_events(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
                  after: After = 0, limit: Limit = 100) -> EventPage:
    return _page(ledger.event_feed(after, limit, department, fiscal_year, point), points=True)


class RecordedAudit(BaseModel):
    position: int
    event_id: str = Field(description="审校事件 id; 其第 n 处发现写作 event_id#n (更正的 answers)")
    recorded_at: datetime
    reason: str
    document: str
    rules_version: int
    counts: dict[str, int]
    findings: list[Finding]


@router.get(BUDGET + "/audits", response_model=list[RecordedAudit],
            responses=READ_ERRORS, summary="记入一个预算历史的审校, 及其发现")
def recorded_audits(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep) -> list[RecordedAudit]:
    return [RecordedAudit(position=e.position, event_id=e.event_id, recorded_at=e.recorded_at, reason=e.reason,
                          document=e.detail["document"], rules_version=e.detail["rules_version"],
                          counts=e.detail["counts"], findings=e.detail["findings"])
            for e in ledger.audits(department, fiscal_year)]


RowQuery = Annotated[str, Query(description="行: 标签 (合计)、科目编码 (2210399) 或行键 (0/code:2210399)",
                                min_length=1, max_length=400, pattern=PLAIN_TEXT, examples=["2210399"])]
ColumnQuery = Annotated[str, Query(description="列: 标签 (基本支出) 或列键 (basic)", min_length=1, max_length=100,
                                   pattern=PLAIN_TEXT, examples=["基本支出"])]


# A page is bounded whatever the history: a cell of a budget with 50,000 adjustments has
# 50,000 contributions, listed a page at a time.
ContributionLimit = Annotated[int, Query(description="每页列出的事件数 (至多 1000)", ge=1, le=1000)]
ContributionAfter = Annotated[int, Query(description="游标: 只列出此通知位置之后的事件 (上一页的 next_after)",
                                         ge=0, le=MAX_POSITION)]


@router.get(BUDGET + "/explanation/lineage", response_model=FigureLineage,
            responses=READ_ERRORS, summary="情况说明中一个数的来历 (如 政府采购、三公经费): 构成它的事件, 分页")
def figure_lineage(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep, point: PointDep,
                   figure: Annotated[str, Query(max_length=60, description="情况说明的数 (explanation 的 totals 之键)",
                                                examples=["procurement"])],
                   after: ContributionAfter = 0, limit: ContributionLimit = 100) -> FigureLineage:
    return ledger.figure_history(department, fiscal_year, figure, point, after=after, limit=limit)


@router.get(BUDGET + "/tables/{number}/lineage", response_model=Lineage,
            responses=READ_ERRORS, summary="一个格的来历: 构成它的事件及其贡献, 分页")
def lineage(department: DepartmentPath, fiscal_year: YearPath,
            number: Annotated[int, Path(description="表号 1–13", ge=1, le=99, examples=[3])],
            row: RowQuery, column: ColumnQuery, ledger: LedgerDep, point: PointDep,
            after: ContributionAfter = 0, limit: ContributionLimit = 100) -> Lineage:
    return ledger.history(department, fiscal_year, number, row, column, point, after=after, limit=limit)


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


DIFF_ERRORS = {400: {"model": Problem, "description": "没有给出起点或终点"}, **READ_ERRORS}


@router.get(BUDGET + "/diff", response_model=Diff, responses=DIFF_ERRORS,
            summary="两个时点之间变化的每一格, 及造成变化的事件, 分页")
def diff(department: DepartmentPath, fiscal_year: YearPath, ledger: LedgerDep,
         before: Annotated[queries.Point, Depends(_side("from", "起点"))],
         after: Annotated[queries.Point, Depends(_side("to", "终点"))],
         offset: Annotated[int, Query(description="从第几个变化的格开始 (上一页的 next_offset)", ge=0,
                                      le=MAX_POSITION)] = 0,
         limit: Annotated[int, Query(description="每页的格数 (至多 1000)", ge=1, le=1000)] = 200,
         events_limit: Annotated[int, Query(description="每格列出的事件数 (至多 100; 全部见该格的来历)", ge=0,
                                            le=100)] = 20) -> Diff:
    if before.is_now and after.is_now:
        raise HTTPException(400, "比较需要两个时点: 请给出起点 (from_as_of、from_effective、from_publication) "
                                 "或终点 (to_as_of、to_effective、to_publication) 中的至少一个; 省略的一方为最新")
    return ledger.diff(department, fiscal_year, before, after, labels=(point_label(before), point_label(after)),
                       offset=offset, limit=limit, events_limit=events_limit)
