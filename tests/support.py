"""What the tests share: the reference document, the stores, and the real CLI.

LEDGER_TEST_STORE=sqlite (default) gives each test a new SQLite file; =postgresql gives
each test a new database on LEDGER_TEST_POSTGRES_URL (default: the machine's PostgreSQL,
postgresql://postgres@127.0.0.1:5432/test). An unreachable PostgreSQL fails the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "changzhi-hpf-2024-budget.txt"
DEPARTMENT = "长治市住房公积金管理中心"
YEAR = 2024

STORE = os.environ.get("LEDGER_TEST_STORE", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_connect(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password or None, dbname=parts.path.lstrip("/"), autocommit=True, connect_timeout=10,
    )


def new_database_url(tmp_path: Path, store: str = STORE) -> tuple[str, object]:
    """A URL of a new, empty store, and a function that removes it."""
    if store == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}", lambda: None
    if store != "postgresql":
        raise RuntimeError(f"LEDGER_TEST_STORE must be sqlite or postgresql, not {store!r}")
    name = f"ledger_test_{uuid.uuid4().hex[:16]}"
    with _pg_connect(POSTGRES_ADMIN_URL) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(POSTGRES_ADMIN_URL)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))

    def drop() -> None:
        with _pg_connect(POSTGRES_ADMIN_URL) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


class CLI:
    """Runs the real `ledger` command in a subprocess against one store."""

    def __init__(self, database_url: str):
        self.env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "ledger", *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        if check and result.returncode != 0:
            raise AssertionError(f"ledger {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result
