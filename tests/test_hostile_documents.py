"""Hostile documents: each file of tests/hostile/documents/ is refused with a message that
names its place (line, table, field, and the offending text), and nothing is recorded.

The corpus is data built from the reference disclosure by tests/hostile/make_corpus.py;
cases.yaml says what each file breaks and what the message must name. All cases go through
Ledger.import_document on one store (so "nothing recorded" is checked after every one of
them); those marked `cli` also go through the real `ledger import` command.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache

import pytest
import yaml
from support import CLI, DEPARTMENT, ROOT, SEED, YEAR, new_database_url

from ledger.application import Ledger
from ledger.domain.budget import RuleViolation
from ledger.ingest import document
from ledger.ingest.errors import DocumentRejected

HOSTILE = ROOT / "tests" / "hostile"
DOCUMENTS = HOSTILE / "documents"
CASES = yaml.safe_load((DOCUMENTS / "cases.yaml").read_text(encoding="utf-8"))["cases"]


@cache
def make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", HOSTILE / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def hostile_bytes(case: dict) -> bytes:
    if case.get("committed", True):
        return (DOCUMENTS / case["file"]).read_bytes()
    return next(c.data for c in make_corpus().build() if c.id == case["id"])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One store for the whole corpus: after every case it must still hold no event at all."""
    url, drop = new_database_url(tmp_path_factory.mktemp("hostile"))
    with Ledger(url) as led:
        led.url = url
        yield led
    drop()


def assert_nothing_recorded(led: Ledger) -> None:
    assert led.last_position() == 0
    assert led.budgets() == []


def test_the_corpus_is_large_and_reproducible():
    assert len(CASES) >= 40
    assert make_corpus().stale() == [], "run: python tests/hostile/make_corpus.py"
    assert make_corpus().LIMIT_BYTES == document.MAX_BYTES
    oversized = next(c for c in CASES if c["id"] == "oversized")
    assert len(hostile_bytes(oversized)) == oversized["bytes"] > document.MAX_BYTES


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_import_refuses_and_names_the_place(store, case):
    with pytest.raises((DocumentRejected, RuleViolation)) as refused:
        store.import_document(hostile_bytes(case), case["file"])
    message = str(refused.value)
    for text in case["expect"]:
        assert text in message, f"{case['id']} ({case['breaks']}): {text!r} not named in:\n{message}"
    assert_nothing_recorded(store)


CLI_CASES = [c for c in CASES if c.get("cli")]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c["id"] for c in CLI_CASES])
def test_cli_import_exits_2_and_names_the_place(store, case, tmp_path):
    path = DOCUMENTS / case["file"]
    if not case.get("committed", True):
        path = tmp_path / case["file"]
        path.write_bytes(hostile_bytes(case))
    result = CLI(store.url)("import", str(path), check=False)
    assert result.returncode == 2, result.stderr
    assert f"{case['file']} 未导入, 未记录任何事件" in result.stderr
    for text in case["expect"]:
        assert text in result.stderr, f"{case['id']}: {text!r} not named in:\n{result.stderr}"
    assert_nothing_recorded(store)


def test_the_same_checks_accept_the_seed_with_windows_line_ends_and_a_bom(ledger):
    """A control: the checks refuse what is broken, not what is merely saved differently."""
    data = b"\xef\xbb\xbf" + SEED.read_bytes().replace(b"\n", b"\r\n")
    result = ledger.import_document(data, "seed-crlf-bom.txt")
    assert result.recorded > 0
    assert [(b.department, b.fiscal_year) for b in ledger.budgets()] == [(DEPARTMENT, YEAR)]
