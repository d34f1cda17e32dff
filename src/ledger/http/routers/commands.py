"""What a budget officer records: appropriations, adjustments, transfers, corrections and
publications. Each needs an officer's token; If-Match guards against a stale read and
Idempotency-Key makes a retry return the first result. The line of an appropriation,
adjustment or transfer is a spending line, a “三公”经费 item (表十) or a 政府采购 category."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ...application import Recorded, commands
from ..deps import DepartmentPath, LedgerDep, OfficerAccess, OfficerRoute, YearPath, actor_of, token_digest
from ..errors import WRITE_ERRORS, InvalidField
from ..idempotency import KEY_DOC, Claim, Outcome, check_key, fingerprint
from ..paths import BUDGET
from ..schemas import RecordedOut
from ..versions import etag, parse_if_match

router = APIRouter(prefix=BUDGET, tags=["记录命令"], dependencies=[OfficerAccess],
                   route_class=OfficerRoute)

IfMatch = Annotated[str | None, Header(alias="If-Match", description="预算版本 (读取时的 ETag), 如 \"90\"; "
                                       "预算已变化时返回 409, 不记录")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description=KEY_DOC, max_length=200)]

# Limits of the stores (document numbers and publication names are VARCHAR(200)); reasons
# are free text but bounded so one event stays small.
MAX_TEXT = 200
MAX_REASON = 1000

LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}
EXAMPLES = {
    "appropriate": {"line": LINE, "amount": "10万元", "reason": "人员增资", "effective": "2024-06-30",
                    "document_no": "长财预〔2024〕12号"},
    "adjust": {"line": LINE, "amount": "-20000.00", "reason": "社保缴费基数调整", "effective": "2024-06-30"},
    "transfer": {"from_line": LINE, "to_line": {**LINE, "economic": "津贴补贴/工资奖金津补贴"}, "amount": "5000.00",
                 "reason": "调剂用于津贴补贴", "effective": "2024-06-30"},
    # Position 92: with the seed imported (positions 1–90), the adjustment example above is the
    # second command recorded. Figures imported on one axis cannot be reversed alone (勾稽).
    "correct": {"event": 92, "reason": "更正录入错误", "effective": "2024-07-01"},
    "publish": {"name": "调整预算", "reason": "年中调整后公开", "effective": "2024-07-01"},
    "audit": {"reason": "年度审校"},
}
# The other kinds of line: a “三公”经费 item of a fiscal source (表十), a 政府采购 category.
MORE_EXAMPLES = {
    "appropriate": {"three_public": {
        "summary": "“三公”经费: 公务接待费 (一般公共预算) 增加", "value": {
            "line": {"three_public": "reception", "source": "general"}, "amount": "5000",
            "reason": "接待任务增加", "effective": "2024-06-30"}}},
    "adjust": {
        "three_public": {"summary": "“三公”经费: 公务用车运行维护费 (一般公共预算) 减少", "value": {
            "line": {"three_public": "vehicle_operation", "source": "general"}, "amount": "-5000.00",
            "reason": "压减公务用车运行维护费", "effective": "2024-06-30"}},
        "procurement": {"summary": "政府采购: 货物预算增加", "value": {
            "line": {"procurement": "goods"}, "amount": "1万元", "reason": "增购办公设备",
            "effective": "2024-06-30"}}},
    "transfer": {"three_public": {
        "summary": "“三公”经费: 从公务用车运行维护费调剂到公务接待费", "value": {
            "from_line": {"three_public": "vehicle_operation"}, "to_line": {"three_public": "reception"},
            "amount": "2000.00", "reason": "调剂用于公务接待", "effective": "2024-06-30"}}},
}


def check_text(value: Any, location: str) -> None:
    """Refuse text the stores cannot hold: control characters, or longer than a column."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(item, f"{location}.{key}")
    elif isinstance(value, str):
        limit = MAX_REASON if location.endswith(".reason") else MAX_TEXT
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise InvalidField(location, "不能包含控制字符")
        if len(value) > limit:
            raise InvalidField(location, f"最多 {limit} 个字符")


