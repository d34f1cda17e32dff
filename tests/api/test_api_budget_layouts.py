"""A 9-table budget in 元 over HTTP (the application in a test client, an empty store): a PDF written from the reference budget's events, uploaded
by an admin, imports as the budget's 年初预算 in its layout; the budget is served in that layout
and in the 13 tables, and what the API serves is what the ledger renders from the events."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from .api_support import bearer

PDF = Path(__file__).resolve().parents[1] / "corpus" / "changzhi-hpf-2024-budget-9-yuan.pdf"
BUDGET = "/api/budgets/长治市住房公积金管理中心/2024"


def test_a_9_table_budget_pdf_uploaded_is_served_in_its_layout_and_in_the_13_tables(client, tokens):
    with PDF.open("rb") as fh:
        uploaded = client.post("/api/documents", headers=bearer(tokens["admin"]),
                               files={"file": (PDF.name, fh, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    assert any("按「部门预算（9张表，元）」布局读取" in note for note in uploaded.json()["notes"])
    detail = client.get(f"{BUDGET}").json()
    assert detail["layouts"] == ["budget-9-yuan", "department-budget"]
    assert [(d["layout"], d["phase"]) for d in detail["documents"]] == [("budget-9-yuan", "budget")]
    served = client.get(f"{BUDGET}/tables", params={"layout": "budget-9-yuan"}).json()
    nine = served["tables"]
    assert [t["name"] for t in nine] == [f"表{n}" for n in "一二三四五六七八九"] and served["unit"] == "元"
    thirteen = client.get(f"{BUDGET}/tables").json()["tables"]
    assert len(thirteen) == 13
    income = next(r for r in nine[0]["rows"] if r["cells"][0] == "收入总计")["cells"][1]
    income_wan = next(r for r in thirteen[0]["rows"] if r["cells"][0] == "收入总计")["cells"][1]
    wan = (Decimal(income.replace(",", "")) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert str(wan) == income_wan
