"""Run every benchmark, on SQLite and on PostgreSQL: `python benchmarks/run.py`.

For each store: a fresh store is filled with synthetic budgets (ledger.synthetic) by
batched import, then measured: single commands and catch-up latency, as-of latency,
rebuild and its floor (each in a fresh process, for peak RSS), and the HTTP API against a
bare endpoint. Results go to a JSON file and are printed as lines such as
`rebuild: N events/s` and `rebuild/floor: R`.

    python benchmarks/run.py                          # 1,000,000 events, sqlite then postgresql
    python benchmarks/run.py --events 20000 --stores sqlite
    python benchmarks/run.py --url sqlite:///tmp/x.sqlite --events 2000   # an empty store given
    python benchmarks/run.py history                  # only: a write and a feed page at 100 vs 50,000 events
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import api  # noqa: E402
import measures  # noqa: E402

from ledger.devtools import synthetic  # noqa: E402
from ledger.cli.progress import progress  # noqa: E402

# Events per Application.save of the batched import. On PostgreSQL eventsourcing writes a
# save through a psycopg pipeline, and a pipeline of 20,000 events (~20 MB) hung for minutes
# in pipeline sync with the server waiting on ClientRead (cf. psycopg issue #685). With the
# binary recorder (ledger.pgrecorder) and psycopg 3.3.9 a 20,000-event save took 0.67 s, but
# one of 60,000 still did not return within 5 minutes (eighth session). The ledger itself
# saves one budget (hundreds of events) at a time.
BATCH_EVENTS = {"sqlite": 20000, "postgresql": 2000}

TARGETS = {  # issue 7
    "rebuild_events_per_s": (">=", 150_000, "sqlite"),
    "rebuild_over_floor": ("<=", 2.0, None),
    "append_events_per_s": (">=", {"sqlite": 50_000, "postgresql": 20_000}, None),
    "as_of_p95_ms": ("<=", 50, None),
    "catch_up_p99_ms": ("<=", 100, None),
    "api_ratio": (">=", 0.5, None),
    "api_p99_ms": ("<=", 25, None),
    "rebuild_peak_rss_mb": ("<=", 300, None),
}


def machine() -> dict[str, Any]:
    memory = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    return {"cores": os.cpu_count(), "memory_gib": round(memory / 2**30, 1), "cpu": cpu,
            "python": platform.python_version(), "load_average_at_start": os.getloadavg()}


def child(measure: str, url: str, *args: str) -> dict[str, Any]:
    """One measurement in a fresh Python process (its own peak RSS, no warm caches)."""
    out = subprocess.run([sys.executable, str(HERE / "run.py"), "child", measure, url, *args],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": _pythonpath()})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pythonpath() -> str:
    src = str(HERE.parent / "src")
    return os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)


class PostgresDatabase:
    """A dedicated database for the run, dropped afterwards."""

    def __init__(self, admin_url: str, name: str):
        self.admin_url, self.name = admin_url, name
        parts = urlsplit(admin_url)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))

    def _execute(self, sql: str) -> None:
        import psycopg

        parts = urlsplit(self.admin_url)
        with psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                             password=parts.password, dbname=parts.path.lstrip("/"), autocommit=True) as conn:
            conn.execute(sql)

    def __enter__(self) -> str:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc: object) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run_store(url: str, args: argparse.Namespace, log) -> dict[str, Any]:
    kind = "postgresql" if url.startswith("postgres") else "sqlite"
    shape = synthetic.Shape.for_events(args.events, years=args.years, changes=args.changes)
    result: dict[str, Any] = {"store": kind, "shape": {"departments": shape.departments, "years": list(shape.years),
                                                        "changes_per_budget": shape.changes}}
    if args.existing:
        log(f"[{kind}] measuring the store as it is (no import)")
    else:
        log(f"[{kind}] batched import of ~{args.events:,} events ({shape.budgets:,} budgets)")
        with progress(f"{kind} 导入", shape.budgets * (synthetic.OPENING_EVENTS + shape.changes + 1)) as advance:
            batch = args.batch_events or BATCH_EVENTS[kind]
            result["import"] = measures.batched_import(url, shape, advance, chain_index=not args.no_chain_index,
                                                       events_per_batch=batch)
        log(f"[{kind}] append (batched import): {result['import']['append_events_per_s']:,.0f} events/s")
    result["single"] = measures.single_commands(url, args.samples)
    log(f"[{kind}] single commands: {result['single']['command_per_s']:,.1f} commands/s; "
        f"catch-up p99 {result['single']['catch_up']['p99_ms']:.1f} ms")
    result["as_of"] = measures.as_of(url, args.samples)
    log(f"[{kind}] as-of p95: {result['as_of']['p95_ms']:.1f} ms")
    result["floor_fold"] = child("floor", url, "projector")
    result["floor_mapper"] = child("floor", url, "mapper")
    # The rebuild and the floor of its path (its own reads of the events table, else the
    # recorder's), alternately, --repeat times each: the machine is shared, so each figure is
    # the median run, with every run's events/s kept beside it.
    # Beside it (table path), the same reads with every state parsed in full.
    rebuilds, floors, full = [], [], []
    for _ in range(max(1, args.repeat)):
        rebuilds.append(child("rebuild", url))
        table = rebuilds[-1].get("path") == "table"
        floors.append(child("floor", url, "table") if table else result["floor_fold"])
        full.append(child("floor", url, "table-full") if table else result["floor_fold"])
    result["rebuild"] = _median(rebuilds) | {"peak_rss_mb": max(r["peak_rss_mb"] for r in rebuilds)}
    result["floor"] = _median(floors)
    result["floor_full"] = _median(full)
    result["rebuild_over_floor"] = result["floor"]["events_per_s"] / result["rebuild"]["events_per_s"]
    result["rebuild_over_full_floor"] = result["floor_full"]["events_per_s"] / result["rebuild"]["events_per_s"]
    log(f"[{kind}] rebuild: {result['rebuild']['events_per_s']:,.0f} events/s; "
        f"rebuild/floor: {result['rebuild_over_floor']:.2f}")
    if args.api_seconds > 0:
        department, year = measures.some_budget(url)
        result["api"] = api.measure(url, department, year, 3, args.api_seconds)
        if result["api"]["measured"]:
            log(f"[{kind}] api table: {result['api']['table']['requests_per_s']:,.0f} req/s, "
                f"bare: {result['api']['bare']['requests_per_s']:,.0f} req/s")
    return result


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median events/s (the lower middle one of an even count), and all runs'."""
    ranked = sorted(runs, key=lambda r: r["events_per_s"])
    return ranked[(len(ranked) - 1) // 2] | {"runs_events_per_s": [round(r["events_per_s"]) for r in runs]}


def figures(result: dict[str, Any]) -> dict[str, float]:
    out = {} if "import" not in result else {
        "append_events_per_s": result["import"]["append_events_per_s"],
        "import_with_projection_events_per_s": result["import"]["import_events_per_s"],
    }
    out |= {
        "single_append_events_per_s": result["single"]["append_events_per_s"],
        "single_command_per_s": result["single"]["command_per_s"],
        "rebuild_events_per_s": result["rebuild"]["events_per_s"],
        "floor_events_per_s": result["floor"]["events_per_s"],
        "floor_full_events_per_s": result["floor_full"]["events_per_s"],
        "floor_mapper_events_per_s": result["floor_mapper"]["events_per_s"],
        "floor_fold_events_per_s": result["floor_fold"]["events_per_s"],
        "rebuild_over_floor": result["rebuild_over_floor"],
        "rebuild_over_full_floor": result["rebuild_over_full_floor"],
        "catch_up_p50_ms": result["single"]["catch_up"]["p50_ms"],
        "catch_up_p99_ms": result["single"]["catch_up"]["p99_ms"],
        "as_of_p50_ms": result["as_of"]["p50_ms"],
        "as_of_p95_ms": result["as_of"]["p95_ms"],
        "rebuild_peak_rss_mb": result["rebuild"]["peak_rss_mb"],
    }
    api_result = result.get("api") or {}
    if api_result.get("measured"):
        out.update(api_requests_per_s=api_result["table"]["requests_per_s"], api_p99_ms=api_result["table"]["p99_ms"],
                   bare_requests_per_s=api_result["bare"]["requests_per_s"], bare_p99_ms=api_result["bare"]["p99_ms"],
                   api_ratio=api_result["ratio"])
    return out


def verdicts(kind: str, values: dict[str, float]) -> list[str]:
    lines = []
    for name, (op, target, only) in TARGETS.items():
        if only and only != kind or name not in values:
            continue
        target = target[kind] if isinstance(target, dict) else target
        value = values[name]
        met = value >= target if op == ">=" else value <= target
        by = (value / target if op == ">=" else target / value) if value else 0.0
        lines.append(f"{name}: {value:,.2f} (target {op} {target:,}) {'met' if met else f'MISSED (x{by:.2f} of target)'}")
    return lines


def report_lines(result: dict[str, Any]) -> list[str]:
    v = figures(result)
    kind = result["store"]
    imported = result.get("import")
    lines = [f"store: {kind}, events: {result['rebuild']['events']:,}"
             + (" (benchmark added an index on ledger_chain.budget_id)" if (imported or {}).get("chain_index_added")
                else "")]
    if imported:
        lines += [f"append (batched import): {v['append_events_per_s']:,.0f} events/s",
                  f"import with projection: {v['import_with_projection_events_per_s']:,.0f} events/s"]
    lines += [
        f"append (single command, save only): {v['single_append_events_per_s']:,.0f} events/s",
        f"single command end to end: {v['single_command_per_s']:,.1f} commands/s "
        f"(p50 {result['single']['command']['p50_ms']:.1f} ms, p99 {result['single']['command']['p99_ms']:.1f} ms)",
        f"rebuild: {v['rebuild_events_per_s']:,.0f} events/s ({result['rebuild'].get('path', 'fold')})",
        f"rebuild runs (events/s): {_runs(result['rebuild'])}; floor runs: {_runs(result['floor'])}; "
        f"full-decode floor runs: {_runs(result['floor_full'])}",
        f"floor: {v['floor_events_per_s']:,.0f} events/s (read + decode as this rebuild does; the same reads with "
        f"every state parsed in full: {v['floor_full_events_per_s']:,.0f}; the application's "
        f"recorder + JSON: {v['floor_fold_events_per_s']:,.0f}, + mapper: {v['floor_mapper_events_per_s']:,.0f})",
        f"rebuild/floor: {v['rebuild_over_floor']:.2f}",
        f"rebuild/full-decode floor: {v['rebuild_over_full_floor']:.2f}",
        f"catch-up: p50 {v['catch_up_p50_ms']:.1f} ms, p99 {v['catch_up_p99_ms']:.1f} ms",
        f"as-of (13 tables): p50 {v['as_of_p50_ms']:.1f} ms, p95 {v['as_of_p95_ms']:.1f} ms",
        f"rebuild peak RSS: {v['rebuild_peak_rss_mb']:.0f} MB",
    ]
    if "api_ratio" in v:
        lines.append(f"api table GET: {v['api_requests_per_s']:,.0f} req/s, p99 {v['api_p99_ms']:.1f} ms; "
                     f"bare: {v['bare_requests_per_s']:,.0f} req/s, p99 {v['bare_p99_ms']:.1f} ms; "
                     f"ratio {v['api_ratio']:.2f}")
    else:
        lines.append(f"api: not measured ({(result.get('api') or {}).get('reason', 'skipped')})")
    return lines + verdicts(kind, v)


def _runs(measured: dict[str, Any]) -> str:
    return ", ".join(f"{r:,}" for r in measured.get("runs_events_per_s", [round(measured["events_per_s"])]))


def history(argv: list[str]) -> int:
    """`run.py history`: only the measure of a write and a feed page at 100 vs 50,000 events
    (issue 21, item 4), on a new store per --stores (SQLite: a temporary file; PostgreSQL: a
    database of its own, created and dropped)."""
    parser = argparse.ArgumentParser(prog="run.py history", description=history.__doc__)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="100,50000", help="events of each budget measured")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--page", type=int, default=100, help="events per feed page")
    parser.add_argument("--postgres-admin-url", default=os.environ.get(
        "LEDGER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "history-latest.json")
    args = parser.parse_args(argv)
    sizes = tuple(int(n) for n in args.sizes.split(","))
    report: dict[str, Any] = {"command": "python benchmarks/run.py history " + " ".join(argv), "machine": machine(),
                              "started": time.strftime("%Y-%m-%d %H:%M:%S"), "results": []}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for kind in args.stores.split(","):
            if kind == "sqlite":
                result = measures.history_cost(f"sqlite:///{Path(tmp) / 'history.sqlite'}", sizes, args.samples,
                                               args.page)
            elif kind == "postgresql":
                with PostgresDatabase(args.postgres_admin_url, f"ledger_bench_history_{os.getpid()}") as url:
                    result = measures.history_cost(url, sizes, args.samples, args.page)
            else:
                parser.error(f"unknown store {kind!r} (sqlite, postgresql)")
            result["store"] = kind
            report["results"].append(result)
            for size, b in result["budgets"].items():
                print(f"[{kind}] {size:,} events: write p50 {b['write']['p50_ms']:.1f} ms "
                      f"(p95 {b['write']['p95_ms']:.1f}); feed page of {args.page} p50 {b['feed_page']['p50_ms']:.1f} ms "
                      f"(p95 {b['feed_page']['p95_ms']:.1f})", flush=True)
    report["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["history"]:
        return history(argv[1:])
    if argv[:1] == ["child"]:
        measure, url, *rest = argv[1:]
        value = measures.rebuild(url) if measure == "rebuild" else measures.floor(url, *rest)
        print(json.dumps(value))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--url", help="use this empty store instead of creating one per --stores")
    parser.add_argument("--postgres-admin-url", default=os.environ.get(
        "LEDGER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--workdir", type=Path, default=None, help="where SQLite stores go (default: a temp dir)")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--changes", type=int, default=95, help="adjustments/transfers/corrections per budget")
    parser.add_argument("--samples", type=int, default=200, help="samples for latency figures")
    parser.add_argument("--api-seconds", type=float, default=10)
    parser.add_argument("--batch-events", type=int, default=0,
                        help="events per save of the batched import (default: 20000 on SQLite, 2000 on PostgreSQL)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the rebuild and of its floor (median)")
    parser.add_argument("--existing", action="store_true",
                        help="with --url: measure a store already filled (by an earlier run), without importing")
    parser.add_argument("--no-chain-index", action="store_true",
                        help="do not add the index on ledger_chain.budget_id that the hash chain lacks")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    command = "python benchmarks/run.py " + " ".join(argv)
    report: dict[str, Any] = {"command": command, "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "results": []}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        if args.url:
            stores = [(args.url, None)]
        else:
            stores = []
            for kind in args.stores.split(","):
                if kind == "sqlite":
                    stores.append((f"sqlite:///{Path(tmp) / 'bench.sqlite'}", None))
                elif kind == "postgresql":
                    stores.append((None, PostgresDatabase(args.postgres_admin_url, "ledger_bench")))
                else:
                    parser.error(f"unknown store {kind!r} (sqlite, postgresql)")
        for url, database in stores:
            if database is not None:
                with database as url:
                    result = run_store(url, args, log)
            else:
                result = run_store(url, args, log)
            result["figures"] = figures(result)
            result["lines"] = report_lines(result)
            report["results"].append(result)
            print("\n".join(result["lines"]), flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    report["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
