"""Shared fixtures: a fresh store per test, on the store chosen by LEDGER_TEST_STORE
(see support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import CLI, SEED, new_database_url


@pytest.fixture
def database_url(tmp_path: Path):
    url, drop = new_database_url(tmp_path)
    yield url
    drop()


@pytest.fixture
def postgresql_url(tmp_path: Path):
    """A new PostgreSQL database whatever the store under test (for server faults)."""
    url, drop = new_database_url(tmp_path, "postgresql")
    yield url
    drop()


@pytest.fixture
def ledger(database_url: str):
    from ledger.application import Ledger

    with Ledger(database_url) as led:
        yield led


@pytest.fixture(scope="session")
def seed_bytes() -> bytes:
    return SEED.read_bytes()


@pytest.fixture
def imported(ledger, seed_bytes):
    ledger.import_document(seed_bytes, SEED.name)
    return ledger


@pytest.fixture
def cli(database_url: str) -> CLI:
    return CLI(database_url)
