"""Every error is one JSON shape (a problem, after RFC 9457) whose message names the place:
the field of the body or query, the rule a command would break, the line of a document."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.budget import RuleViolation
from ..ingest.errors import DocumentRejected
from ..readmodel.queries import NotFound

TITLES = {
    400: "请求错误", 401: "未认证", 403: "无权操作", 404: "未找到", 405: "方法不允许", 409: "冲突",
    413: "文件过大", 415: "不支持的内容类型", 422: "请求无效", 500: "服务器错误", 503: "服务不可用",
}


class ProblemItem(BaseModel):
    location: str = Field(description="出错的位置: 字段 (body.line.code)、规则名或文件行号", examples=["body.amount"])
    message: str = Field(examples=["新增预算金额必须为正数"])


class Problem(BaseModel):
    status: int = Field(examples=[422])
    title: str = Field(examples=["请求无效"])
    detail: str = Field(description="给预算人员看的说明, 指明出错的位置",
                        examples=["body.amount: 新增预算金额必须为正数; 未记录任何事件"])
    errors: list[ProblemItem] = Field(default_factory=list)


class InvalidField(Exception):
    """A request value the route itself found wrong (beyond what its schema says)."""

    def __init__(self, location: str, message: str):
        self.location, self.message = location, message
        super().__init__(f"{location}: {message}")


class IdempotencyConflict(Exception):
    """The same Idempotency-Key is still being processed by another request."""


class IdempotencyMismatch(Exception):
    """The same Idempotency-Key was used before with a different request."""


def problem(status: int, detail: str, errors: list[ProblemItem] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(status=status, title=TITLES.get(status, "错误"), detail=detail, errors=errors or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _location(loc: tuple | list) -> str:
    return ".".join(str(p) for p in loc)


def _nothing_recorded(request: Request) -> str:
    return "; 未记录任何事件" if request.method not in ("GET", "HEAD") else ""


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    items = [ProblemItem(location=_location(e["loc"]), message=str(e.get("msg", "")).removeprefix("Value error, "))
             for e in exc.errors()]
    detail = "; ".join(f"{i.location}: {i.message}" for i in items)
    return problem(422, detail + _nothing_recorded(request), items)


def _invalid_field(request: Request, exc: InvalidField) -> JSONResponse:
    return problem(422, f"{exc.location}: {exc.message}{_nothing_recorded(request)}",
                   [ProblemItem(location=exc.location, message=exc.message)])


def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
    return problem(404, str(exc))


def _rule(_request: Request, exc: RuleViolation) -> JSONResponse:
    items = [ProblemItem(location=v.rule, message=v.message) for v in exc.violations]
    return problem(422, f"命令被拒绝, 未记录任何事件: {exc}", items)


def _rejected(_request: Request, exc: DocumentRejected) -> JSONResponse:
    items = [ProblemItem(location=f"第{p.line}行" if p.line is not None else (p.table or "文件"), message=str(p))
             for p in exc.problems]
    return problem(422, "文件未导入, 未记录任何事件:\n" + "\n".join(str(p) for p in exc.problems), items)


def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return problem(409, str(exc))


def _mismatch(_request: Request, exc: IdempotencyMismatch) -> JSONResponse:
    return problem(422, str(exc), [ProblemItem(location="header.Idempotency-Key", message=str(exc))])


def install(app: FastAPI) -> None:
    from ..application import ConcurrentChange

    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(InvalidField, _invalid_field)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(RuleViolation, _rule)
    app.add_exception_handler(DocumentRejected, _rejected)
    app.add_exception_handler(ConcurrentChange, _conflict)
    app.add_exception_handler(IdempotencyConflict, _conflict)
    app.add_exception_handler(IdempotencyMismatch, _mismatch)


# Error responses every route may give, for the OpenAPI document.
READ_ERRORS = {404: {"model": Problem, "description": "未知的预算、表、行或发布节点"},
               422: {"model": Problem, "description": "参数无效 (错误信息指明字段)"}}
AUTH_ERRORS = {401: {"model": Problem, "description": "缺少或无效的令牌"},
               403: {"model": Problem, "description": "令牌的角色无权执行此操作"}}
WRITE_ERRORS = {400: {"model": Problem, "description": "请求体无法解析"}, **AUTH_ERRORS, **READ_ERRORS,
                409: {"model": Problem, "description": "If-Match 版本已过期, 或同一 Idempotency-Key 的请求正在处理"},
                422: {"model": Problem, "description": "请求无效或命令违反预算规则; 未记录任何事件"}}
