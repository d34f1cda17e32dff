"""Idempotency keys that can never be stuck (issue 21.5, issue 19.5): the key and its response
are recorded in the same transaction as the write's events; a key belongs to its token; keys
expire; rows left "in progress" by the code before are released or, when the budget recorded
something since, answered without recording twice. Against the real server on both stores."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, insert, select, text, update

from ledger.application import ConcurrentChange, Ledger, commands
from ledger.eventstore.storage import ENGINE_OPTIONS, Storage
from ledger.http.idempotency import Claim, IdempotencyStore, Outcome, keys

from .api_support import BUDGET, DEPARTMENT, SEED, YEAR, Server, bearer

LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}
ADJUST = {"line": LINE, "amount": "-20000.00", "reason": "社保缴费基数调整", "effective": "2024-06-30"}


@pytest.fixture
def store(database_url):
    engine = create_engine(Storage.from_url(database_url).sqlalchemy_url, **ENGINE_OPTIONS)
    yield engine
    engine.dispose()


@pytest.fixture
def served(database_url, tokens, tmp_path):
    """The real server over the imported reference budget, with a lease of 2 s."""
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}
    subprocess.run([sys.executable, "-m", "ledger", "import", str(SEED)], env=env, check=True, capture_output=True,
                   timeout=300)
    running = Server(database_url, tokens, tmp_path / "server.log", env={"LEDGER_IDEMPOTENCY_LEASE_SECONDS": "2"})
    yield running
    running.stop()


def post(server, token: str, key: str | None, body: dict = ADJUST) -> httpx.Response:
    headers = {**bearer(token), **({"Idempotency-Key": key} if key else {})}
    return httpx.post(f"{server.url}{BUDGET}/adjustments", headers=headers, json=body, timeout=60)


def last_position(server) -> int:
    return httpx.get(f"{server.url}/api/health").json()["position"]


def row(engine, key: str):
    with engine.connect() as conn:
        return conn.execute(select(keys).where(keys.c.key == key)).first()


def test_a_key_is_recorded_with_its_events_and_belongs_to_its_token(served, tokens, store):
    first = post(served, tokens["officer"], "k-0001")
    assert first.status_code == 201
    saved = row(store, "k-0001")
    # The response, as the same transaction as the event recorded it.
    assert (saved.status_code, saved.body, saved.headers["ETag"]) == (201, first.json(), first.headers["etag"])
    assert saved.body["position"] == last_position(served)
    assert saved.token == hashlib.sha256(tokens["officer"].encode()).hexdigest()
    assert tokens["officer"] not in str(tuple(saved))
    created = saved.created_at if saved.created_at.tzinfo else saved.created_at.replace(tzinfo=UTC)
    assert abs(saved.expires_at - created.timestamp() - 86400) < 5

    retry = post(served, tokens["officer"], "k-0001")
    assert (retry.status_code, retry.json(), retry.headers["idempotent-replayed"]) == (201, first.json(), "true")

    # Another token (admin may record commands too) reusing the key: 422, not the first result.
    before = last_position(served)
    other = post(served, tokens["admin"], "k-0001")
    assert other.status_code == 422
    assert other.json()["errors"][0]["location"] == "header.Idempotency-Key"
    assert "另一个令牌" in other.json()["detail"] and "event_id" not in other.text
    assert last_position(served) == before


def test_a_save_whose_key_is_taken_records_no_event(imported, database_url, store):
    """The key row fails the whole save: the events are not recorded without their key (and so
    never a key without its events). The key is taken as a racing first request takes it."""
    IdempotencyStore(store)
    with store.begin() as conn:
        conn.execute(insert(keys).values(key="taken", fingerprint="f" * 64, status_code=201, body={}, headers={},
                                         created_at=datetime.now(UTC), token="t" * 64,
                                         expires_at=datetime.now(UTC).timestamp() + 60))
    before = imported.log.last_position(), imported.version(DEPARTMENT, YEAR)
    claim = Claim("taken", "t" * 64, "f" * 64, 60, lambda recorded: Outcome(201, {"position": recorded.position}, {}))
    with pytest.raises(ConcurrentChange):
        imported.adjust(DEPARTMENT, YEAR, commands.Adjust.model_validate(ADJUST), claim=claim)
    assert imported.version(DEPARTMENT, YEAR) == before[1]
    events = imported.event_feed(0, 1000, DEPARTMENT, YEAR).items
    assert [e for e in events if e.reason == ADJUST["reason"]] == []

    # A free key is recorded with the event, in the same save.
    claim = Claim("free", "t" * 64, "f" * 64, 60, lambda recorded: Outcome(201, {"position": recorded.position}, {}))
    recorded = imported.adjust(DEPARTMENT, YEAR, commands.Adjust.model_validate(ADJUST), claim=claim)
    assert row(store, "free").body == {"position": recorded.position} == claim.outcome.body


def _leave_in_progress(engine, key: str, fingerprint: str, age: timedelta = timedelta(0)) -> None:
    """A row as the code before left it when its request died after claiming the key: no
    response, no token, no expiry."""
    with engine.begin() as conn:
        conn.execute(insert(keys).values(key=key, fingerprint=fingerprint, created_at=datetime.now(UTC) - age))


def test_a_key_claimed_a_moment_ago_by_the_code_before_is_still_in_progress(loaded, tokens, store):
    officer = bearer(tokens["officer"])
    assert loaded.post(f"{BUDGET}/adjustments", headers={**officer, "Idempotency-Key": "probe"},
                       json=ADJUST).status_code == 201
    _leave_in_progress(store, "young", row(store, "probe").fingerprint)
    before = loaded.get("/api/health").json()["position"]
    young = loaded.post(f"{BUDGET}/adjustments", headers={**officer, "Idempotency-Key": "young"}, json=ADJUST)
    assert young.status_code == 409 and "仍在处理" in young.json()["detail"]
    assert loaded.get("/api/health").json()["position"] == before


def test_a_dead_first_request_never_leaves_its_key_stuck(served, tokens, store):
    """Rows in progress older than the lease (2 s here): released when the budget recorded
    nothing since the claim; when it recorded something (perhaps the dead request's own write),
    409 naming it until the key expires, never a second recording. Expired keys are new, and
    purged lazily (by a keyed write, at most once a minute per process: here the first)."""
    with store.begin() as conn:
        conn.execute(insert(keys).values(key="other", fingerprint="0" * 64, status_code=201, body={}, headers={},
                                         created_at=datetime.now(UTC) - timedelta(days=2), token="0" * 64,
                                         expires_at=datetime.now(UTC).timestamp() - 86400))
    assert post(served, tokens["officer"], "probe").status_code == 201
    assert row(store, "other") is None
    fingerprint = row(store, "probe").fingerprint
    time.sleep(1.5)  # the claim comes after the budget's last event (clock margin 1 s)
    _leave_in_progress(store, "dead", fingerprint)
    time.sleep(2.1)  # past the lease
    before = last_position(served)
    released = post(served, tokens["officer"], "dead")
    assert released.status_code == 201 and "idempotent-replayed" not in released.headers
    assert last_position(served) == before + 1 == released.json()["position"]
    assert row(store, "dead").status_code == 201
    assert post(served, tokens["officer"], "dead").json() == released.json()

    # Claimed 2.5 s ago, and the budget recorded an event since: the dead request's write, or not.
    _leave_in_progress(store, "recorded", fingerprint, timedelta(seconds=2.5))
    unknown = post(served, tokens["officer"], "recorded")
    assert unknown.status_code == 409
    assert f"位置 {released.json()['position']}" in unknown.json()["detail"] and "过期" in unknown.json()["detail"]
    assert last_position(served) == before + 1

    # Expired (LEDGER_IDEMPOTENCY_TTL_SECONDS, 24 h by default): the key is new again.
    with store.begin() as conn:
        conn.execute(update(keys).where(keys.c.key == "recorded").values(
            created_at=datetime.now(UTC) - timedelta(days=1, seconds=10)))
        conn.execute(update(keys).where(keys.c.key == "probe").values(expires_at=datetime.now(UTC).timestamp() - 1))
    again = post(served, tokens["officer"], "recorded")
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    renewed = post(served, tokens["officer"], "probe")
    assert renewed.status_code == 201 and "idempotent-replayed" not in renewed.headers
    assert last_position(served) == before + 3


def test_a_key_table_made_by_the_code_before_is_migrated(imported, store):
    """The table of the code before (no token, no expiry): the columns are added, its keys
    still replay (to any token: they were made before keys had one) and expire by age."""
    with store.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS ledger_http_idempotency"))
        conn.execute(text("CREATE TABLE ledger_http_idempotency (key VARCHAR(200) PRIMARY KEY, "
                          "fingerprint VARCHAR(64) NOT NULL, status_code INTEGER, body JSON, headers JSON, "
                          "created_at TIMESTAMP WITH TIME ZONE NOT NULL)"))
    with store.begin() as conn:
        conn.execute(text(
            "INSERT INTO ledger_http_idempotency (key, fingerprint, status_code, body, headers, created_at) "
            "VALUES ('old', :f, 201, :b, :h, :c)"), {"f": "a" * 64, "b": '{"position": 7}', "h": '{"ETag": "\\"7\\""}',
                                                     "c": datetime.now(UTC) - timedelta(hours=1)})
    keystore = IdempotencyStore(store)
    IdempotencyStore(store)  # a second process opening the same store
    ran = []
    outcome = keystore.run("old", "b" * 64, "a" * 64, lambda claim: ran.append(claim), lambda r: Outcome(201, {}, {}))
    assert (outcome.status_code, outcome.body, outcome.replayed, ran) == (201, {"position": 7}, True, [])
    with store.begin() as conn:
        conn.execute(update(keys).where(keys.c.key == "old").values(created_at=datetime.now(UTC) - timedelta(days=2)))
    outcome = keystore.run("old", "b" * 64, "a" * 64, lambda claim: "new", lambda r: Outcome(201, {"r": r}, {}))
    assert (outcome.body, outcome.replayed) == ({"r": "new"}, False)
    assert row(store, "old").token == "b" * 64


def test_the_key_is_documented_and_its_settings_checked(client, database_url, tmp_path):
    documented = []
    for path, item in client.get("/openapi.json").json()["paths"].items():
        for method, operation in item.items():
            for header in (p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"):
                assert all(word in header["description"] for word in ("同一事务", "令牌", "422", "过期",
                                                                      "LEDGER_IDEMPOTENCY_TTL_SECONDS")), path
                documented.append((method, path.rsplit("/", 1)[-1]))
    assert sorted(documented) == [("post", r) for r in ("adjustments", "appropriations", "audits", "corrections",
                                                         "documents", "publications", "transfers")]
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_IDEMPOTENCY_TTL_SECONDS": "一天"}
    done = subprocess.run([sys.executable, "-m", "ledger", "serve", "--port", "1"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "LEDGER_IDEMPOTENCY_TTL_SECONDS" in done.stderr + done.stdout
