"""Is the service up, and how far has the read model caught up with the event log."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import LedgerDep
from ..schemas import Health

router = APIRouter(tags=["健康检查"])


@router.get("/api/health", response_model=Health, summary="服务状态")
def health(ledger: LedgerDep) -> Health:
    status = ledger.status()  # catches the read model up first
    return Health(status="ok", store=status.store, position=status.position, projected=status.projected,
                  budgets=status.budgets)
