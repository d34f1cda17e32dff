"""Hostile API payloads (tests/hostile/payloads.yaml): each is refused with a message naming
the field or the rule, and nothing is recorded."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from fastapi.testclient import TestClient
from support import DEPARTMENT, SEED, YEAR

from ledger.http.app import create_app
from ledger.http.deps import Settings

CASES = yaml.safe_load((Path(__file__).parent / "hostile" / "payloads.yaml").read_text(encoding="utf-8"))
BUDGET = f"/api/budgets/{quote(DEPARTMENT)}/{YEAR}"


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """One store with the seed imported, shared by the cases: each must leave it unchanged."""
    from support import new_database_url

    url, drop = new_database_url(tmp_path_factory.mktemp("payloads"))
    token = secrets.token_urlsafe(24)
    settings = Settings(database_url=url, tokens=(("admin", token.encode()),))
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/documents", headers={"Authorization": f"Bearer {token}"},
                               files={"file": (SEED.name, SEED.read_bytes(), "text/plain")})
        assert response.status_code == 201, response.text
        yield client, {"Authorization": f"Bearer {token}"}
    drop()


def feed_length(client) -> int:
    return len(client.get("/api/events", params={"after": 0, "limit": 1000}).json()["items"])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_payload_is_refused_and_records_nothing(service, case):
    client, auth = service
    before = feed_length(client)
    path = f"{BUDGET}/{case['resource']}"
    if "raw" in case:
        response = client.post(path, headers={**auth, "Content-Type": "application/json"}, content=case["raw"])
    else:
        response = client.post(path, headers=auth, json=case["body"])
    assert response.status_code == case["status"], response.text
    assert case["names"] in response.text, response.text
    assert feed_length(client) == before
