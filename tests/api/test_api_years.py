"""Consecutive years over HTTP: the next year's explanation reads last year's own figures (which
point of last year is a query parameter), and says so; a change to last year shows in it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.application import Ledger
from ledger.devtools.nextyear import example_changes, next_year

from .api_support import SEED, bearer, upload

DEPT = "长治市住房公积金管理中心"
PATH = f"/api/budgets/{DEPT}/2025"


@pytest.fixture(scope="module")
def next_year_text(tmp_path_factory) -> bytes:
    """2025 made from the events of 2024 (in a ledger of its own)."""
    with Ledger(f"sqlite:///{tmp_path_factory.mktemp('next')}/made.db") as made:
        made.import_document(SEED.read_bytes(), SEED.name)
        return next_year(made, DEPT, 2024, example_changes()).encode()


def test_the_next_years_explanation_reads_last_year_and_names_the_point(loaded, tokens, next_year_text, monkeypatch):
    monkeypatch.setenv("LEDGER_CROSSWALKS", str(SEED.parent / "crosswalks"))
    response = upload(loaded, tokens["admin"], next_year_text, name="next-year.txt")
    assert response.status_code == 201, response.text
    body = loaded.get(f"{PATH}/explanation").json()
    income = next(c for c in body["comparisons"] if c["key"] == "income_total")
    assert income["prior_source"] == "ledger" and income["agrees"] is True
    assert income["prior_basis"].startswith("账本中2024年度预算, 最新")
    assert body["crosswalk"].startswith("2024→2025") and body["unmapped"] == ["2100799"]

    adjusted = loaded.post(f"/api/budgets/{DEPT}/2024/adjustments", headers=bearer(tokens["officer"]), json={
        "line": {"code": "2210201", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"},
        "amount": "-10000", "reason": "减少"})
    assert adjusted.status_code == 201, adjusted.text
    after = next(c for c in loaded.get(f"{PATH}/explanation").json()["comparisons"] if c["key"] == "income_total")
    assert Decimal(after["prior"]["yuan"]) == Decimal(income["prior"]["yuan"]) - 10000
    assert after["stated"] == income["stated"] and after["agrees"] is False
    text = loaded.get(f"{PATH}/narrative", params={"format": "text"}).text
    assert "与账本中2024年度数" in text and "不一致" in text

    initial = loaded.get(f"{PATH}/explanation", params={"prior_publication": "年初预算"}).json()
    first = next(c for c in initial["comparisons"] if c["key"] == "income_total")
    assert first["prior"] == income["prior"] and "发布节点「年初预算」" in first["prior_basis"]
    missing = loaded.get(f"{PATH}/explanation", params={"prior_publication": "调整预算"})
    assert missing.status_code == 404 and "调整预算" in missing.text


def test_an_uploaded_document_is_audited_against_last_year_in_the_ledger(loaded, tokens, next_year_text):
    loaded.post(f"/api/budgets/{DEPT}/2024/adjustments", headers=bearer(tokens["officer"]), json={
        "line": {"code": "2210201", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"},
        "amount": "20000", "reason": "增加"}).raise_for_status()
    audited = loaded.post("/api/audits", files={"file": ("2025.txt", next_year_text, "text/plain")})
    assert audited.status_code == 200, audited.text
    found = [f for f in audited.json()["findings"] if f["rule"] == "history.prior_year"]
    assert {f["message"].split(":")[0] for f in found} == {"预算收入总计", "预算支出总计", "一般公共预算当年支出"}
    assert all("账本中2024年度预算" in f["expected"] and f["place"]["line"] for f in found)
