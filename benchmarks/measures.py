"""The measurements, each on one store (a database URL). Times are wall-clock seconds
(time.perf_counter); latencies are reported in milliseconds."""

from __future__ import annotations

import random
import resource
import time
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ledger.devtools import synthetic
from ledger.application import Ledger
from ledger.application.commands import Adjust, LineSpec
from ledger.devtools import floor as rebuild_floor
from ledger.domain.budget import budget_id
from ledger.readmodel import queries, schema
from ledger.readmodel.queries import Point


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def latency(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99),
            "max_ms": max(ms)}


def add_chain_index(ledger: Ledger) -> bool:
    """Index ledger_chain by budget, if the hash chain has no such index.

    The chain's catch-up looks up each budget's last link (`budget_id = ?` ordered by
    position): without this index that is a full scan of the chain for every budget new to
    a page, 0.3 s at 400,000 events on this machine, so a million-event import slows down
    quadratically. The run says whether it added the index."""
    try:
        from ledger.readmodel.chain import chain
    except ImportError:
        return False
    if any(index.columns.keys()[:1] == ["budget_id"] for index in chain.indexes):
        return False
    from sqlalchemy import Index

    Index("ix_bench_ledger_chain_budget", chain.c.budget_id, chain.c.position).create(ledger.engine, checkfirst=True)
    return True


def batched_import(url: str, shape: synthetic.Shape, progress=None, chain_index: bool = True,
                   events_per_batch: int = 20000) -> dict[str, Any]:
    """Generate the shape and record it budget group by budget group (one save per
    `events_per_batch` events or so), catching the projections up after each save as an
    import does."""
    generate = save = catch_up = 0.0
    events = 0
    with Ledger(url) as ledger:
        added_index = add_chain_index(ledger) if chain_index else False
        started = time.perf_counter()
        for batch in synthetic.batches(shape, events_per_batch=events_per_batch, anchor=synthetic.anchor_for(ledger)):
            t1 = time.perf_counter()
            generate += t1 - started
            count = sum(len(b.pending_events) for b in batch)
            ledger.events.save(*batch)
            t2 = time.perf_counter()
            ledger.catch_up()
            started = time.perf_counter()
            save += t2 - t1
            catch_up += started - t2
            events += count
            if progress:
                progress(count)
    return {"events": events, "budgets": shape.budgets, "events_per_batch": events_per_batch,
            "chain_index_added": added_index,
            "generate_s": generate, "save_s": save,
            "catch_up_s": catch_up, "append_events_per_s": events / save,
            "import_events_per_s": events / (save + catch_up)}


def _budgets(ledger: Ledger) -> list[tuple[str, int]]:
    with ledger.engine.connect() as conn:
        return [(r.department, r.fiscal_year) for r in
                conn.execute(select(schema.budgets.c.department, schema.budgets.c.fiscal_year))]


def some_budget(url: str) -> tuple[str, int]:
    """The first synthetic department's last year (any budget, if there is none)."""
    with Ledger(url) as ledger:
        budgets = _budgets(ledger)
    first = synthetic.department_name(0)
    return max((b for b in budgets if b[0] == first), default=budgets[0], key=lambda b: b[1])


def _total_cell(ledger: Ledger, department: str, year: int) -> int:
    """表三's total now, in 分, as the read model gives it (from the budget's leaves)."""
    with ledger.engine.connect() as conn:
        budget = queries.find_budget(conn, department, year)
        cells = queries.table_cells(conn, ledger.log, budget, Point())
    return int(cells[3].get(("0/total", "total"), Decimal(0)) * 100)


def single_commands(url: str, samples: int, seed: int = 7) -> dict[str, Any]:
    """Commands one at a time on random budgets.

    - command: the whole application path (load the budget by replaying its events, check
      the rules, append, catch the projections up), as `ledger adjust` or a POST does;
    - append: only the save of the one new event;
    - catch-up: from the append's commit until the new amount is visible in 表三 (read model).
    """
    rng = random.Random(seed)
    command, append, visible = [], [], []
    with Ledger(url) as ledger:
        budgets = _budgets(ledger)
        for i in range(samples):
            department, year = rng.choice(budgets)
            spec = LineSpec(code="2080505", kind="basic", economic="30108/50102", cost="personnel")
            cmd = Adjust(line=spec, amount=Decimal("100.00"), reason="基准测试: 单条命令", effective=date(year, 6, 30))
            if i % 2 == 0:
                t0 = time.perf_counter()
                ledger.adjust(department, year, cmd)
                command.append(time.perf_counter() - t0)
                continue
            before = _total_cell(ledger, department, year)
            budget = ledger._load(department, year)
            budget.adjust([spec.to_line(cmd.amount, list(budget.units))], effective=cmd.effective, reason=cmd.reason)
            t0 = time.perf_counter()
            ledger.events.save(budget)
            t1 = time.perf_counter()
            ledger.catch_up()
            after = _total_cell(ledger, department, year)
            t2 = time.perf_counter()
            assert after - before == 10000, (before, after)
            append.append(t1 - t0)
            visible.append(t2 - t1)
    return {"command": latency(command), "command_per_s": len(command) / sum(command),
            "append": latency(append), "append_events_per_s": len(append) / sum(append),
            "catch_up": latency(visible)}


def as_of(url: str, samples: int, seed: int = 11) -> dict[str, Any]:
    """The 13 tables of one department-year as of an earlier point (position, publication,
    effective date in turn), rendered."""
    rng = random.Random(seed)
    times = []
    with Ledger(url) as ledger:
        ledger.catch_up()
        budgets = _budgets(ledger)
        for i in range(samples):
            department, year = rng.choice(budgets)
            positions = [e.position for e in ledger.log.budget_events(str(budget_id(department, year)))]
            point = (Point(position=rng.choice(positions)), Point(publication="年初预算"),
                     Point(effective=date(year, rng.randint(1, 12), 15)))[i % 3]
            t0 = time.perf_counter()
            tables = ledger.tables(department, year, point=point)
            times.append(time.perf_counter() - t0)
            assert len(tables) == 13
    return latency(times)


