"""Idempotency-Key: a retried write returns the first result and records nothing again.

The key, the token that made it and the response are one row, written in the same database
transaction as the write's events (eventstore/sidewrite.py): either both are recorded or
neither is, so no crash leaves a key "in progress" or a write without its key. The primary
key makes a key unique across processes on both stores: of two requests racing with one key,
the second's save fails as a whole (its events too) and it answers with the first's result.

- Reusing a key with a different request is refused with 422, as the IETF draft
  "The Idempotency-Key HTTP Header Field" asks; so is a key made by another token (the row
  keeps a SHA-256 of the token, never the token): a key is its token's, nobody else gets
  its result.
- A key expires LEDGER_IDEMPOTENCY_TTL_SECONDS (default 86400, 24 h) after its first request:
  then it is free for a new request. Expired rows are deleted lazily: an expired key when it
  is used again, the others in batches by keyed writes (at most once a minute per process).
- A write that records nothing (an import of a file already imported) keeps its key in a
  transaction of its own: there is nothing to lose between them.
- Rows left "in progress" (no response) by the code before this one, which claimed the key
  before the command ran, are released once older than LEDGER_IDEMPOTENCY_LEASE_SECONDS
  (default 60): a first request that is still running after that is not alive. They never
  recorded what they wrote, so a retry after release records the command again (only such
  old rows: new rows are never in progress).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from ..eventstore.sidewrite import SideWrite
from .deps import setting_number
from .errors import IdempotencyConflict, IdempotencyMismatch, InvalidField

metadata = MetaData()

keys = Table(
    "ledger_http_idempotency",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),  # null only in rows of the code before (claimed, running)
    Column("body", JSON, nullable=True),
    Column("headers", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Added later (the table is migrated): null in rows made before.
    Column("token", String(64), nullable=True),  # SHA-256 (hex) of the bearer token that made the key
    Column("expires_at", Float, nullable=True, index=True),  # seconds since the epoch (UTC)
)

# The header's description in the OpenAPI document.
KEY_DOC = ("重试时用同一个键 (1–200 个可打印字符): 返回首次的结果, 不重复记录. 键与首次的事件在同一事务中记录, "
           "不会停留在 \"处理中\"; 键属于首次使用它的令牌, 其他令牌使用同一个键返回 422; 同一个键用于不同的请求也返回 422. "
           "键在首次请求后 LEDGER_IDEMPOTENCY_TTL_SECONDS 秒 (默认 86400, 即 24 小时) 过期, 过期后可作为新键使用.")

ADDED = {"token": "VARCHAR(64)", "expires_at": "FLOAT"}
MAX_KEY = 200
TTL_SECONDS = 86400.0
LEASE_SECONDS = 60.0
PURGE_BATCH = 1000
PURGE_EVERY = 60.0  # seconds
CLOCK_MARGIN = timedelta(seconds=1)  # between the clocks of the processes that claim keys and record events


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: dict
    headers: dict[str, str]
    replayed: bool = False

    def response(self) -> JSONResponse:
        headers = {**self.headers, **({"Idempotent-Replayed": "true"} if self.replayed else {})}
        return JSONResponse(self.body, status_code=self.status_code, headers=headers)


def fingerprint(method: str, path: str, body: object) -> str:
    canonical = json.dumps([method, path, body], ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidField("header.Idempotency-Key", f"应为 1–{MAX_KEY} 个可打印字符")
    return key


class Claim:
    """A request's key, to be written with its events (Ledger commands take it as `claim`)."""

    def __init__(self, key: str, token: str, request_fingerprint: str, ttl: float,
                 respond: Callable[[Any], Outcome]):
        self.key, self.token, self.fingerprint, self.ttl, self.respond = key, token, request_fingerprint, ttl, respond
        self.outcome: Outcome | None = None  # the response written with the events

    def row(self, outcome: Outcome) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {"key": self.key, "fingerprint": self.fingerprint, "status_code": outcome.status_code,
                "body": outcome.body, "headers": outcome.headers, "created_at": now, "token": self.token,
                "expires_at": now.timestamp() + self.ttl}

    def side_write(self, result_of: Callable[[Sequence[int], Sequence[int]], Any]) -> SideWrite:
        def values(ids: Sequence[int], versions: Sequence[int]) -> dict[str, Any]:
            self.outcome = self.respond(result_of(ids, versions))
            return self.row(self.outcome)

        return SideWrite(keys.name, values, frozenset({"body", "headers"}))


