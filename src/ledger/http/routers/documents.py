"""Importing a published disclosure (admin): the document is uploaded as a file."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated

from fastapi import APIRouter, File, Header, HTTPException, Request, UploadFile, status
from fastapi.responses import JSONResponse

from ...application import ImportResult
from ..deps import AdminAccess, AdminRoute, LedgerDep, actor_of, token_digest
from ..errors import WRITE_ERRORS, Problem
from ..idempotency import KEY_DOC, Claim, Outcome, check_key, fingerprint
from ..schemas import ImportOut
from ..versions import etag

router = APIRouter(prefix="/api/documents", tags=["导入"], dependencies=[AdminAccess], route_class=AdminRoute)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200, description=KEY_DOC)]


def document_name(filename: str | None) -> str:
    """The file's own name (no directories, no control characters), as provenance."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or "document.txt"


@router.post("", status_code=201, response_model=ImportOut,
             responses={200: {"model": ImportOut, "description": "同一文件已导入过: 未记录任何事件"},
                        413: {"model": Problem, "description": "文件超过大小限制"}, **WRITE_ERRORS},
             summary="导入部门预算公开文件 (UTF-8 文本, 表格以制表符分隔)")
def import_document(file: Annotated[UploadFile, File(description="部门预算公开文本, 如 changzhi-hpf-2024-budget.txt")],
                    ledger: LedgerDep, request: Request, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    limit = request.app.state.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"文件超过 {limit} 字节的限制; 未记录任何事件")
    name = document_name(file.filename)
    key = check_key(idempotency_key)

    def run(claim: Claim | None) -> ImportResult:
        return ledger.import_document(data, name, actor=actor_of(request), claim=claim)

    def respond(result: ImportResult) -> Outcome:
        plan = result.plan
        version = result.version if result.version is not None else ledger.version(result.department, result.fiscal_year)
        body = ImportOut(
            department=result.department, fiscal_year=result.fiscal_year, recorded=result.recorded,
            already_imported=result.already_imported,
            positions=list(result.positions) if result.positions else None,
            version=version,
            tables=plan.tables if plan else None, rounding_cells=list(plan.rounding_cells) if plan else [],
            rounding=list(plan.rounding) if plan else [], notes=list(result.notes),
        )
        code = 200 if result.already_imported else 201
        return Outcome(code, body.model_dump(mode="json"), {"ETag": etag(body.version)})

    request_print = fingerprint("POST", request.url.path, [name, hashlib.sha256(data).hexdigest()])
    return request.app.state.idempotency.run(key, token_digest(request), request_print, run, respond).response()
