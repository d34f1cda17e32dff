"""Idempotency-Key: a retried write returns the first result and records nothing again.

The key is claimed by inserting a row before the command runs (the primary key makes the
claim atomic across processes on both stores), and the row receives the response once the
command succeeded. A failed command releases the key, since it recorded nothing.

Reusing a key with a different request is refused with 422, as the IETF draft
"The Idempotency-Key HTTP Header Field" asks: the request is well-formed but cannot be
processed under that key. A key whose first request is still running gives 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Column, DateTime, Engine, Integer, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .errors import IdempotencyConflict, IdempotencyMismatch, InvalidField

metadata = MetaData()

keys = Table(
    "ledger_http_idempotency",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),  # null while the first request runs
    Column("body", JSON, nullable=True),
    Column("headers", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

MAX_KEY = 200


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


class IdempotencyStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        metadata.create_all(engine)

    def run(self, key: str | None, request_fingerprint: str, action: Callable[[], Outcome]) -> Outcome:
        if key is None:
            return action()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(keys).values(key=key, fingerprint=request_fingerprint,
                                                 created_at=datetime.now(UTC)))
        except IntegrityError:
            return self._earlier(key, request_fingerprint)
        try:
            outcome = action()
        except BaseException:
            with self.engine.begin() as conn:
                conn.execute(delete(keys).where(keys.c.key == key))
            raise
        with self.engine.begin() as conn:
            conn.execute(update(keys).where(keys.c.key == key).values(
                status_code=outcome.status_code, body=outcome.body, headers=outcome.headers))
        return outcome

    def _earlier(self, key: str, request_fingerprint: str) -> Outcome:
        with self.engine.connect() as conn:
            row = conn.execute(select(keys).where(keys.c.key == key)).first()
        if row is None:  # released by a failed first request a moment ago
            raise IdempotencyConflict(f"Idempotency-Key {key!r} 的首次请求刚刚失败, 请重试")
        if row.fingerprint != request_fingerprint:
            raise IdempotencyMismatch(f"Idempotency-Key {key!r} 已用于另一个不同的请求; 请为新请求使用新的键")
        if row.status_code is None:
            raise IdempotencyConflict(f"Idempotency-Key {key!r} 的首次请求仍在处理, 请稍后重试")
        return Outcome(row.status_code, row.body, dict(row.headers or {}), replayed=True)
