"""The web page in a real browser (Debian's chromium driven by Playwright) against the real
server: it shows 表三 as published, draws the charts, and its timeline shows earlier points;
every table's header is merged as printed."""

from __future__ import annotations

from decimal import Decimal

import httpx
from disclosure import amount_rows
from header_layout import header_spans

from .api_support import BUDGET, ROOT, SEED, bearer

SCREENSHOT = ROOT / "reports" / "web-page.png"
SERIES_LENGTH = "id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series[0].data.length"
TOTAL_CELL = "table.published[data-table='3'] tbody tr:first-child td:nth-child(3)"


def table_three_total(url: str, **params: str) -> str:
    rows = httpx.get(f"{url}{BUDGET}/tables/3", params=params).json()["tables"][0]["rows"]
    return rows[0]["cells"][2]


def test_the_page_shows_tables_charts_and_an_audit_timeline(server, tokens, browser):
    titles = [t["title"] for t in httpx.get(f"{server.url}{BUDGET}/tables").json()["tables"]]
    printed_total = amount_rows(SEED.read_text(encoding="utf-8"), titles)["2024年预算支出总表"][0][2]
    adjustment = httpx.post(f"{server.url}{BUDGET}/adjustments", headers=bearer(tokens["officer"]), json={
        "line": {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"},
        "amount": "-20000.00", "reason": "社保缴费基数调整", "effective": "2024-06-30"}).json()
    now_total = table_three_total(server.url)
    assert Decimal(now_total) == Decimal(printed_total) - Decimal("2.00")

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems: list[str] = []
    requested: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-point='now']", state="attached", timeout=30_000)

    assert page.title() == "预算账本 · 部门预算公开"
    assert page.locator("#budget option").first.inner_text() == "长治市住房公积金管理中心 2024年"
    page.click("#table-tabs button[data-number='3']")
    assert page.locator(".sheet h3").inner_text() == "2024年预算支出总表"
    assert page.locator(TOTAL_CELL).inner_text() == now_total

    explanation = httpx.get(f"{server.url}{BUDGET}/explanation").json()
    events = httpx.get(f"{server.url}{BUDGET}/events", params={"limit": 1000}).json()["items"]
    classes = [s for s in explanation["shares"] if s["group"] == "class" and s["amount"]["wan"] != "0.00"]
    for chart, points in (("chart-class", len(classes)), ("chart-three-public", len(explanation["three_public"])),
                          ("chart-yoy", len([c for c in explanation["comparisons"] if ":" not in c["key"]])),
                          ("timeline-chart", len(events))):
        canvas = page.locator(f"#{chart} canvas").first
        box = canvas.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150, chart
        drawn = page.evaluate(SERIES_LENGTH, chart)
        assert drawn == points, chart
        assert points > 0
    assert "一般公共预算当年拨款结构图" in page.locator("#narrative-section").inner_text()
    assert "三公经费分布图" in page.locator("#narrative-section").inner_text()
    spent = f'{Decimal(explanation["totals"]["expenditure_total"]["wan"]):,}万元'
    assert spent in page.locator("#narrative").inner_text()

    # The timeline: the point before the adjustment shows the table as the document printed it.
    before = adjustment["position"] - 1
    page.locator("#timeline-slider").fill(str(before))
    page.wait_for_selector(f"body[data-point='{before}']", state="attached", timeout=30_000)
    assert page.locator(TOTAL_CELL).inner_text() == printed_total == table_three_total(server.url, as_of=str(before))
    assert f"位置 {before}" in page.locator("#point-label").inner_text()
    page.click("#back-to-now")
    page.wait_for_selector("body[data-point='now']", state="attached", timeout=30_000)
    assert page.locator(TOTAL_CELL).inner_text() == now_total

    # A cell's lineage opens from the table.
    page.locator(TOTAL_CELL).click()
    page.wait_for_selector("#lineage h3", timeout=30_000)
    assert "表三" in page.locator("#lineage h3").inner_text()
    assert str(adjustment["position"]) in page.locator("#lineage tbody").inner_text()
    page.click("#lineage button")

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 50_000

    # The API docs render from the application's own files too.
    page.goto(server.url + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "预算账本 API" in page.locator(".swagger-ui .info .title").inner_text()
    assert problems == []
    assert all(url.startswith(server.url) or url.startswith("data:") for url in requested), requested


# Each header cell's place in the grid, by the HTML table model (a cell spanning rows takes
# its column in the rows below), with its spans and text; and each header row's width.
HEADER_GRID = """number => {
  const table = document.querySelector(`table.published[data-table='${number}']`);
  const taken = new Set(), cells = [], widths = [];
  [...table.tHead.rows].forEach((tr, r) => {
    let c = 0;
    for (const th of tr.cells) {
      while (taken.has(`${r},${c}`)) c += 1;
      cells.push([r, c, th.rowSpan, th.colSpan, th.textContent]);
      for (let i = 0; i < th.rowSpan; i += 1) for (let j = 0; j < th.colSpan; j += 1) taken.add(`${r + i},${c + j}`);
      c += th.colSpan;
    }
  });
  [...table.tHead.rows].forEach((_, r) => widths.push([...taken].filter((k) => k.startsWith(`${r},`)).length));
  const body = [...table.tBodies[0].rows].map((tr) => [...tr.cells].reduce((n, td) => n + td.colSpan, 0));
  return {cells, widths, body};
}"""


def test_every_table_header_is_merged_as_printed(server, browser):
    expected = header_spans()
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-point='now']", state="attached", timeout=30_000)
    for number in range(1, 14):
        page.click(f"#table-tabs button[data-number='{number}']")
        page.wait_for_selector(f"table.published[data-table='{number}']")
        grid = page.evaluate(HEADER_GRID, number)
        assert [tuple(c) for c in grid["cells"]] == expected[number], f"表{number}"
        width = max(c + colspan for _r, c, _rowspan, colspan, _text in expected[number])
        assert grid["widths"] == [width] * len({r for r, *_ in expected[number]}), f"表{number}"
        assert set(grid["body"]) == {width}, f"表{number}"  # the header sits exactly over the body's columns