class IdempotencyStore:
    def __init__(self, engine: Engine, env: dict[str, str] | None = None):
        env = dict(os.environ if env is None else env)
        self.engine = engine
        self.ttl = setting_number(env, "LEDGER_IDEMPOTENCY_TTL_SECONDS", TTL_SECONDS, float, positive=True)
        self.lease = setting_number(env, "LEDGER_IDEMPOTENCY_LEASE_SECONDS", LEASE_SECONDS, float, positive=True)
        self._purged = -PURGE_EVERY  # when this process last purged expired keys (monotonic)
        metadata.create_all(engine)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns a table made by earlier code lacks (its rows keep null there)."""
        present = {c["name"] for c in inspect(self.engine).get_columns(keys.name)}
        for name, sql_type in ADDED.items():
            if name in present:
                continue
            try:
                with self.engine.begin() as conn:
                    conn.execute(text(f'ALTER TABLE "{keys.name}" ADD COLUMN "{name}" {sql_type}'))
            except (OperationalError, ProgrammingError):  # another process added it meanwhile
                pass
        with self.engine.begin() as conn:
            conn.execute(text(f'CREATE INDEX IF NOT EXISTS "ix_{keys.name}_expires_at" ON "{keys.name}" (expires_at)'))

    def run(self, key: str | None, token: str, request_fingerprint: str,
            action: Callable[[Claim | None], Any], respond: Callable[[Any], Outcome],
            last_recorded: Callable[[], tuple[int, datetime] | None] | None = None) -> Outcome:
        """The outcome of `action` (given the claim to save with its events), or the first
        request's under the same key. `last_recorded` gives the position and time of the last
        event of what the request writes to (for rows in progress of the code before); None
        when a retry cannot record twice anyway (imports)."""
        if key is None:
            return respond(action(None))
        self._purge()
        row = self._row(key)
        if row is not None and (self._expired(row) or self._released(row, last_recorded)):
            row = None
        if row is not None:
            return self._earlier(row, token, request_fingerprint)
        claim = Claim(key, token, request_fingerprint, self.ttl, respond)
        try:
            result = action(claim)
        except Exception:
            row = self._row(key)  # a request with the same key saved first: this save recorded nothing
            if row is not None:
                return self._earlier(row, token, request_fingerprint)
            raise
        if claim.outcome is not None:
            return claim.outcome
        outcome = respond(result)  # nothing was recorded: the key is kept on its own
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(keys).values(**claim.row(outcome)))
        except IntegrityError:
            return self._earlier(self._row(key), token, request_fingerprint)
        return outcome

    def _expiry(self) -> Any:
        now = datetime.now(UTC)
        return or_(keys.c.expires_at < now.timestamp(),
                   keys.c.expires_at.is_(None) & (keys.c.created_at < now - timedelta(seconds=self.ttl)))

    def _expired(self, row: Any) -> bool:
        """Delete the key's row if it has expired (the key is then new). True if it had."""
        now = datetime.now(UTC)
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        if row.expires_at is not None and row.expires_at >= now.timestamp():
            return False
        if row.expires_at is None and created >= now - timedelta(seconds=self.ttl):
            return False
        with self.engine.begin() as conn:
            return conn.execute(delete(keys).where(keys.c.key == row.key, self._expiry())).rowcount > 0

    def _purge(self) -> None:
        """Delete a batch of expired keys, at most once a minute per process (a DELETE takes
        SQLite's write lock, which the writes need)."""
        now = time.monotonic()
        if now - self._purged < PURGE_EVERY:
            return
        self._purged = now
        with self.engine.begin() as conn:
            batch = select(keys.c.key).where(self._expiry()).limit(PURGE_BATCH).scalar_subquery()
            conn.execute(delete(keys).where(keys.c.key.in_(batch)))

    def _released(self, row: Any, last_recorded: Callable[[], tuple[int, datetime] | None] | None) -> bool:
        """Let go of a row in progress (left by the code before) older than the lease, whose
        budget has recorded nothing since the key was claimed: its first request is not
        alive and recorded nothing. True if released. If the budget recorded something since,
        that may be the first request's write (the old rows do not say): the key gives 409
        until it expires, and a retry never records the command twice."""
        if row.status_code is not None:
            return False
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        if datetime.now(UTC) - created < timedelta(seconds=self.lease):
            return False
        last = last_recorded() if last_recorded is not None else None
        if last is not None and last[1] >= created - CLOCK_MARGIN:
            expires = created + timedelta(seconds=self.ttl)
            raise IdempotencyConflict(
                f"Idempotency-Key {row.key!r} 的首次请求已中断, 结果未知: 此后该预算记录了位置 {last[0]} 的事件, "
                f"可能就是它; 请查看事件日志 (/api/events) 核对. 键于 {expires.isoformat(timespec='seconds')} 过期; "
                "如确需再次记录, 请使用新的键")
        with self.engine.begin() as conn:
            conn.execute(delete(keys).where(keys.c.key == row.key, keys.c.status_code.is_(None)))
        return True

    def _row(self, key: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(keys).where(keys.c.key == key)).first()

    def _earlier(self, row: Any, token: str, request_fingerprint: str) -> Outcome:
        if row is None:  # released meanwhile (expired, or an old in-progress row let go)
            raise IdempotencyConflict("Idempotency-Key 的首次请求刚被释放, 请重试")
        key = row.key
        if row.token is not None and row.token != token:
            raise IdempotencyMismatch(f"Idempotency-Key {key!r} 已由另一个令牌使用; 请使用自己的键")
        if row.fingerprint != request_fingerprint:
            raise IdempotencyMismatch(f"Idempotency-Key {key!r} 已用于另一个不同的请求; 请为新请求使用新的键")
        if row.status_code is None:  # left by the code before, which claimed keys before the command ran
            raise IdempotencyConflict(f"Idempotency-Key {key!r} 的首次请求仍在处理, 请稍后重试")
        return Outcome(row.status_code, row.body, dict(row.headers or {}), replayed=True)
