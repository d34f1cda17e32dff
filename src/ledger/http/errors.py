"""Every error is one JSON shape (a problem, after RFC 9457) whose message names the place:
the field of the body or query, the rule a command would break, the line of a document."""

from __future__ import annotations

import re
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..application.commands import error_location, extra_field_message
from ..domain.budget import RuleViolation
from ..ingest.errors import DocumentRejected
from ..domain.crosswalk import CrosswalkError
from ..readmodel.lineage import AmbiguousRow
from ..readmodel.queries import NotFound, PointInsideImport
from ..eventstore.timelimit import TimeLimitExceeded

TITLES = {
    400: "请求错误", 401: "未认证", 403: "无权操作", 404: "未找到", 405: "方法不允许", 409: "冲突",
    413: "请求体过大", 415: "不支持的内容类型", 422: "请求无效", 431: "请求头过大", 500: "服务器错误",
    503: "服务不可用",
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


# pydantic's and FastAPI's English messages for the common error types, in Chinese; {names}
# come from the error's context (pydantic_core's ErrorType list). Our own validators raise
# ValueError with a Chinese message already ("value_error").
MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为字符串",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符 (应匹配 {pattern})",
    "string_unicode": "应为有效的 UTF-8 字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_parsing_size": "整数超出范围",
    "int_from_float": "应为整数 (不带小数)",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "literal_error": "应为以下之一: {expected}",
    "enum": "应为以下之一: {expected}",
    "date_type": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期 YYYY-MM-DD (不含时间)",
    "datetime_type": "应为 ISO 8601 时间, 如 2024-03-01T12:00:00+00:00",
    "datetime_parsing": "应为 ISO 8601 时间, 如 2024-03-01T12:00:00+00:00",
    "datetime_from_date_parsing": "应为 ISO 8601 时间, 如 2024-03-01T12:00:00+00:00",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "json_invalid": "请求体不是有效的 JSON",
    "json_type": "应为 JSON 文本",
    "union_tag_invalid": "类型标记无效",
    "uuid_parsing": "应为 UUID",
    "uuid_type": "应为 UUID",
}


def message_of(error: dict) -> str:
    """One validation error's message in Chinese (its own message if the type is not listed)."""
    if error.get("type") == "extra_forbidden" and (special := extra_field_message(error.get("loc", ()))):
        return special
    template = MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return str(error.get("msg", "")).removeprefix("Value error, ")
    context = {k: re.sub(r"\s+or\s+", ", ", str(v)) for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template.split(":")[0].split(" {")[0]


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    items = [ProblemItem(location=_location(error_location(e["loc"])), message=message_of(e)) for e in exc.errors()]
    detail = "; ".join(f"{i.location}: {i.message}" for i in items)
    return problem(422, detail + _nothing_recorded(request), items)


def _invalid_field(request: Request, exc: InvalidField) -> JSONResponse:
    return problem(422, f"{exc.location}: {exc.message}{_nothing_recorded(request)}",
                   [ProblemItem(location=exc.location, message=exc.message)])


# What Starlette and FastAPI say in English when they refuse a request themselves.
PHRASES = {
    400: "请求无法解析", 404: "未找到该地址", 405: "该地址不支持此方法", 406: "无法提供所请求的内容类型",
    411: "需要 Content-Length", 413: "请求体过大", 415: "不支持的内容类型", 431: "请求头过大",
}
ENGLISH = {"There was an error parsing the body": "请求体无法解析",
           "Invalid multipart data.": "上传的内容不是有效的 multipart/form-data 表单",
           "Missing boundary in multipart.": "multipart/form-data 表单缺少 boundary"}


def _detail(request: Request, exc: StarletteHTTPException) -> str:
    detail = str(exc.detail)
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = None
    if detail in ENGLISH:
        return ENGLISH[detail]
    if detail == phrase:
        chinese = PHRASES.get(exc.status_code, TITLES.get(exc.status_code, detail))
        return f"{chinese}: {request.method} {request.url.path}" if exc.status_code in (404, 405) else chinese
    return detail


def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return problem(exc.status_code, _detail(request, exc), headers=getattr(exc, "headers", None))


def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
    return problem(404, str(exc))


def _inside_import(_request: Request, exc: PointInsideImport) -> JSONResponse:
    return problem(422, str(exc), [ProblemItem(location="query.as_of", message=str(exc))])


def _crosswalk(_request: Request, exc: CrosswalkError) -> JSONResponse:
    """A crosswalk file of the server's (LEDGER_CROSSWALKS) that cannot be used: the server's
    fault, named with its file and line, not a traceback."""
    return problem(500, f"科目对照表有误, 无法比较相邻年度: {exc}")


def _ambiguous(_request: Request, exc: AmbiguousRow) -> JSONResponse:
    items = [ProblemItem(location="query.row", message=str(exc))]
    items += [ProblemItem(location=f"query.row={key}", message=label) for key, label in exc.candidates]
    return problem(422, str(exc), items)


# Rules about one field of the command name that field as the place.
_RULE_FIELDS = {"effective-in-year": "body.effective"}


def _rule(_request: Request, exc: RuleViolation) -> JSONResponse:
    items = [ProblemItem(location=_RULE_FIELDS.get(v.rule, v.rule), message=v.message) for v in exc.violations]
    return problem(422, f"命令被拒绝, 未记录任何事件: {exc}", items)


def _rejected(_request: Request, exc: DocumentRejected) -> JSONResponse:
    items = [ProblemItem(location=f"第{p.line}行" if p.line is not None else (p.table or "文件"), message=str(p))
             for p in exc.problems]
    return problem(422, "文件未导入, 未记录任何事件:\n" + "\n".join(str(p) for p in exc.problems), items)


def _time_limit(_request: Request, exc: TimeLimitExceeded) -> JSONResponse:
    return problem(503, f"{exc}: 此预算的历史很长; 请缩小范围 (如较小的 limit, 或较近的时点) 后重试")


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
    app.add_exception_handler(PointInsideImport, _inside_import)  # the more specific class wins
    app.add_exception_handler(AmbiguousRow, _ambiguous)
    app.add_exception_handler(CrosswalkError, _crosswalk)
    app.add_exception_handler(TimeLimitExceeded, _time_limit)
    app.add_exception_handler(RuleViolation, _rule)
    app.add_exception_handler(DocumentRejected, _rejected)
    app.add_exception_handler(ConcurrentChange, _conflict)
    app.add_exception_handler(IdempotencyConflict, _conflict)
    app.add_exception_handler(IdempotencyMismatch, _mismatch)


# Error responses every route may give, for the OpenAPI document.
READ_ERRORS = {404: {"model": Problem, "description": "未知的预算、表、行或发布节点"},
               422: {"model": Problem, "description": "参数无效 (错误信息指明字段), 行名对应多行, 或 as_of 落在一次导入之中"},
               503: {"model": Problem, "description": "读取超过时限 (LEDGER_READ_TIME_LIMIT), 已停止"}}
AUTH_ERRORS = {401: {"model": Problem, "description": "缺少或无效的令牌"},
               403: {"model": Problem, "description": "令牌的角色无权执行此操作"}}
WRITE_ERRORS = {400: {"model": Problem, "description": "请求体无法解析"}, **AUTH_ERRORS, 404: READ_ERRORS[404],
                413: {"model": Problem, "description": "请求体超过大小限制"},
                409: {"model": Problem, "description": "If-Match 版本已过期, 或同一 Idempotency-Key 的首次请求结果未定"},
                422: {"model": Problem, "description": "请求无效或命令违反预算规则; 未记录任何事件"}}