def rebuild(url: str) -> dict[str, Any]:
    """Clear the read model and replay everything (run in a fresh process for its peak RSS).
    `path` says how the events are read: "table" (eventsourcing's table read directly, the
    lines of an event with lines read typed, any other state parsed with orjson: the embedded
    and PostgreSQL stores alike) or "recorder" (pages through the application's recorder and
    mapper: an encrypted or compressed store)."""
    with Ledger(url) as ledger:
        path = "table" if ledger.log.reads_table else "recorder"
        t0 = time.perf_counter()
        count = ledger.rebuild()
        seconds = time.perf_counter() - t0
    return {"events": count, "seconds": seconds, "events_per_s": count / seconds, "peak_rss_mb": _peak_rss_mb(),
            "path": path}


def floor(url: str, decoder: str) -> dict[str, Any]:
    """What a rebuild cannot avoid: read the same events from the same store and decode them,
    nothing projected. "table": exactly what the rebuild reads and decodes (devtools/floor.py:
    the same query, batches and decoding, nothing folded or written: the lines of an event
    with lines read typed, the state of any other parsed); "table-full": the same reads, every
    state parsed in full (orjson); "projector": pages through the application's recorder, each
    state decoded in full; "mapper": the same pages decoded by eventsourcing's mapper into
    domain event objects."""
    if decoder in ("table", "table-full"):
        with Ledger(url) as ledger:
            t0 = time.perf_counter()
            count = rebuild_floor.floor(ledger.projector, full=decoder == "table-full")
            seconds = time.perf_counter() - t0
        return {"events": count, "seconds": seconds, "events_per_s": count / seconds, "peak_rss_mb": _peak_rss_mb()}
    with Ledger(url) as ledger:
        recorder, projector, mapper = ledger.events.recorder, ledger.projector, ledger.events.mapper
        decode = projector.decoder.decode if decoder == "projector" else mapper.to_domain_event
        count = position = 0
        t0 = time.perf_counter()
        while True:
            page = recorder.select_notifications(start=position + 1, limit=projector.page_size)
            for n in page:
                decode(n)
            count += len(page)
            if len(page) < projector.page_size:
                break
            position = page[-1].id
        seconds = time.perf_counter() - t0
    return {"events": count, "seconds": seconds, "events_per_s": count / seconds, "peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    """Peak RSS of this process's own memory (VmHWM). Not ru_maxrss: on Linux that keeps the
    parent's peak across fork and exec, so a child of a big process would report the parent's."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # KiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def history_cost(url: str, sizes: tuple[int, ...] = (100, 50_000), samples: int = 20,
                 page: int = 100) -> dict[str, Any]:
    """A write and a page of a budget's event feed, on budgets of `sizes` events in one store
    (issue 21, item 4: they should cost the same at 50,000 events as at 100).

    Each budget is opened and filled with adjustments of 1.00 元 recorded as the aggregate
    records them (its event method, a save per 10,000 events, as tests/api/test_big_history.py
    does), then caught up. Measured on each, `samples` times in turn:
    - write: `Ledger.adjust` end to end, as `ledger adjust` or a POST does it (load the budget,
      check, save, catch the projections up);
    - feed page: `Ledger.event_feed` of that budget, `page` events after a cursor drawn at
      random in its history (as GET /api/budgets/{department}/{year}/events?after=&limit=).
    """
    from ledger.domain.budget import Budget

    out: dict[str, Any] = {"sizes": list(sizes), "samples": samples, "page": page, "budgets": {}}
    spec = LineSpec(code="2210399", kind="basic", economic="办公费/办公经费", cost="operating")
    with Ledger(url) as ledger:
        for size in sizes:
            department = f"基准部门{size}"
            budget = Budget(department=department, fiscal_year=2024, units=[{"name": department, "category": "行政单位"}],
                            effective=date(2024, 1, 1), reason="基准测试: 开账")
            line = spec.to_line(Decimal("1.00"), [department]).to_dict()
            for start in range(1, size, 10_000):
                for i in range(start, min(start + 10_000, size)):
                    budget._adjusted(str(uuid.uuid4()), [line], date(2024, 6, 30), f"第{i}次调整", None)
                ledger.events.save(budget)
            ledger.catch_up()
            out["budgets"][size] = {"department": department}
        rng = random.Random(5)
        writes: dict[int, list[float]] = {size: [] for size in sizes}
        feeds: dict[int, list[float]] = {size: [] for size in sizes}
        cmd = Adjust(line=spec, amount=Decimal("1.00"), reason="基准测试: 写入", effective=date(2024, 7, 1))
        for _ in range(samples):
            for size in sizes:
                department = out["budgets"][size]["department"]
                t0 = time.perf_counter()
                ledger.adjust(department, 2024, cmd)
                writes[size].append(time.perf_counter() - t0)
                positions = out["budgets"][size].setdefault("positions", [
                    e.position for e in ledger.log.budget_events(str(budget_id(department, 2024)))])
                after = rng.choice(positions[: max(1, len(positions) - page)])
                t0 = time.perf_counter()
                got = ledger.event_feed(after, page, department, 2024)
                feeds[size].append(time.perf_counter() - t0)
                assert len(got.items) == page, (size, after, len(got.items))
        for size in sizes:
            out["budgets"][size].pop("positions", None)
            out["budgets"][size] |= {"events": size + samples, "write": latency(writes[size]),
                                     "feed_page": latency(feeds[size])}
    return out
