"""What every route shares: settings, the one Ledger of this process, bearer-token roles,
and the point in history a read asks for (the same as-of / effective / publication as the CLI)."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator, Field

from ..readmodel.queries import Point
from ..application import Ledger
from ..eventstore.timelimit import time_limit

# Roles, each allowing what the ones before it allow: reading, commands, imports.
ROLES = ("reader", "officer", "admin")

# Text that reaches the stores: no control characters (PostgreSQL refuses NUL in text).
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"
MAX_POSITION = 2**63 - 1


class SettingsError(ValueError):
    """A setting the service cannot start with; the message names it (and never a token)."""


class TokenConfigError(SettingsError):
    """A token setting the service cannot use; the message never contains a token."""


MIN_TOKEN = 16  # characters
MAX_TOKEN_NAME = 64  # characters of a token's name (who recorded an event, issue 20)


def setting_number(env: dict[str, str], name: str, default: int | float, kind: type = int,
                   positive: bool = False) -> int | float:
    """A numeric setting (sizes, seconds): the default when unset, else non-negative (or, with
    `positive`, greater than zero), or a SettingsError naming it."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = -1
    if positive and not value > 0:
        raise SettingsError(f"{name} 应为正数 (秒): {text!r}")
    if value < 0:
        raise SettingsError(f"{name} 应为非负{'整数' if kind is int else '数'}: {text!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    # (role, token, name), or (role, token) for a token without a name (named by its role then).
    tokens: tuple[tuple[str, bytes] | tuple[str, bytes, str], ...] = ()
    read_token_required: bool = False
    max_upload_bytes: int = 5 * 1024 * 1024
    max_body_bytes: int = 64 * 1024  # every other request body (JSON commands)
    max_header_bytes: int = 16 * 1024  # the request line and all headers together
    read_time_limit: float = 30.0  # seconds a read may replay history (0: no limit)
    table_cache_size: int = 256  # current tables kept as JSON bytes per process (0: none)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        tokens: list[tuple[str, bytes]] = []
        if env.get("LEDGER_TOKENS_FILE"):
            path = FilePath(env["LEDGER_TOKENS_FILE"])
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise TokenConfigError(f"LEDGER_TOKENS_FILE {path}: {exc.strerror}") from None
            tokens += parse_token_lines(text.splitlines(), source=str(path), separator=None)
        if env.get("LEDGER_TOKENS"):
            tokens += parse_token_lines(env["LEDGER_TOKENS"].split(","), source="LEDGER_TOKENS", separator=":")
        return cls(
            database_url=env.get("LEDGER_DATABASE_URL") or None,
            tokens=tuple(_named(tokens)),
            read_token_required=env.get("LEDGER_READ_TOKEN_REQUIRED", "").lower() in ("1", "true", "yes"),
            max_upload_bytes=setting_number(env, "LEDGER_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            max_body_bytes=setting_number(env, "LEDGER_MAX_BODY_BYTES", cls.max_body_bytes),
            max_header_bytes=setting_number(env, "LEDGER_MAX_HEADER_BYTES", cls.max_header_bytes),
            read_time_limit=setting_number(env, "LEDGER_READ_TIME_LIMIT", cls.read_time_limit, float),
        )


def parse_token_lines(lines: list[str], *, source: str,
                      separator: str | None) -> list[tuple[str, bytes, str | None]]:
    """`role token` or `role name token` lines (a file), `role:token` or `role:name:token` items
    (an environment variable; an item with two colons is named, so a token containing a colon
    must be given with a name). A token without a name has None here (see _named)."""
    out = []
    sep = separator or " "
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in (line.split(separator, 2) if separator else line.split(None, 2))]
        if len(parts) < 2 or not parts[-1]:
            raise TokenConfigError(f"{source} 第{number}项: 应写作 角色{sep}令牌 或 角色{sep}名称{sep}令牌 "
                                   f"(角色: {', '.join(ROLES)})")
        role, token = parts[0], parts[-1]
        name = parts[1] if len(parts) == 3 else None
        if name is not None:
            bad = next((ch for ch in name if not ch.isprintable() or ch.isspace() or ch == ":"), None)
            if not name or len(name) > MAX_TOKEN_NAME or bad is not None:
                raise TokenConfigError(f"{source} 第{number}项: 令牌名称应为 1–{MAX_TOKEN_NAME} 个可打印字符, "
                                       "不含空格与冒号")
        if role not in ROLES:
            raise TokenConfigError(f"{source} 第{number}项: 未知角色 {role!r} (角色: {', '.join(ROLES)})")
        if len(token) < MIN_TOKEN:
            raise TokenConfigError(f"{source} 第{number}项: 令牌至少{MIN_TOKEN}个字符")
        if not all(33 <= ord(ch) <= 126 for ch in token):
            # HTTP headers carry bytes, read as Latin-1: a token with other characters could
            # never be presented as configured.
            raise TokenConfigError(f"{source} 第{number}项: 令牌只能由 ASCII 可见字符组成 (字母、数字、符号; "
                                   "不含空格、中文或其他非 ASCII 字符)")
        out.append((role, token.encode("utf-8"), name))
    return out


def _named(tokens: list[tuple[str, bytes, str | None]]) -> list[tuple[str, bytes, str]]:
    """Every token with a name: a token configured without one is `<role>-<n>` (the n-th such
    token of its role, in the order configured: the file's lines, then LEDGER_TOKENS). Two
    tokens of one name are refused (an event must say who recorded it)."""
    counts: dict[str, int] = {}
    out, seen = [], set()
    for role, token, name in tokens:
        if name is None:
            counts[role] = counts.get(role, 0) + 1
            name = f"{role}-{counts[role]}"
        if name in seen:
            raise TokenConfigError(f"令牌名称 {name!r} 重复: 每个令牌的名称应各不相同")
        seen.add(name)
        out.append((role, token, name))
    return out


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_ledger(request: Request) -> Ledger:  # async: no thread-pool hop for a lookup
    return request.app.state.ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer 令牌 (角色: officer 记录命令, admin 导入文件)")


@dataclass(frozen=True)
class Who:
    """Whose token a request presented: its role and its name."""

    role: str
    name: str

    @property
    def actor(self) -> str:
        """What an event records as who recorded it."""
        return f"{self.role}:{self.name}"


def who_of(settings: Settings, presented: str) -> Who | None:
    """Whose token this is (of the highest role, if configured twice), comparing against every
    configured token in constant time."""
    given = presented.encode("utf-8")
    found = None
    for role, token, *named in settings.tokens:
        if hmac.compare_digest(given, token) and (found is None or ROLES.index(role) > ROLES.index(found.role)):
            found = Who(role, named[0] if named else role)
    return found


def role_of(settings: Settings, presented: str) -> str | None:
    """The role of a token (see who_of)."""
    found = who_of(settings, presented)
    return found.role if found else None


def authorize(settings: Settings, authorization: str | None, role: str) -> Who:
    """Whose the request's bearer token is, if its role allows `role`; else 401 or 403."""
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "需要令牌: 请在 Authorization 头中提供 Bearer 令牌",
                            headers={"WWW-Authenticate": "Bearer"})
    found = who_of(settings, presented.strip())
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "令牌无效", headers={"WWW-Authenticate": "Bearer"})
    if ROLES.index(found.role) < ROLES.index(role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"角色 {found.role} 无权执行此操作 (需要 {role})")
    return found


