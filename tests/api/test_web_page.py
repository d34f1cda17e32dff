"""The web page in a real browser (Debian's chromium driven by Playwright) against the real
server: it shows 表三 as published, draws the charts, and its timeline shows earlier points;
every table's header is merged as printed."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
from disclosure import amount_rows
from header_layout import header_spans

from .api_support import BUDGET, DEPARTMENT, ROOT, SEED, YEAR, bearer

SCREENSHOT = ROOT / "reports" / "web-page.png"
SERIES_LENGTH = "id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series[0].data.length"
TOTAL_CELL = "table.published[data-table='3'] tbody tr:first-child td:nth-child(3)"
LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}


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
    series = httpx.get(f"{server.url}/api/series/{DEPARTMENT}", params={"figure": "expenditure_total"}).json()
    for chart, points in (("chart-class", len(classes)), ("chart-three-public", len(explanation["three_public"])),
                          ("chart-yoy", len([c for c in explanation["comparisons"] if ":" not in c["key"]])),
                          ("chart-series", len([p for p in series["points"] if p["amount"]])),
                          ("timeline-chart", len({e["point"] for e in events}))):  # an import is one point
        canvas = page.locator(f"#{chart} canvas").first
        box = canvas.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150, chart
        drawn = page.evaluate(SERIES_LENGTH, chart)
        assert drawn == points, chart
        assert points > 0
    assert page.locator("#yoy-basis").inner_text() == "上年数取自本年文件所列 (账本中没有上年预算)"
    # another figure across the years: the chart draws what /api/series gives for it
    three = httpx.get(f"{server.url}/api/series/{DEPARTMENT}", params={"figure": "three_public"}).json()
    page.select_option("#series-figure", "three_public")
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('chart-series'))"
                           ".getOption().series[0].name === '“三公”经费'", timeout=10_000)
    drawn = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart-series')).getOption().series[0].data")
    assert [Decimal(str(v)) for v in drawn] == [Decimal(p["amount"]["wan"]) for p in three["points"]]
    assert "一般公共预算当年拨款结构图" in page.locator("#narrative-section").inner_text()
    assert "三公经费分布图" in page.locator("#narrative-section").inner_text()
    spent = f'{Decimal(explanation["totals"]["expenditure_total"]["wan"]):,}万元'
    assert spent in page.locator("#narrative").inner_text()

    # The timeline: the point before the adjustment shows the table as the document printed it.
    before = adjustment["position"] - 1
    page.locator("#timeline-slider").fill(str(before))
    page.wait_for_selector(f"body[data-point='as_of={before}']", state="attached", timeout=30_000)
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

    # The rules page is linked from the page (it runs under the same policy: no console errors).
    page.click("nav.links a:has-text('预算规则')")
    page.wait_for_selector("h1", timeout=30_000)
    assert page.url == server.url + "/rules"
    assert page.locator("h1").inner_text().startswith("预算规则")

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


# The point the page shows (body[data-point], a query string) and what it counts.
SHOWN = """expected => !document.body.dataset.loading && document.body.dataset.point !== undefined &&
  JSON.stringify(Object.fromEntries(new URLSearchParams(document.body.dataset.point === 'now' ? ''
    : document.body.dataset.point))) === JSON.stringify(expected)"""


def shown(page, **point: str) -> None:
    """Wait until the page shows this point (nothing: now), and check the address names it."""
    page.wait_for_function(SHOWN, arg=point, timeout=30_000)
    query = parse_qs(urlsplit(page.url).query)
    assert {k: v[0] for k, v in query.items() if k in ("as_of", "publication", "effective")} == point
    assert query["department"] == [DEPARTMENT] and query["year"] == [str(YEAR)]


def adjust(url: str, tokens: dict[str, str], amount: str, reason: str, effective: str) -> int:
    response = httpx.post(f"{url}{BUDGET}/adjustments", headers=bearer(tokens["officer"]), json={
        "line": LINE, "amount": amount, "reason": reason, "effective": effective})
    assert response.status_code == 201, response.text
    return response.json()["position"]


def publish(url: str, tokens: dict[str, str], name: str, effective: str) -> int:
    response = httpx.post(f"{url}{BUDGET}/publications", headers=bearer(tokens["officer"]),
                          json={"name": name, "reason": "年中调整后公开", "effective": effective})
    assert response.status_code == 201, response.text
    return response.json()["position"]


def test_publications_effective_dates_and_positions_are_in_the_address(server, tokens, browser):
    printed = Decimal(table_three_total(server.url))
    adjust(server.url, tokens, "-20000.00", "社保缴费基数调整", "2024-06-30")
    publish(server.url, tokens, "调整预算", "2024-07-01")
    last = adjust(server.url, tokens, "-10000.00", "年末调整", "2024-11-30")
    totals = {name: Decimal(table_three_total(server.url, **params)) for name, params in (
        ("年初预算", {"publication": "年初预算"}), ("调整预算", {"publication": "调整预算"}),
        ("调整预算 06-29", {"publication": "调整预算", "effective": "2024-06-29"}), ("now", {}))}
    assert totals == {"年初预算": printed, "调整预算": printed - 2, "调整预算 06-29": printed, "now": printed - 3}

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(server.url + "/")
    shown(page)
    total = page.locator(TOTAL_CELL)
    assert Decimal(total.inner_text()) == totals["now"]
    assert [o for o in page.locator("#publication option").all_inner_texts()] == [
        "— 不按发布节点 —", f"年初预算 (位置 {last - 3} · 生效 2024-01-01)", f"调整预算 (位置 {last - 1} · 生效 2024-07-01)"]

    page.select_option("#publication", "年初预算")
    shown(page, publication="年初预算")
    assert Decimal(total.inner_text()) == totals["年初预算"]
    assert "发布节点 年初预算" in page.locator("#point-label").inner_text()
    page.select_option("#publication", "调整预算")
    shown(page, publication="调整预算")
    assert Decimal(total.inner_text()) == totals["调整预算"]
    page.fill("#effective", "2024-06-29")
    page.locator("#effective").dispatch_event("change")
    shown(page, publication="调整预算", effective="2024-06-29")
    assert Decimal(total.inner_text()) == totals["调整预算 06-29"]
    assert "截至 2024-06-29 生效" in page.locator("#point-label").inner_text()
    page.click("#table-tabs button[data-number='2']")
    assert parse_qs(urlsplit(page.url).query)["table"] == ["2"]

    # Reloading, or opening the address elsewhere, shows the same point and table.
    page.reload()
    shown(page, publication="调整预算", effective="2024-06-29")
    assert page.locator("#publication").input_value() == "调整预算"
    assert page.locator("#effective").input_value() == "2024-06-29"
    assert page.locator("table.published").get_attribute("data-table") == "2"
    shared = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    shared.goto(page.url.replace("table=2", "table=3"))
    shown(shared, publication="调整预算", effective="2024-06-29")
    assert Decimal(shared.locator(TOTAL_CELL).inner_text()) == totals["调整预算 06-29"]

    # Back and forward step through the points chosen.
    page.click("#table-tabs button[data-number='3']")
    page.go_back()
    shown(page, publication="调整预算")
    assert Decimal(total.inner_text()) == totals["调整预算"]
    page.go_back()
    shown(page, publication="年初预算")
    assert Decimal(total.inner_text()) == totals["年初预算"]
    page.go_forward()
    shown(page, publication="调整预算")
    assert page.locator("#publication").input_value() == "调整预算"
    assert page.locator("#effective").input_value() == ""

    # A position on the timeline replaces the publication; 回到最新 clears everything.
    page.locator("#timeline-slider").fill(str(last - 1))
    shown(page, as_of=str(last - 1))
    assert Decimal(total.inner_text()) == totals["调整预算"]
    assert page.locator("#publication").input_value() == ""
    page.click("#back-to-now")
    shown(page)
    assert Decimal(total.inner_text()) == totals["now"]
    page.go_back()
    shown(page, as_of=str(last - 1))


def diff_rows(page) -> list[list[str]]:
    return [[td.inner_text() for td in tr.locator("td").all()] for tr in page.locator("#diff-result tbody tr").all()]


def test_the_comparison_of_two_points_shows_every_changed_cell_and_its_events(server, tokens, browser):
    first = adjust(server.url, tokens, "-20000.00", "社保缴费基数调整", "2024-06-30")
    second = adjust(server.url, tokens, "5000.00", "人员增资", "2024-08-01")
    expected = httpx.get(f"{server.url}{BUDGET}/diff", params={"from_publication": "年初预算", "to_as_of": second}).json()
    assert len(expected["changes"]) > 5
    assert {e["position"] for c in expected["changes"] for e in c["events"]} == {first, second}

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(server.url + "/")
    shown(page)
    page.select_option("#diff-from", "publication:年初预算")
    page.select_option("#diff-to", f"as_of:{second}")
    page.click("#diff-run")
    page.wait_for_selector("body[data-diff]", state="attached", timeout=30_000)
    query = parse_qs(urlsplit(page.url).query)
    assert (query["from_publication"], query["to_as_of"]) == (["年初预算"], [str(second)])
    assert page.locator(".diff-summary").inner_text() == \
        f"{expected['from_point']} → {expected['to_point']}: {len(expected['changes'])} 个格有变化"

    def as_expected() -> list[list[str]]:
        reasons = {first: "社保缴费基数调整", second: "人员增资"}
        return [[c["table_name"], c["row_label"], c["column_label"], c["before"]["wan"], c["after"]["wan"],
                 c["delta"]["wan"], "\n".join(f"位置 {e['position']} · 预算调整 · 记录人 {e['actor']} · {e['amount']['wan']} 万元"
                                             f" · 生效 {e['effective']}"
                                             f" · {reasons[e['position']]}" for e in c["events"])]
                for c in expected["changes"]]

    assert diff_rows(page) == as_expected()
    # The 表三 cell of the adjusted line, before/after/delta in 万元 as printed.
    cell = next(c for c in expected["changes"] if (c["table"], c["row"], c["column"]) == (3, "0/code:2210399", "basic"))
    assert Decimal(cell["delta"]["yuan"]) == Decimal("-15000.00")

    page.reload()  # the comparison is in the address too
    page.wait_for_selector("body[data-diff]", state="attached", timeout=30_000)
    assert diff_rows(page) == as_expected()
    assert page.locator("#diff-from").input_value() == "publication:年初预算"
    assert page.locator("#diff-to").input_value() == f"as_of:{second}"


# Elements outside any box that scrolls or clips sideways, and how far right they reach.
OVERFLOW = """width => {
  const clipped = (node) => {
    for (let p = node.parentElement; p; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === 'auto' || x === 'scroll' || x === 'hidden') return true;
    }
    return false;
  };
  const out = [];
  for (const node of document.body.querySelectorAll('*')) {
    const box = node.getBoundingClientRect();
    if (box.width === 0 || clipped(node)) continue;
    if (box.right > width + 0.5 || box.left < -0.5) out.push(`${node.tagName}#${node.id}.${node.className} ${box.left}-${box.right}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, outside: out};
}"""


def fits(page) -> None:
    # On a phone the layout viewport widens to what overflows it: compare with the screen's 390 px.
    result = page.evaluate(OVERFLOW, 390)
    assert result == {"scrollWidth": 390, "outside": []}


def test_the_page_works_on_a_390_px_screen(server, tokens, browser):
    adjust(server.url, tokens, "-20000.00", "社保缴费基数调整", "2024-06-30")
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page.goto(server.url + "/")
    shown(page)
    fits(page)
    for number in range(1, 14):
        page.click(f"#table-tabs button[data-number='{number}']")
        page.wait_for_selector(f"table.published[data-table='{number}']")
        fits(page)
    # A wide table scrolls inside its own box.
    page.click("#table-tabs button[data-number='2']")
    wrapper = page.locator("#table-view .table-scroll")
    width, client = wrapper.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert client <= 390 < width
    wrapper.evaluate("w => { w.scrollLeft = 200; }")
    assert wrapper.evaluate("w => w.scrollLeft") > 0
    fits(page)

    page.click("#timeline-section summary")  # the event list
    fits(page)
    page.click("#table-tabs button[data-number='3']")
    page.locator("table.published[data-table='3'] td[data-row='0/code:2210399'][data-column='basic']").click()
    page.wait_for_selector("#lineage h3", timeout=30_000)
    box = page.locator("#lineage").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the dialog fits
    # and so does what it holds (its table would scroll inside its own box)
    assert page.locator("#lineage").evaluate("d => d.scrollWidth <= d.clientWidth")
    fits(page)
    page.click("#lineage button")

    page.select_option("#diff-from", "publication:年初预算")
    page.click("#diff-run")
    page.wait_for_selector("body[data-diff]", state="attached", timeout=30_000)
    assert page.locator("#diff-result tbody tr").count() > 0
    fits(page)


def test_the_timeline_shows_an_import_as_one_point(server, tokens, browser):
    """Issue 20.5: the import's events are one point of the timeline (drawn once, at the
    import's last position); a position inside it chosen on the slider shows the import's end."""
    detail = httpx.get(f"{server.url}{BUDGET}").json()
    [document] = detail["documents"]
    end = document["last_position"]
    adjusted = adjust(server.url, tokens, "-20000.00", "社保缴费基数调整", "2024-06-30")
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(server.url + "/")
    shown(page)
    assert page.evaluate(SERIES_LENGTH, "timeline-chart") == 2  # the import, the adjustment
    buttons = page.locator("#event-rows button").all_text_contents()
    assert buttons == ["查看导入后"] * (end - 1) + ["查看此时"] * 2
    page.locator("#timeline-slider").fill(str(end // 2))
    shown(page, as_of=str(end))
    assert f"导入《{SEED.name}》之后 (位置 1–{end})" in page.locator("#point-label").inner_text()
    assert Decimal(page.locator(TOTAL_CELL).inner_text()) == Decimal(table_three_total(server.url, as_of=str(end)))
    page.click("#back-to-now")
    shown(page)
    page.locator("details:has(#event-rows) summary").click()  # the event list opens
    page.locator(f"#event-rows tr[data-position='{end // 3}'] button").click()
    shown(page, as_of=str(end))
    assert adjusted == end + 1 and problems == []
