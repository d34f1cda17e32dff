"""The API under `uvicorn --workers 2` on PostgreSQL serves consistent reads while officers
write: every table read is a whole snapshot (its 合计 is the sum of its classes, to the 分),
a client never sees the figures go back, and no acknowledged write is lost."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from decimal import Decimal

import httpx

from .api_support import BUDGET, SEED, Server, bearer

STEP = Decimal("1000.00")
WRITES = 20
LINE = {"code": "2210399", "kind": "basic", "economic": "办公费/办公经费", "cost": "operating"}


def snapshot(client: httpx.Client) -> Decimal:
    table = client.get(f"{BUDGET}/tables/3", timeout=30).json()["tables"][0]
    amounts = {(a["row"], a["column"]): Decimal(a["yuan"]) for r in table["rows"] for a in r["amounts"]}
    total = amounts[("0/total", "total")]
    classes = sum(v for (row, col), v in amounts.items() if col == "total" and re.fullmatch(r"0/code:\d{3}", row))
    assert total == classes, f"a torn read: 合计 {total} ≠ Σ 类 {classes}"
    return total


def test_two_workers_on_postgresql_serve_consistent_reads(postgresql_url, tokens, tmp_path):
    env = {"LEDGER_DATABASE_URL": postgresql_url, "PYTHONIOENCODING": "utf-8"}
    subprocess.run([sys.executable, "-m", "ledger", "import", str(SEED)], env={**os.environ, **env},
                   check=True, capture_output=True, timeout=300)
    server = Server(postgresql_url, tokens, tmp_path / "serve.log", workers=2)
    try:
        with httpx.Client(base_url=server.url) as probe:
            base = snapshot(probe)
        done = threading.Event()
        seen: dict[int, list[Decimal]] = {}
        errors: list[BaseException] = []

        def write() -> None:
            try:
                with httpx.Client(base_url=server.url, headers=bearer(tokens["officer"])) as client:
                    for i in range(WRITES):
                        while True:
                            response = client.post(f"{BUDGET}/adjustments", timeout=60,
                                                   json={"line": LINE, "amount": str(STEP), "reason": f"并发写入{i}"})
                            if response.status_code != 409:
                                break
                        assert response.status_code == 201, response.text
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                done.set()

        def read(n: int) -> None:
            try:
                with httpx.Client(base_url=server.url) as client:
                    seen[n] = []
                    while not done.is_set() or len(seen[n]) < 3:
                        seen[n].append(snapshot(client))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=write)] + [threading.Thread(target=read, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert not errors, errors
        for totals in seen.values():
            assert totals == sorted(totals), "a client saw the figures go back"
            assert all((t - base) % STEP == 0 and base <= t <= base + WRITES * STEP for t in totals)
        with httpx.Client(base_url=server.url) as client:
            assert snapshot(client) == base + WRITES * STEP
        assert sum(len(t) for t in seen.values()) > 20
    finally:
        server.stop()
