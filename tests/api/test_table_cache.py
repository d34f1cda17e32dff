"""The current tables are served from a per-process cache of their JSON (http/tablecache.py):
the cached answers are the same JSON as answers rendered without the cache, and a write (through
this app, or by another Ledger on the same store) shows in the very next read, with a new ETag."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import httpx
from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.application.commands import Adjust, LineSpec
from ledger.http.app import create_app

from .api_support import BUDGET, DEPARTMENT, YEAR, bearer, upload

PATHS = [f"{BUDGET}/tables"] + [f"{BUDGET}/tables/{n}" for n in range(1, 14)]
LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}


def basic_of_2210399(client, path: str = f"{BUDGET}/tables/3") -> tuple[Decimal, str]:
    """表三's 基本支出 of 2210399 in the answer (one table or all), and the answer's ETag."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    table = next(t for t in response.json()["tables"] if t["number"] == 3)
    amount = next(Decimal(a["yuan"]) for r in table["rows"] for a in r["amounts"]
                  if (a["row"], a["column"]) == ("0/code:2210399", "basic"))
    return amount, response.headers["etag"]


def test_cached_answers_are_the_json_rendered_without_the_cache(loaded, settings):
    cache = loaded.app.state.table_cache
    with TestClient(create_app(replace(settings, table_cache_size=0))) as uncached:
        assert uncached.app.state.table_cache is None
        for path in PATHS:
            expected = uncached.get(path)
            assert expected.status_code == 200, expected.text
            first, again = loaded.get(path), loaded.get(path)  # rendered into the cache, then served from it
            for response in (first, again):
                assert response.status_code == 200
                assert response.headers["content-type"] == "application/json"
                assert response.json() == expected.json(), path
                assert response.headers["etag"] == expected.headers["etag"] == f'"{loaded.imported["version"]}"'
    assert set(cache.keys()) == {(DEPARTMENT, YEAR, n) for n in [None, *range(1, 14)]}  # all came through it


def test_the_cache_keeps_at_most_its_size_and_still_answers_right(settings, tokens, seed_bytes):
    with TestClient(create_app(replace(settings, table_cache_size=2))) as small, \
            TestClient(create_app(replace(settings, table_cache_size=0))) as uncached:
        assert upload(small, tokens["admin"], seed_bytes).status_code == 201
        for path in PATHS + PATHS[:3]:
            assert small.get(path).json() == uncached.get(path).json(), path
        assert small.app.state.table_cache.keys() == [(DEPARTMENT, YEAR, 1), (DEPARTMENT, YEAR, 2)]


def test_a_write_through_the_api_shows_in_the_next_read_with_a_new_etag(loaded, tokens):
    before, etag = basic_of_2210399(loaded)
    before_all, etag_all = basic_of_2210399(loaded, f"{BUDGET}/tables")
    assert (before_all, etag_all) == (before, etag)
    assert basic_of_2210399(loaded) == (before, etag)  # served from the cache

    recorded = loaded.post(f"{BUDGET}/adjustments", headers=bearer(tokens["officer"]),
                           json={"line": LINE, "amount": "-20000.00", "reason": "社保缴费基数调整"})
    assert recorded.status_code == 201, recorded.text
    new_etag = f'"{recorded.json()["version"]}"'
    assert new_etag != etag
    assert basic_of_2210399(loaded) == (before - Decimal("20000.00"), new_etag)
    assert basic_of_2210399(loaded, f"{BUDGET}/tables") == (before - Decimal("20000.00"), new_etag)


def test_a_write_by_another_ledger_on_the_same_store_shows_in_the_next_read(server, database_url):
    """The real server (`ledger serve`, its own process and cache); the write comes from a
    Ledger in this process, as the CLI or another worker would make it."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        before, etag = basic_of_2210399(client)
        assert basic_of_2210399(client) == (before, etag)  # cached now
        with Ledger(database_url) as other:
            other.adjust(DEPARTMENT, YEAR, Adjust(line=LineSpec(**LINE), amount="1234.56", reason="另一进程的调整"))
        after, new_etag = basic_of_2210399(client)
        assert after == before + Decimal("1234.56")
        assert new_etag != etag and int(new_etag.strip('"')) == int(etag.strip('"')) + 1
        assert basic_of_2210399(client, f"{BUDGET}/tables") == (after, new_etag)
