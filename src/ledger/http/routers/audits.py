"""Auditing a published disclosure (审校): a document in, its findings out; nothing recorded."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response

from ...audit import AuditReport
from ...audit import formats as audit_formats
from ..deps import LedgerDep, ReaderRoute
from ..downloads import findings_xlsx
from ..errors import READ_ERRORS, Problem
from .documents import document_name

router = APIRouter(prefix="/api/audits", tags=["审校"], route_class=ReaderRoute)


@router.post("", response_model=AuditReport,
             responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}, 413: {"model": Problem, "description": "文件超过大小限制"},
                        **READ_ERRORS},
             summary="审校一份公开文件 (PDF 或文本): 每处不一致及其位置; 不记录任何事件",
             description="账本中有文件上一年度的预算 (或决算) 时, 文件所列的上年数也与上一年度自己的事件比较 "
                         "(规则 history.prior_year)。")
async def audit_document(file: Annotated[UploadFile, File(description="部门预算或决算公开文件 (PDF 或文本)")],
                         request: Request, ledger: LedgerDep,
                         format: Annotated[Literal["json", "csv", "xlsx"],
                                           Query(description="json (默认) | csv | xlsx")] = "json",
                         with_text: Annotated[bool, Query(description="JSON 中附上文件正文 (span 所指的全文)")] = False,
                         ) -> Response:
    limit = request.app.state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"文件超过 {limit} 字节的限制")
    name = document_name(file.filename)
    report = await run_in_threadpool(ledger.audit_document_in_ledger, data, name, with_text and format == "json")
    download = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}-audit.{format}"}
    if format == "csv":
        return PlainTextResponse(audit_formats.to_csv(report), media_type="text/csv; charset=utf-8", headers=download)
    if format == "xlsx":
        return Response(findings_xlsx(report), headers=download,
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(report.model_dump_json(), media_type="application/json")
