"""Profiles of the hot paths (cProfile), printed as the top functions by own time.

    python benchmarks/hotpaths.py --events 50000 [--store sqlite|postgresql] > benchmarks/profiles/sqlite.txt

Fills a fresh store with the synthetic workload, then profiles: the batched save, the
rebuild, the as-of tables, and the work behind one API table GET (the ETag's budget version
and the table).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import PostgresDatabase  # noqa: E402

from ledger.devtools import synthetic  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.tables import formats  # noqa: E402
from ledger.readmodel.queries import Point  # noqa: E402


def show(title: str, profile: cProfile.Profile, seconds: float, top: int, note: str = "without the profiler") -> None:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(top)
    body = out.getvalue()
    body = body[body.index("   ncalls"):] if "   ncalls" in body else body
    print(f"## {title} ({seconds:.2f} s {note})\n\n```\n{body.rstrip()}\n```\n")


def timed(call) -> tuple[float, cProfile.Profile]:
    t0 = time.perf_counter()
    call()
    seconds = time.perf_counter() - t0
    profile = cProfile.Profile()
    profile.runcall(call)
    return seconds, profile


def profile_store(url: str, events: int, top: int) -> None:
    shape = synthetic.Shape.for_events(events)
    with Ledger(url) as ledger:
        size = 2000 if ledger.storage.kind == "postgresql" else 20000  # see BATCH_EVENTS in run.py
        batches = list(synthetic.batches(shape, events_per_batch=size, anchor=synthetic.anchor_for(ledger)))
        count = sum(len(b.pending_events) for batch in batches for b in batch)
        profile = cProfile.Profile()
        t0 = time.perf_counter()
        profile.runcall(lambda: [ledger.events.save(*batch) for batch in batches])
        show(f"batched save of {count:,} events", profile, time.perf_counter() - t0, top, "with the profiler")
        ledger.catch_up()
        seconds, profile = timed(ledger.rebuild)
        show(f"rebuild of {ledger.last_position():,} events", profile, seconds, top)
        department, year = synthetic.department_name(0), shape.years[-1]
        points = [Point(publication="年初预算"), Point(effective=date(year, 6, 30)), Point(position=events // 2)]
        seconds, profile = timed(lambda: [ledger.tables(department, year, point=p) for p in points * 5])
        show("as-of: 13 tables, 15 times", profile, seconds, top)
        version = ledger.version

        def table_get() -> None:
            for _ in range(20):
                version(department, year)  # the ETag of GET .../tables/{n}
                rendered = ledger.tables(department, year, number=3)
                formats.to_json_data(rendered, department=department, fiscal_year=year, point="最新")

        seconds, profile = timed(table_get)
        show("table GET work on a cache miss, 20 times (ETag version + table 3 + JSON data)", profile, seconds, top)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--store", default="sqlite")
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"# Profiles: {args.store}, {args.events:,} events\n")
    if args.store == "postgresql":
        with PostgresDatabase(args.postgres_admin_url, "ledger_profile") as url:
            profile_store(url, args.events, args.top)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            profile_store(f"sqlite:///{tmp}/profile.sqlite", args.events, args.top)


if __name__ == "__main__":
    main()
