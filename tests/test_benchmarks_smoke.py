"""The benchmark harness on a tiny workload, and the synthetic budgets it records.

The benchmarks themselves (benchmarks/run.py, a million events) are not part of the test
suite: this only shows that the one command runs on the test store and reports every figure.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal

from support import ROOT

from ledger.devtools import synthetic
from ledger.application import Ledger
from ledger.domain.rules import check_invariants
from ledger.cli.progress import progress
from ledger.readmodel.queries import Point

FIGURES = (
    "append_events_per_s", "import_with_projection_events_per_s", "single_append_events_per_s",
    "single_command_per_s", "rebuild_events_per_s", "floor_events_per_s", "floor_mapper_events_per_s",
    "floor_fold_events_per_s",
    "rebuild_over_floor", "catch_up_p50_ms", "catch_up_p99_ms", "as_of_p50_ms", "as_of_p95_ms",
    "rebuild_peak_rss_mb", "api_requests_per_s", "api_p99_ms", "bare_requests_per_s", "bare_p99_ms", "api_ratio",
)


def test_one_command_reports_every_figure(database_url, tmp_path):
    out = tmp_path / "results.json"
    samples = 4
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--url", database_url, "--events", "1200",
         "--years", "2", "--samples", str(samples), "--api-seconds", "3", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"^rebuild: [\d,]+ events/s \((table|recorder)\)$", run.stdout, re.M), run.stdout
    assert re.search(r"^rebuild/floor: \d+\.\d\d$", run.stdout, re.M), run.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["machine"]["cores"] >= 1 and report["machine"]["memory_gib"] > 0
    (result,) = report["results"]
    for name in FIGURES:
        assert result["figures"][name] > 0, name
    recorded = result["import"]["events"]
    assert recorded == result["shape"]["departments"] * 2 * (synthetic.OPENING_EVENTS + 95 + 1)
    # Half the samples are whole commands, half single appends: one event each, all replayed.
    assert result["rebuild"]["events"] == result["floor"]["events"] == recorded + samples
    assert result["floor_fold"]["events"] == result["floor_mapper"]["events"] == recorded + samples
    # The rebuild reads the events table itself, measured against the floor of those reads.
    assert result["rebuild"]["path"] == "table"
    assert result["api"]["table"]["non_2xx"] == 0
    with Ledger(database_url) as ledger:
        assert ledger.last_position() == recorded + samples


def test_synthetic_budgets_are_the_same_through_the_commands_and_follow_the_rules(ledger):
    shape = synthetic.Shape(departments=2, years=(2024,), changes=60, seed=3)
    anchor = synthetic.anchor_for(ledger)
    fast = list(synthetic.budgets(shape, anchor=anchor))
    checked = list(synthetic.budgets(shape, checked=True, anchor=anchor))
    assert [dict(b.balances) for b in fast] == [dict(b.balances) for b in checked]
    for budget in fast:
        assert check_invariants(budget.balances) == []
        assert all(amount >= 0 for amount in budget.balances.values())
        kinds = {type(e).__name__ for e in budget.pending_events}
        assert {"Opened", "ProjectRegistered", "Appropriated", "PriorYearFigureStated", "Published", "Adjusted",
                "Transferred", "Corrected"} <= kinds
        leaves = [dict(d) for d in budget.balances if dict(d).get("measure") == "budget"]
        assert 140 <= len(leaves) <= 160
        basic = [d for d in leaves if d.get("kind") == "basic"]
        assert all({"code", "source", "period", "economic", "gov_economic", "cost", "unit"} <= set(d) for d in basic)


def test_fast_fold_agrees_with_the_query_path(ledger):
    """Today's tables (the projector's leaves) equal the tables replayed from the event log
    up to the last position (the as-of path), for every budget."""
    shape = synthetic.Shape(departments=3, years=(2023, 2024), changes=40, seed=5)
    synthetic.generate(ledger.events.save, shape, anchor=synthetic.anchor_for(ledger))
    ledger.catch_up()
    end = ledger.last_position()
    for d in range(shape.departments):
        for year in shape.years:
            department = synthetic.department_name(d)
            now = ledger.tables(department, year)
            replayed = ledger.tables(department, year, point=Point(position=end))
            assert [t.rows for t in now] == [t.rows for t in replayed]
            totals = [a for t in now if t.number == 3 for r in t.rows for row, col, a in r.amounts
                      if row == "0/total" and col == "total"]
            assert totals and totals[0] > Decimal(0)


def test_progress_is_shown_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen, pipe = Terminal(), io.StringIO()
    with progress("重放事件", 10, stream=screen) as advance:
        advance(4)
        advance(6)
    with progress("重放事件", 10, stream=pipe) as advance:
        advance(10)
    assert "重放事件" in screen.getvalue() and "10/10" in screen.getvalue() and "事件/秒" in screen.getvalue()
    assert pipe.getvalue() == ""
