"""What the tests share: the reference document, the stores, and the real CLI.

LEDGER_TEST_STORE=sqlite (default) gives each test a new SQLite file; =postgresql gives
each test a new database on LEDGER_TEST_POSTGRES_URL (default: the machine's PostgreSQL,
postgresql://postgres@127.0.0.1:5432/test). An unreachable PostgreSQL fails the tests.
"""

from __future__ import annotations

import os
import subprocess as _subprocess
import sys
import traceback
import uuid
from dataclasses import dataclass
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
    """Runs the `ledger` command against one store: in this process (Typer's CliRunner), or as
    the real command in a subprocess with `subprocess=True` (a few end-to-end tests, and what
    must be killed)."""

    def __init__(self, database_url: str):
        self.env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}

    def __call__(self, *args: str, check: bool = True, subprocess: bool = False) -> Ran:
        result = self._subprocess(args) if subprocess else self._in_process(args)
        if check and result.returncode != 0:
            raise AssertionError(f"ledger {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def _subprocess(self, args: tuple[str, ...]) -> Ran:
        done = _subprocess.run([sys.executable, "-m", "ledger", *args], env=self.env, capture_output=True,
                               text=True, timeout=300)
        return Ran(done.returncode, done.stdout, done.stderr)

    def _in_process(self, args: tuple[str, ...]) -> Ran:
        from typer.testing import CliRunner

        from ledger.cli import app

        result = CliRunner().invoke(app, list(args), env={"LEDGER_DATABASE_URL": self.env["LEDGER_DATABASE_URL"]})
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            # What the real command would have printed: the traceback.
            stderr += "".join(traceback.format_exception(result.exception))
        return Ran(result.exit_code, result.stdout, stderr)


@dataclass(frozen=True)
class Ran:
    """What a run of the command gave (the shape of subprocess.CompletedProcess)."""

    returncode: int
    stdout: str
    stderr: str
