"""One setting chooses the store: LEDGER_DATABASE_URL (or --database).

sqlite:///PATH                      embedded default, one file for events and read model
postgresql://USER[:PW]@HOST:PORT/DB  the same code on PostgreSQL (psycopg 3)

Events live in eventsourcing's own tables; the read model in SQLAlchemy tables beside them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from sqlalchemy import Engine, create_engine, event


def json_text(value: Any) -> str:
    """The text of a JSON column (the engines' json_serializer): orjson's, compact; json's
    for what orjson does not write (a dict with keys other than str, an integer beyond 64 bits).
    An orjson.Fragment (JSON text made already, as the fold gives it) is written as it is."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# What every engine of ours is made with (the read model's JSON columns).
ENGINE_OPTIONS: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}


class StorageError(ValueError):
    """A database URL the ledger cannot use."""


def default_url() -> str:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'budget-ledger' / 'ledger.sqlite'}"


def configured_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("LEDGER_DATABASE_URL") or default_url()


@dataclass(frozen=True)
class Storage:
    url: str
    kind: str  # "sqlite" | "postgresql"
    eventsourcing_env: dict[str, str]
    sqlalchemy_url: str

    @classmethod
    def from_url(cls, url: str) -> Storage:
        parts = urlsplit(url)
        scheme = parts.scheme.split("+")[0]
        if scheme == "sqlite":
            raw = url.split("://", 1)[1]
            path = raw[1:] if raw.startswith("/") else raw
            if not path or path == ":memory:":
                raise StorageError("SQLite 需要一个文件路径: sqlite:///PATH (不支持 :memory:)")
            file = Path(path).expanduser().resolve()
            file.parent.mkdir(parents=True, exist_ok=True)
            return cls(
                url=url,
                kind="sqlite",
                eventsourcing_env={
                    "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(file),
                    "SQLITE_LOCK_TIMEOUT": "30",
                    # eventsourcing's recorder, a save's events in one executemany (sqliterecorder.py)
                    "APPLICATION_RECORDER_TOPIC": "ledger.eventstore.sqliterecorder:SQLiteBatchInsertRecorder",
                },
                sqlalchemy_url=f"sqlite:///{file}",
            )
        if scheme in ("postgresql", "postgres"):
            dbname = unquote(parts.path.lstrip("/"))
            if not dbname:
                raise StorageError("PostgreSQL URL 需要数据库名: postgresql://USER@HOST:PORT/DB")
            user = unquote(parts.username or os.environ.get("PGUSER") or "postgres")
            password = unquote(parts.password or "")
            host = parts.hostname or "127.0.0.1"
            port = str(parts.port or 5432)
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": dbname,
                "POSTGRES_HOST": host,
                "POSTGRES_PORT": port,
                "POSTGRES_USER": user,
                "POSTGRES_PASSWORD": password,
                "POSTGRES_POOL_SIZE": os.environ.get("LEDGER_POOL_SIZE", "5"),
                "POSTGRES_MAX_OVERFLOW": os.environ.get("LEDGER_POOL_MAX_OVERFLOW", "10"),
                "POSTGRES_CONNECT_TIMEOUT": os.environ.get("LEDGER_CONNECT_TIMEOUT", "10"),
                "POSTGRES_PRE_PING": "y",
                # eventsourcing's recorder, sending a save's events in binary (pgrecorder.py)
                "APPLICATION_RECORDER_TOPIC": "ledger.eventstore.pgrecorder:PostgresBinaryInsertRecorder",
            }
            auth = user + (f":{parts.password}" if parts.password else "")
            return cls(
                url=url,
                kind="postgresql",
                eventsourcing_env=env,
                sqlalchemy_url=f"postgresql+psycopg://{auth}@{host}:{port}/{parts.path.lstrip('/')}",
            )
        raise StorageError(f"不支持的数据库 URL: {url!r} (支持 sqlite:///PATH 或 postgresql://USER@HOST:PORT/DB)")

    def engine(self) -> Engine:
        if self.kind == "sqlite":
            engine = create_engine(self.sqlalchemy_url, connect_args={"timeout": 30}, **ENGINE_OPTIONS)

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            return engine
        return create_engine(
            self.sqlalchemy_url,
            pool_size=int(os.environ.get("LEDGER_POOL_SIZE", "5")),
            max_overflow=int(os.environ.get("LEDGER_POOL_MAX_OVERFLOW", "10")),
            pool_pre_ping=True,
            **ENGINE_OPTIONS,
        )
