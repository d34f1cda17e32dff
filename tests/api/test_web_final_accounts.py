"""The page shows a budget's 决算: its nine tables in their own layout, and the comparison of
budget and 决算 item by item, with the rates the API computes from the events."""

from __future__ import annotations

from pathlib import Path

import httpx

from .api_support import bearer

PDF = Path(__file__).resolve().parents[1] / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"
DEPARTMENT = "上海市普陀区财政局"
BUDGET = f"/api/budgets/{DEPARTMENT}/2024"


def test_the_page_shows_the_final_accounts_and_their_completion(server, tokens, browser):
    with PDF.open("rb") as fh:
        assert httpx.post(f"{server.url}/api/documents", headers=bearer(tokens["admin"]),
                          files={"file": (PDF.name, fh, "application/pdf")}, timeout=120).status_code == 201
    tables = httpx.get(f"{server.url}{BUDGET}/tables", params={"layout": "final-accounts"}).json()["tables"]
    explained = httpx.get(f"{server.url}{BUDGET}/explanation/final").json()

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(f"{server.url}/?department={DEPARTMENT}&year=2024")
    page.wait_for_selector("body[data-point='now']", state="attached", timeout=30_000)
    assert page.locator("#layout").input_value() == "final-accounts"  # the budget's only layout
    tabs = page.locator("#table-tabs button").all_inner_texts()
    assert tabs == [t["name"] for t in tables]
    page.click("#table-tabs button[data-number='1']")
    shown = page.locator("table.published[data-table='1'] tbody tr").all()
    total_row = next(r for r in tables[0]["rows"] if r["cells"][0] == "总计")
    assert any(row.inner_text().split("\t")[:2] == total_row["cells"][:2] for row in shown)

    section = page.locator("#final-section")
    assert section.is_visible()
    for completion in explained["completions"]:
        row = section.locator(f"tr[data-key='{completion['key']}']").first
        cells = row.locator("td").all_inner_texts()
        assert cells[1:4] == [completion["budget"]["wan"], completion["final"]["wan"], f"{completion['percent']}%"]
    assert page.locator("#narrative").inner_text().count("完成年初预算") >= 1
    assert problems == []