def actor_of(request: Request) -> str:
    """Who records, over HTTP: `role:name` of the token the route checked (GuardedRoute)."""
    who: Who = request.state.who
    return who.actor


def token_digest(request: Request) -> str:
    """SHA-256 (hex) of the request's bearer token: what an idempotency key is bound to."""
    _, _, presented = (request.headers.get("authorization") or "").partition(" ")
    return hashlib.sha256(presented.strip().encode("utf-8")).hexdigest()


def require(role: str) -> Callable[..., Who]:
    """A dependency that lets a request through when its bearer token's role allows `role`
    (checked first by the route class, before the body is read; this names the scheme in the
    OpenAPI document and gives the route its role)."""

    def check(request: Request,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Who:
        return authorize(get_settings(request), request.headers.get("authorization"), role)

    return check


class GuardedRoute(APIRoute):
    """A route that checks its bearer token before FastAPI reads and parses the body (FastAPI
    solves a route's dependencies only after reading it: an anonymous 50 MiB body once cost
    1.39 GB before its 401), and gives a read of the past its time limit.

    `role` is what the router's routes need; `reads` marks routes that need a reader's token
    only when LEDGER_READ_TOKEN_REQUIRED is set."""

    role: str | None = None
    reads: bool = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        role, reads = self.role, self.reads

        async def guarded(request: Request) -> Response:
            settings = get_settings(request)
            needed = role or ("reader" if reads and settings.read_token_required else None)
            if needed is not None:
                request.state.who = authorize(settings, request.headers.get("authorization"), needed)
            if request.method in ("GET", "HEAD"):
                with time_limit(settings.read_time_limit):
                    return await handler(request)
            return await handler(request)

        return guarded


class ReaderRoute(GuardedRoute):
    reads = True


class OfficerRoute(GuardedRoute):
    role = "officer"


class AdminRoute(GuardedRoute):
    role = "admin"


# Reads are open unless LEDGER_READ_TOKEN_REQUIRED; the application adds this to the read
# routers only then, so the OpenAPI document shows exactly which operations need a token.
ReadAccess = Depends(require("reader"))
OfficerAccess = Depends(require("officer"))
AdminAccess = Depends(require("admin"))


def _as_of(value: object) -> object:
    """A notification position (integer) or a recorded time (ISO 8601), with a message that says so."""
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return text
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"应为通知位置 (整数) 或 ISO 时间, 例如 2024-03-01T12:00:00+00:00: {value!r}") from None
    return value


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD (not a number of seconds, which the date type would also take)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"应为日期 YYYY-MM-DD: {value!r}") from None
    return value


