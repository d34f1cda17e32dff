"""A budget with 50,000 adjustments, served by the real server: diff, lineage and the event feed
answer in bounded pages, in bounded time and memory (measured before these limits: an anonymous
diff took 52.7 s and 5.5 GB), and a read that runs past the time limit is stopped, not left
running after its answer."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import date
from decimal import Decimal

import httpx
import pytest
from support import new_database_url

from ledger.application import Ledger
from ledger.application.commands import LineSpec
from ledger.domain.budget import budget_id

from .api_support import BUDGET, DEPARTMENT, SEED, YEAR, Server

ADJUSTMENTS = 50_000
BATCH = 10_000  # events per save (a PostgreSQL save of 60,000 events stalls in psycopg's pipeline)
LINES = [LineSpec(code="2210399", kind="basic", economic=economic, cost=cost) for economic, cost in (
    ("基本工资/工资奖金津补贴", "personnel"), ("津贴补贴/工资奖金津补贴", "personnel"),
    ("办公费/办公经费", "operating"), ("差旅费/办公经费", "operating"))]
MiB = 1024 * 1024
TIME_LIMIT = 30  # seconds: the server's default read time limit


def record_adjustments(url: str) -> int:
    """The reference document, then 50,000 adjustments of 1.00 元 over four lines, recorded as
    the aggregate records them (its event method; ledger.synthetic does the same), a save per
    batch, then projected. Returns the position of the last one."""
    with Ledger(url) as ledger:
        ledger.import_document(SEED.read_bytes(), SEED.name)
        budget = ledger.events.repository.get(budget_id(DEPARTMENT, YEAR))
        lines = [spec.to_line(Decimal("1.00"), list(budget.units)).to_dict() for spec in LINES]
        for start in range(0, ADJUSTMENTS, BATCH):
            for i in range(start, min(start + BATCH, ADJUSTMENTS)):
                budget._adjusted(str(uuid.uuid4()), [lines[i % len(lines)]], date(2024, 6, 30), f"第{i}次调整", None)
            recordings = ledger.events.save(budget)
        ledger.catch_up()
        return recordings[-1].notification.id


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    directory = tmp_path_factory.mktemp("big")
    url, drop = new_database_url(directory)
    last = record_adjustments(url)
    tokens = {role: secrets.token_urlsafe(24) for role in ("reader", "officer", "admin")}
    server = Server(url, tokens, directory / "serve.log")
    yield server, url, tokens, last
    server.stop()
    drop()


def timed_get(server, path: str, **params) -> tuple[httpx.Response, float, int]:
    """The response, its time, and how far the server's memory rose above what it held before
    at its peak while answering."""
    server.reset_peak()
    before = server.rss()
    started = time.monotonic()
    response = httpx.get(f"{server.url}{path}", params=params, timeout=120)
    return response, time.monotonic() - started, server.rss("VmHWM") - before


def test_a_diff_over_50000_adjustments_is_bounded(big):
    server, _url, _tokens, _last = big
    response, seconds, memory = timed_get(server, f"{BUDGET}/diff", from_publication="年初预算")
    assert response.status_code == 200, response.text
    assert seconds < TIME_LIMIT, seconds
    assert memory < 400 * MiB, memory / MiB
    assert len(response.content) < 2 * MiB
    diff = response.json()
    assert diff["total"] == len(diff["changes"]) and diff["next_offset"] is None
    assert all(len(c["events"]) <= 20 for c in diff["changes"])
    total = next(c for c in diff["changes"] if (c["table"], c["row"], c["column"]) == (3, "0/total", "total"))
    assert Decimal(total["delta"]["yuan"]) == ADJUSTMENTS * Decimal("1.00")
    assert total["events_count"] == ADJUSTMENTS
    one_line = next(c for c in diff["changes"] if (c["table"], c["row"]) == (6, "0/econ:30101/50101"))
    assert one_line["events_count"] == ADJUSTMENTS // len(LINES)
    assert [e["reason"] for e in one_line["events"][:2]] == ["第0次调整", "第4次调整"]
    print(f"diff over {ADJUSTMENTS} adjustments: {seconds:.2f} s, server peak memory +{memory / MiB:.0f} MiB")


def test_a_lineage_of_50000_contributions_comes_a_page_at_a_time(big):
    server, _url, _tokens, last = big
    path = f"{BUDGET}/tables/3/lineage"
    response, seconds, memory = timed_get(server, path, row="合计", column="合计", limit=1000)
    assert response.status_code == 200, response.text
    assert seconds < TIME_LIMIT and memory < 400 * MiB, (seconds, memory / MiB)
    lineage = response.json()
    assert len(lineage["contributions"]) == 1000 and lineage["count"] > ADJUSTMENTS
    assert lineage["total"] == lineage["amount"]  # the total is of every contribution, not the page
    after = lineage["next_after"]
    assert after == lineage["contributions"][-1]["position"]
    print(f"lineage of {lineage['count']} contributions: {seconds:.2f} s, server peak memory +{memory / MiB:.0f} MiB")
    tail = httpx.get(f"{server.url}{path}", params={"row": "合计", "column": "合计", "after": last - 3},
                     timeout=120).json()
    assert [c["position"] for c in tail["contributions"]] == [last - 2, last - 1, last] and tail["next_after"] is None
    too_many = httpx.get(f"{server.url}{path}", params={"row": "合计", "column": "合计", "limit": 1001})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["message"] == "应不大于 1000"


def test_the_event_feeds_are_bounded_pages(big):
    server, _url, _tokens, last = big
    for path in (f"{BUDGET}/events", "/api/events"):
        response, seconds, memory = timed_get(server, path, after=last - 5000, limit=1000)
        assert response.status_code == 200 and seconds < TIME_LIMIT and memory < 400 * MiB, (path, seconds, memory)
        print(f"{path} page of 1000: {seconds:.2f} s, server peak memory +{memory / MiB:.0f} MiB")
        page = response.json()
        assert len(page["items"]) == 1000 and page["next_after"] == page["items"][-1]["position"]
        assert page["items"][0]["position"] == last - 4999 and page["last_position"] == last
        too_many = httpx.get(f"{server.url}{path}", params={"limit": 5000})
        assert too_many.status_code == 422 and "应不大于 1000" in too_many.json()["detail"]


def test_a_read_past_the_time_limit_is_stopped(big, tmp_path):
    _server, url, tokens, _last = big
    strict = Server(url, tokens, tmp_path / "strict.log", env={"LEDGER_READ_TIME_LIMIT": "0.5"})
    try:
        response, seconds, _memory = timed_get(strict, f"{BUDGET}/diff", from_publication="年初预算")
        assert response.status_code == 503, response.text
        assert "读取超过 0.5 秒的时限, 已停止" in response.json()["detail"]
        assert seconds < 10
        print(f"diff with a 0.5 s limit: 503 after {seconds:.2f} s")
        # The work stopped with the answer: the server uses next to no CPU afterwards.
        cpu = strict.cpu_seconds()
        time.sleep(3)
        assert strict.cpu_seconds() - cpu < 0.5
        assert httpx.get(f"{strict.url}/api/health").json()["status"] == "ok"
    finally:
        strict.stop()