def _record(action: str, department: str, fiscal_year: int, command: BaseModel, ledger, request: Request,
            if_match: str | None, key: str | None) -> JSONResponse:
    data = command.model_dump(mode="json")
    check_text(data, "body")
    expected = parse_if_match(if_match)
    key = check_key(key)

    def run(claim: Claim | None) -> Recorded:
        return getattr(ledger, action)(department, fiscal_year, command, expected_version=expected,
                                       actor=actor_of(request), claim=claim)

    def respond(recorded: Recorded) -> Outcome:
        body = RecordedOut(department=department, fiscal_year=fiscal_year, event_id=recorded.event_id,
                           position=recorded.position, kind=recorded.kind, version=recorded.version,
                           effective=recorded.effective, effective_note=recorded.effective_note)
        return Outcome(201, body.model_dump(mode="json"), {"ETag": etag(recorded.version)})

    def last_recorded() -> tuple[int, datetime] | None:
        last = ledger.last_recorded(department, fiscal_year)
        return (last.position, last.recorded_at) if last else None

    return request.app.state.idempotency.run(key, token_digest(request), fingerprint("POST", request.url.path, data),
                                             run, respond, last_recorded).response()


def _body(model: type[BaseModel], action: str) -> Any:
    example = {"seed": {"summary": "长治市住房公积金管理中心 2024年", "value": EXAMPLES[action]},
               **MORE_EXAMPLES.get(action, {})}
    return Annotated[model, Body(openapi_examples=example)]


AppropriateBody = _body(commands.Appropriate, "appropriate")
AdjustBody = _body(commands.Adjust, "adjust")
TransferBody = _body(commands.Transfer, "transfer")
CorrectBody = _body(commands.Correct, "correct")
PublishBody = _body(commands.Publish, "publish")
AuditBody = _body(commands.RecordAudit, "audit")


@router.post("/appropriations", status_code=201, response_model=RecordedOut, responses=WRITE_ERRORS,
             summary="新增拨款 (支出行、“三公”经费或政府采购)")
def appropriate(department: DepartmentPath, fiscal_year: YearPath, command: AppropriateBody,
                ledger: LedgerDep, request: Request, if_match: IfMatch = None,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _record("appropriate", department, fiscal_year, command, ledger, request, if_match, idempotency_key)


@router.post("/adjustments", status_code=201, response_model=RecordedOut, responses=WRITE_ERRORS,
             summary="预算调整 (减少为负数; 支出行、“三公”经费或政府采购)")
def adjust(department: DepartmentPath, fiscal_year: YearPath, command: AdjustBody,
           ledger: LedgerDep, request: Request, if_match: IfMatch = None,
           idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _record("adjust", department, fiscal_year, command, ledger, request, if_match, idempotency_key)


@router.post("/transfers", status_code=201, response_model=RecordedOut, responses=WRITE_ERRORS,
             summary="调剂 (总额不变; 调出行与调入行同类)")
def transfer(department: DepartmentPath, fiscal_year: YearPath, command: TransferBody,
             ledger: LedgerDep, request: Request, if_match: IfMatch = None,
             idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _record("transfer", department, fiscal_year, command, ledger, request, if_match, idempotency_key)


@router.post("/corrections", status_code=201, response_model=RecordedOut, responses=WRITE_ERRORS,
             summary="更正 (冲销) 一个较早的事件")
def correct(department: DepartmentPath, fiscal_year: YearPath, command: CorrectBody,
            ledger: LedgerDep, request: Request, if_match: IfMatch = None,
            idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _record("correct", department, fiscal_year, command, ledger, request, if_match, idempotency_key)


@router.post("/publications", status_code=201, response_model=RecordedOut, responses=WRITE_ERRORS,
             summary="发布节点 (年初预算、调整预算……)")
def publish(department: DepartmentPath, fiscal_year: YearPath, command: PublishBody,
            ledger: LedgerDep, request: Request, if_match: IfMatch = None,
            idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _record("publish", department, fiscal_year, command, ledger, request, if_match, idempotency_key)


@router.post("/audits", status_code=201, response_model=RecordedOut, responses=WRITE_ERRORS,
             summary="审校账本中的预算, 把审校及其发现记入历史 (审校事件)")
def record_audit(department: DepartmentPath, fiscal_year: YearPath, command: AuditBody,
                 ledger: LedgerDep, request: Request, if_match: IfMatch = None,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    return _record("audit", department, fiscal_year, command, ledger, request, if_match, idempotency_key)