EffectiveDate = Annotated[date, BeforeValidator(_iso_date)]
AsOf = Annotated[Annotated[int, Field(ge=0, le=MAX_POSITION)] | datetime, BeforeValidator(_as_of)]


def make_point(as_of: int | datetime | None, effective: date | None, publication: str | None) -> Point:
    position = recorded = None
    if isinstance(as_of, datetime):
        # A time without a zone is the machine's local time, as on the command line.
        recorded = as_of if as_of.tzinfo is not None else as_of.astimezone()
    elif as_of is not None:
        position = as_of
    return Point(position=position, recorded=recorded, effective=effective, publication=publication or None)


AS_OF_DOC = "通知位置 (整数) 或记录时间 (ISO 8601): 只计此前记录的事件"
EFFECTIVE_DOC = "生效日期 YYYY-MM-DD: 只计此日及以前生效的事件"
PUBLICATION_DOC = "发布节点名称, 如 年初预算: 按该节点发布时的状态"


async def point_params(  # async: no thread-pool hop for what does no I/O
    as_of: Annotated[AsOf | None, Query(description=AS_OF_DOC, examples=[90])] = None,
    effective: Annotated[EffectiveDate | None, Query(description=EFFECTIVE_DOC, examples=["2024-01-01"])] = None,
    publication: Annotated[str | None, Query(description=PUBLICATION_DOC, max_length=200, pattern=PLAIN_TEXT,
                                             examples=["年初预算"])] = None,
) -> Point:
    return make_point(as_of, effective, publication)


PointDep = Annotated[Point, Depends(point_params)]


def point_label(point: Point) -> str:
    """How a point is named in responses and file names."""
    parts = []
    if point.publication:
        parts.append(f"发布节点 {point.publication}")
    if point.position is not None:
        parts.append(f"截至位置 {point.position}")
    if point.recorded is not None:
        parts.append(f"截至 {point.recorded.isoformat()} 记录")
    if point.effective is not None:
        parts.append(f"截至 {point.effective.isoformat()} 生效")
    return "；".join(parts) or "最新"


DepartmentPath = Annotated[str, Path(description="部门名称", min_length=1, max_length=200, pattern=PLAIN_TEXT,
                                     examples=["长治市住房公积金管理中心"])]
YearPath = Annotated[int, Path(description="预算年度", ge=1900, le=2999, examples=[2024])]
