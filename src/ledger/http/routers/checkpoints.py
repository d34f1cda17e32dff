"""The latest signed checkpoint (`ledger checkpoint`), for auditors to fetch and keep outside
the store; `ledger verify --against` checks the store against a kept copy."""

from fastapi import APIRouter
from fastapi.responses import Response

from ..deps import LedgerDep, ReaderRoute
from ..errors import Problem, problem

router = APIRouter(tags=["审计"], route_class=ReaderRoute)


@router.get("/api/checkpoints/latest", summary="最新的签名检查点 (ledger checkpoint 签署; 请保存在事件库之外)",
            responses={200: {"content": {"application/json": {}},
                             "description": "检查点 JSON, 与签署时逐字相同 (签名覆盖除 signature 外的全部字段)"},
                       404: {"model": Problem, "description": "还没有签署过检查点"}})
def latest_checkpoint(ledger: LedgerDep) -> Response:
    document = ledger.latest_checkpoint()
    if document is None:
        return problem(404, "还没有检查点: 由持有签名私钥的人运行 ledger checkpoint --key KEYFILE")
    return Response(document, media_type="application/json")
