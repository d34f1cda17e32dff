"""Crash safety: SIGKILL at random points of an import, a command, and a rebuild leaves all or
nothing of that unit, and the next run converges to the tables of a clean rebuild."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal

import pytest
from support import DEPARTMENT, SEED, YEAR

from ledger.application import Ledger
from ledger.application.commands import LineSpec
from ledger.tables import formats

KILLS_PER_UNIT = 8  # × 3 units = 24 kill points per store
RNG = random.Random(20241126)
ADJUST = ["adjust", "--department", DEPARTMENT, "--year", str(YEAR), "--code", "2210399", "--kind", "basic",
          "--economic", "基本工资/工资奖金津补贴", "--cost", "personnel", "--amount", "1000", "--reason", "崩溃测试"]


def start(cli, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ledger", *args], env=cli.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def duration(cli, *args: str) -> float:
    began = time.monotonic()
    assert start(cli, *args).wait(timeout=300) == 0
    return time.monotonic() - began


def kill_after(cli, delay: float, *args: str) -> bool:
    """Run a command and SIGKILL it after `delay` seconds; True if it was still running."""
    proc = start(cli, *args)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return True


def event_count(url: str) -> int:
    with Ledger(url) as led:
        return len(led.events.recorder.select_notifications(start=1, limit=10**9))


def converged(url: str) -> str:
    """The tables after the next run catches up must equal those of a clean rebuild, and the
    chain and read model must verify."""
    with Ledger(url) as led:
        caught_up = formats.to_tsv(led.tables(DEPARTMENT, YEAR))
        report = led.verify()
        assert report.ok, report.problems
        led.rebuild()
        assert formats.to_tsv(led.tables(DEPARTMENT, YEAR)) == caught_up
    return caught_up


def delays(total: float) -> list[float]:
    """Kill points spread over the run, most of them in its working part after start-up."""
    return sorted(RNG.uniform(0.35 * total, 0.95 * total) for _ in range(KILLS_PER_UNIT))


@pytest.fixture
def reference(tmp_path_factory) -> str:
    from support import new_database_url

    url, drop = new_database_url(tmp_path_factory.mktemp("reference"))
    with Ledger(url) as led:
        led.import_document(SEED.read_bytes(), SEED.name)
        tsv = formats.to_tsv(led.tables(DEPARTMENT, YEAR))
    drop()
    return tsv


def test_killed_imports_record_all_or_nothing(cli, database_url, reference):
    total = duration(cli, "import", str(SEED))
    full = event_count(database_url)
    outcomes = []
    for delay in delays(total):
        _reset(database_url)
        killed = kill_after(cli, delay, "import", str(SEED))
        count = event_count(database_url)
        assert count in (0, full), f"partial import: {count} of {full} events after a kill at {delay:.2f}s"
        if count == 0:
            cli("import", str(SEED))
        assert converged(database_url) == reference
        outcomes.append((killed, count))
    assert any(killed for killed, _ in outcomes)
    print(f"import: {len(outcomes)} kill points, {sum(k for k, _ in outcomes)} killed while running, "
          f"{sum(1 for _, c in outcomes if c == full)} left the whole import, "
          f"{sum(1 for _, c in outcomes if c == 0)} left nothing")


def _reset(url: str) -> None:
    """Empty the store between kill points (drop every table of this test's database)."""
    from sqlalchemy import MetaData, create_engine

    from ledger.eventstore.storage import Storage

    engine = create_engine(Storage.from_url(url).sqlalchemy_url)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()


def test_killed_commands_record_all_or_nothing(cli, database_url):
    cli("import", str(SEED))
    total = duration(cli, *ADJUST)
    outcomes = []
    for delay in delays(total):
        before = event_count(database_url)
        killed = kill_after(cli, delay, *ADJUST)
        after = event_count(database_url)
        assert after in (before, before + 1)
        converged(database_url)
        outcomes.append((killed, after - before))
    print(f"command: {len(outcomes)} kill points, {sum(k for k, _ in outcomes)} killed while running, "
          f"{sum(d for _, d in outcomes)} recorded, {sum(1 for _, d in outcomes if d == 0)} recorded nothing")


def test_killed_rebuilds_converge(cli, database_url, seed_bytes):
    with Ledger(database_url) as led:
        led.import_document(seed_bytes, SEED.name)
        budget = led._load(DEPARTMENT, YEAR)
        line = LineSpec(code="2210399", kind="basic", economic="基本工资/工资奖金津补贴",
                        cost="personnel").to_line(Decimal("100.00"), list(budget.units))
        for i in range(1500):  # enough history that a rebuild takes a while
            budget.adjust([line], effective=date(2024, 3, 1), reason=f"批量调整{i}")
        led.events.save(budget)
        expected = formats.to_tsv(led.tables(DEPARTMENT, YEAR))
    total = duration(cli, "rebuild")
    killed = 0
    for delay in delays(total):
        killed += kill_after(cli, delay, "rebuild")
        assert converged(database_url) == expected
    print(f"rebuild: {KILLS_PER_UNIT} kill points, {killed} killed while running, all converged")
