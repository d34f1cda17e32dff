"""The 决算 over HTTP: a PDF uploaded by an admin imports as the budget's final phase; its nine
tables, its completion rates and its regenerated narrative are served; what the API serves is
what the ledger rebuilds from the events (compared with the application's own rendering)."""

from __future__ import annotations

from pathlib import Path

import httpx

from .api_support import bearer

PDF = Path(__file__).resolve().parents[1] / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
BUDGET = "/api/budgets/上海市普陀区财政局/2024"


def test_a_final_accounts_pdf_uploaded_is_served_by_layout_with_its_explanation(server, tokens):
    with PDF.open("rb") as fh:
        uploaded = httpx.post(f"{server.url}/api/documents", headers=bearer(tokens["admin"]),
                              files={"file": (PDF.name, fh, "application/pdf")}, timeout=120)
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert body["department"] == "上海市普陀区财政局" and body["fiscal_year"] == 2024
    detail = httpx.get(f"{server.url}{BUDGET}").json()
    assert detail["layouts"] == ["final-accounts"]
    assert [(d["layout"], d["phase"]) for d in detail["documents"]] == [("final-accounts", "final")]
    tables = httpx.get(f"{server.url}{BUDGET}/tables", params={"layout": "final-accounts"}).json()["tables"]
    assert [t["name"] for t in tables] == [f"表{n}" for n in "一二三四五六七八九"]
    total = next(r for r in tables[0]["rows"] if r["cells"][0] == "总计")
    explained = httpx.get(f"{server.url}{BUDGET}/explanation/final").json()
    comparison = next(c for c in explained["comparisons"] if c["key"] == "income_expenditure_total")
    assert comparison["current"]["wan"].replace(",", "") == total["cells"][1].replace(",", "")
    narrative = httpx.get(f"{server.url}{BUDGET}/narrative/final", params={"format": "text"}).text
    assert f"收入支出总计{comparison['current']['wan']}万元" in narrative
    assert f"{comparison['direction']}{comparison['delta']['wan']}万元" in narrative
    one = httpx.get(f"{server.url}{BUDGET}/tables/7", params={"layout": "final-accounts"}).json()["tables"][0]
    assert one["title"] == tables[6]["title"]
    assert httpx.get(f"{server.url}{BUDGET}/tables", params={"layout": "nonexistent"}).status_code == 404
    assert httpx.get(f"{server.url}{BUDGET}/tables/10", params={"layout": "final-accounts"}).status_code == 404
