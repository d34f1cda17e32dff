"""HTTP fixtures: the real application over a fresh store (TestClient), and the real
`ledger serve` (uvicorn) in a subprocess on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.http.app import create_app
from ledger.http.deps import Settings

from .api_support import SEED, Server, upload

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def tokens() -> dict[str, str]:
    """A fresh token per role, made up for this test (never a constant)."""
    return {role: secrets.token_urlsafe(24) for role in ("reader", "officer", "admin")}


@pytest.fixture
def settings(database_url: str, tokens: dict[str, str]) -> Settings:
    return Settings(database_url=database_url, tokens=tuple((r, t.encode()) for r, t in tokens.items()))


@pytest.fixture
def client(settings: Settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def loaded(client, tokens, seed_bytes):
    """The client after the reference document was imported through the API."""
    response = upload(client, tokens["admin"], seed_bytes)
    assert response.status_code == 201, response.text
    client.imported = response.json()
    return client


@pytest.fixture
def server(database_url, tokens, tmp_path):
    """The real server, with the reference document imported by the `ledger import` command."""
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}
    subprocess.run([sys.executable, "-m", "ledger", "import", str(SEED)], env=env, check=True, capture_output=True,
                   timeout=300)
    running = Server(database_url, tokens, tmp_path / "server.log")
    yield running
    running.stop()


@pytest.fixture
def browser():
    """Debian's chromium, driven by Playwright (the page tests)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
