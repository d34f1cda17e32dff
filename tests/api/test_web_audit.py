"""The audit page in a real browser against the real server: a PDF chosen, its findings listed
as the API gives them, filtered by severity and rule, and marked in the document's text."""

from __future__ import annotations

from pathlib import Path

import httpx

DOCTORED = Path(__file__).resolve().parents[1] / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts-doctored.pdf"


def test_the_audit_page_lists_marks_and_filters_the_findings(server, browser):
    expected = httpx.post(server.url + "/api/audits", params={"with_text": "true"}, timeout=120,
                          files={"file": (DOCTORED.name, DOCTORED.read_bytes(), "application/pdf")}).json()
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    page.click("text=审校")
    page.wait_for_url("**/audit")
    page.set_input_files("#audit-file", str(DOCTORED))
    page.click("#audit-run")
    page.wait_for_selector("#finding-rows tr", timeout=120_000)
    rows = page.locator("#finding-rows tr")
    assert rows.count() == len(expected["findings"])
    first = expected["findings"][0]
    assert rows.nth(0).locator("td").nth(0).inner_text() == first["severity"]
    assert rows.nth(0).locator("td").nth(3).inner_text() == first["message"]
    # every finding with a span is marked on exactly the text it points to
    marked = page.locator("#audit-text mark")
    spans = sorted({tuple(f["place"]["span"]) for f in expected["findings"] if f["place"]["span"]})
    assert marked.count() == len(spans)
    texts = [marked.nth(i).inner_text() for i in range(marked.count())]
    assert texts == [expected["text"][a:b] for a, b in spans]
    # only 错误
    page.uncheck("#sev-疑似")
    page.uncheck("#sev-提示")
    errors_only = [f for f in expected["findings"] if f["severity"] == "错误"]
    assert rows.count() == len(errors_only)
    page.select_option("#rule-filter", "narrative.comparison")
    assert rows.count() == sum(1 for f in errors_only if f["rule"] == "narrative.comparison") == 3
    assert page.locator("#audit-text mark").count() == 3
    with page.expect_download() as download:
        page.click("button[data-format=csv]")
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("严重程度,规则") and len(lines) == len(expected["findings"]) + 1
    assert not errors, errors
    page.close()


def test_markup_in_an_audited_document_shows_as_text_and_runs_nothing(server, browser, tmp_path):
    hostile = tmp_path / "hostile.txt"
    hostile.write_text("某某局2024年度部门决算\n<img src=x onerror=\"document.title='pwned'\">XX局的说明。\n", encoding="utf-8")
    page = browser.new_page(locale="zh-CN")
    page.goto(server.url + "/audit")
    page.set_input_files("#audit-file", str(hostile))
    page.click("#audit-run")
    page.wait_for_selector("#finding-rows tr", timeout=60_000)
    assert page.locator("#audit-text img").count() == 0
    assert "<img src=x onerror=" in page.locator("#audit-text").inner_text()
    assert page.locator("#audit-text mark").count() >= 1
    assert page.title() == "预算账本 · 审校"
    page.close()


ORIGINAL = DOCTORED.with_name("shanghai-putuo-caizhengju-2024-final-accounts.pdf")


def test_findings_on_cells_are_marked_in_the_printed_tables(server, browser):
    expected = httpx.post(server.url + "/api/audits", timeout=120,
                          files={"file": (ORIGINAL.name, ORIGINAL.read_bytes(), "application/pdf")}).json()
    sums = [f for f in expected["findings"] if f["rule"] == "table.detail_sum"]
    assert sums and all(f["place"]["page"] and f["place"]["x"] for f in sums)
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(server.url + "/audit")
    page.set_input_files("#audit-file", str(ORIGINAL))
    page.click("#audit-run")
    page.wait_for_selector("#finding-rows tr", timeout=120_000)
    marked = page.locator("#audit-tables td.marked[data-rules~='table.detail_sum']")
    assert marked.count() == len(sums)
    assert sorted(marked.nth(i).inner_text() for i in range(marked.count())) == \
        sorted(f["stated"] for f in sums)  # the printed figure each finding is about
    assert all("severity-错误" in (marked.nth(i).get_attribute("class") or "") for i in range(marked.count()))
    # the 尾差 leaves are marked as 提示 on their own cells
    leaves = [f for f in expected["findings"] if f["rule"] == "table.rounding" and f["place"]["x"] is not None]
    rounded = page.locator("#audit-tables td.marked[data-rules~='table.rounding']")
    assert rounded.count() == len(leaves) > 0
    page.close()
