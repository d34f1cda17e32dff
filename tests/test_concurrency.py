"""Many writers on one budget: no lost update, conflicts surface as a retryable error, and a
PostgreSQL that drops its connections loses no acknowledged event."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import date
from decimal import Decimal

import pytest
from support import DEPARTMENT, YEAR, _pg_connect

from ledger.application import ConcurrentChange, Ledger
from ledger.application.commands import Adjust, LineSpec

LINE = LineSpec(code="2210399", kind="basic", economic="办公费/办公经费", cost="operating")
STEP = Decimal("1000.00")


def cell(led, table: int, row: str, column: str) -> Decimal:
    rendered = led.tables(DEPARTMENT, YEAR, number=table)[0]
    return next(a for r in rendered.rows for k, c, a in r.amounts if (k, c) == (row, column))


def event_count(led) -> int:
    """Events recorded, as the read model counts them: each budget's version is its number of
    events (positions may have gaps on PostgreSQL, where a refused insert uses one up)."""
    from sqlalchemy import func, select

    from ledger.readmodel import schema

    led.catch_up()
    with led.engine.connect() as conn:
        return conn.execute(select(func.sum(schema.budgets.c.version))).scalar()


def adjust_with_retry(led, reason: str, attempts: int = 200) -> int:
    """Returns how many conflicts were retried before the adjustment was accepted."""
    for conflicts in range(attempts):
        try:
            led.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount=STEP, reason=reason))
            return conflicts
        except ConcurrentChange:
            continue
    raise AssertionError("never accepted")


def test_threads_with_their_own_connections_lose_no_update(imported, database_url):
    before = cell(imported, 6, "0/total", "operating")
    events_before = event_count(imported)
    writers, each = 6, 5
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with Ledger(database_url) as led:
                for i in range(each):
                    conflicts.append(adjust_with_retry(led, f"线程{n}-{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    accepted = writers * each
    assert event_count(imported) == events_before + accepted
    assert cell(imported, 6, "0/total", "operating") - before == STEP * accepted
    assert cell(imported, 11, "0/total", "total") - before == STEP * accepted  # 表十一 follows 公用经费
    assert imported.verify().ok


WORKER = textwrap.dedent("""
    import sys
    from decimal import Decimal
    from ledger.application import ConcurrentChange, Ledger
    from ledger.application.commands import Adjust, LineSpec
    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    line = LineSpec(code="2210399", kind="basic", economic="办公费/办公经费", cost="operating")
    conflicts = 0
    with Ledger(url) as led:
        for i in range(count):
            while True:
                try:
                    led.adjust("{department}", {year}, Adjust(line=line, amount=Decimal("1000.00"), reason=f"{{name}}-{{i}}"))
                    break
                except ConcurrentChange:
                    conflicts += 1
    print(conflicts)
""").format(department=DEPARTMENT, year=YEAR)


def test_processes_lose_no_update(imported, database_url):
    before = cell(imported, 6, "0/total", "operating")
    events_before = event_count(imported)
    processes, each = 4, 5
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, database_url, f"进程{n}", str(each)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        for n in range(processes)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    accepted = processes * each
    assert event_count(imported) == events_before + accepted
    assert cell(imported, 6, "0/total", "operating") - before == STEP * accepted
    assert imported.verify().ok


def test_a_stale_writer_gets_a_retryable_conflict(imported, database_url):
    with Ledger(database_url) as other:
        stale = other.events.repository.get(other._load(DEPARTMENT, YEAR).id)
        imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount=STEP, reason="先到"))
        stale.adjust([LINE.to_line(STEP, list(stale.units))], effective=stale.default_effective(date.today()),
                     reason="后到")
        with pytest.raises(ConcurrentChange, match="请重试"):
            other._save(stale, "x", "adjustment")


def test_postgresql_dropping_connections_loses_no_acknowledged_event(postgresql_url, seed_bytes):
    """Runs on PostgreSQL in both passes: the fault is the server's."""
    database_url = postgresql_url
    imported = Ledger(database_url)
    imported.import_document(seed_bytes, "seed.txt")
    before = cell(imported, 6, "0/total", "operating")
    imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount=STEP, reason="断线前"))
    dbname = database_url.rsplit("/", 1)[1]
    with _pg_connect(os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")) as admin:
        killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                               (dbname,)).fetchone()[0]
    assert killed >= 1
    imported.adjust(DEPARTMENT, YEAR, Adjust(line=LINE, amount=STEP, reason="断线后"))
    assert cell(imported, 6, "0/total", "operating") - before == 2 * STEP
    reasons = [c.reason for c in imported.history(DEPARTMENT, YEAR, 6, "办公费/办公经费", "合计").contributions]
    assert "断线前" in reasons and "断线后" in reasons
    imported.close()
