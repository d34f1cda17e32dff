"""Is the service up, and how far has the read model caught up with the event log. When reads
need a token (LEDGER_READ_TOKEN_REQUIRED), a request without a reader's token learns only
whether the service is up: the counts describe the ledger's contents."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from ..deps import LedgerDep, authorize, get_settings
from ..schemas import Health

router = APIRouter(tags=["健康检查"])
log = logging.getLogger(__name__)


def _may_read(request: Request) -> bool:
    settings = get_settings(request)
    if not settings.read_token_required:
        return True
    try:
        authorize(settings, request.headers.get("authorization"), "reader")
    except HTTPException:
        return False
    return True


@router.get("/api/health", response_model=Health, response_model_exclude_none=True,
            responses={503: {"model": Health, "description": "存储不可用"}},
            summary="服务状态 (需读取令牌时, 无令牌只返回 status)")
def health(ledger: LedgerDep, request: Request) -> Health | JSONResponse:
    try:
        status = ledger.status()  # catches the read model up first
    except Exception:  # noqa: BLE001 - the store is down or broken: say so, without details
        log.warning("health: the store did not answer", exc_info=True)
        return JSONResponse({"status": "error"}, status_code=503)
    if not _may_read(request):
        return Health(status="ok")
    chain = status.chain
    return Health(status="ok", store=status.store, position=status.position, projected=status.projected,
                  budgets=status.budgets, chain=chain.state, chain_verified_at=chain.verified_at,
                  chain_verified_position=chain.verified_position, chain_broken_since=chain.broken_since,
                  chain_problems=list(chain.problems) if chain.state == "broken" else None)
