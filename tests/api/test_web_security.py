"""Stored XSS (issue 21): text that anyone with a token can record (reasons, publication names)
or that an imported document names (department, projects) reaches the page as text, never as
HTML, and runs nothing; every response carries the security headers.

The payloads would set window.__pwned or request a /__sentinel__ URL if they ran (or were
parsed as HTML at all: an <img> would load). The page must show each one literally."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from ledger.http.app import create_app

from .api_support import SEED, bearer, upload

# What the importer lets through in names (document.label_problem refuses <>"'`;\{}$|):
# javascript: URLs, handler-looking text, and numeric character references without ';'.
DEPARTMENT = "长治市住房公积金管理中心 javascript:window.__pwned=1 onload=fetch(__sentinel__dept) &#60img src=x onerror=alert(1)&#62"
PROJECT = "等保测评费 javascript:window.__pwned=2 onerror=window.__pwned=2 &#60svg onload=alert(2)&#62"
YEAR = 2024
HOSTILE = f"/api/budgets/{quote(DEPARTMENT)}/{YEAR}"

# Commands take any text but control characters: every kind of markup.
REASONS = [
    "<img src=\"/__sentinel__/img\" onerror=\"window.__pwned='img';fetch('/__sentinel__/img-fetch')\">图片",
    "<script>window.__pwned='script';fetch('/__sentinel__/script')</script>脚本",
    "\"><svg onload=\"window.__pwned='svg'\"></svg><a href=\"javascript:window.__pwned='href'\">链接</a>",
    "' onmouseover='window.__pwned=\"attr\"' data-x='属性",
    "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>javascript:window.__pwned='url'",
]
PUBLICATION = "<img src=/__sentinel__/pub onerror=window.__pwned='pub'>发布"
LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
# Anything that could run or load that the page did not put there itself.
INJECTED = """() => {
  const found = [];
  for (const node of document.querySelectorAll('*')) {
    if (['IMG', 'SVG', 'IFRAME', 'OBJECT', 'EMBED'].includes(node.tagName.toUpperCase())) found.push(node.tagName);
    if (node.tagName === 'SCRIPT' && !node.src) found.push('inline script');
    if (node.tagName === 'A' && /^\\s*javascript:/i.test(node.getAttribute('href') || '')) found.push('javascript: link');
    for (const attr of node.attributes) if (attr.name.startsWith('on')) found.push(`${node.tagName} ${attr.name}`);
  }
  return found;
}"""
POINT_PIXEL = """([position, label]) => echarts.getInstanceByDom(document.getElementById('timeline-chart'))
  .convertToPixel({seriesIndex: 0}, [position, label])"""


def hostile_document() -> bytes:
    text = SEED.read_text(encoding="utf-8")
    return text.replace("长治市住房公积金管理中心", DEPARTMENT).replace("等保测评费", PROJECT).encode("utf-8")


def record_hostile_budget(url: str, tokens: dict[str, str]) -> list[int]:
    with httpx.Client(base_url=url, timeout=120) as client:
        imported = upload(client, tokens["admin"], hostile_document(), name="hostile.txt")
        assert imported.status_code == 201, imported.text
        assert imported.json()["department"] == DEPARTMENT
        positions = []
        for reason in REASONS:
            done = client.post(f"{HOSTILE}/adjustments", headers=bearer(tokens["officer"]),
                               json={"line": LINE, "amount": "-100.00", "reason": reason, "effective": "2024-06-30"})
            assert done.status_code == 201, done.text
            positions.append(done.json()["position"])
        published = client.post(f"{HOSTILE}/publications", headers=bearer(tokens["officer"]),
                                json={"name": PUBLICATION, "reason": REASONS[0], "effective": "2024-07-01"})
        assert published.status_code == 201, published.text
        assert [e["reason"] for e in client.get(f"{HOSTILE}/events", params={"limit": 1000}).json()["items"]
                if e["kind"] == "adjustment"] == REASONS
    return positions


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.problems, page.requested = [], []
    page.add_init_script(WATCH)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog {dialog.message}"), dialog.dismiss()))
    page.on("request", lambda request: page.requested.append(request.url))
    page.goto(url + "/")
    page.wait_for_selector("body[data-point='now']", state="attached", timeout=30_000)
    return page


def assert_nothing_ran(page) -> None:
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => window.__violations") == []
    assert page.evaluate(INJECTED) == []
    assert [u for u in page.requested if urlsplit(u).path.startswith("/__sentinel__")] == []
    assert page.problems == []


def test_script_in_recorded_text_runs_nothing_and_shows_as_text(server, tokens, browser):
    positions = record_hostile_budget(server.url, tokens)
    page = open_page(browser, server.url)
    page.select_option("#budget", label=f"{DEPARTMENT} {YEAR}年")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('javascript:window.__pwned=1')",
                           timeout=30_000)
    page.wait_for_selector("body[data-point='now']", state="attached", timeout=30_000)
    assert page.locator("#budget option:checked").inner_text() == f"{DEPARTMENT} {YEAR}年"

    # The timeline's tooltip: hover each adjustment's point.
    chart = page.locator("#timeline-chart")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    for position, reason in zip(positions, REASONS, strict=True):
        x, y = page.evaluate(POINT_PIXEL, [position, "预算调整"])
        page.mouse.move(box["x"] + x, box["y"] + y)
        # The canvas holds no text: the chart's text is its tooltip's.
        page.wait_for_function(f"() => document.getElementById('timeline-chart').textContent.includes('位置 {position} ')",
                               timeout=10_000)
        page.wait_for_timeout(300)  # an <img> or <svg> that was parsed would have loaded (or failed) by now
        assert_nothing_ran(page)
        assert reason in chart.text_content()
    page.mouse.move(0, 0)

    # The event list and a cell's lineage show the reasons as text.
    page.click("#timeline-section summary")
    for position, reason in zip(positions, REASONS, strict=True):
        assert page.locator(f"#event-rows tr[data-position='{position}'] td").nth(5).text_content() == reason
    page.click("#table-tabs button[data-number='3']")
    page.locator("table.published[data-table='3'] td[data-row='0/code:2210399'][data-column='basic']").click()
    page.wait_for_selector("#lineage h3", timeout=30_000)
    lineage = page.locator("#lineage tbody").text_content()
    assert all(reason in lineage for reason in REASONS)
    page.click("#lineage button")

    # The imported names: the project in 表十二, the department in the sheets and the narrative.
    page.click("#table-tabs button[data-number='12']")
    cells = page.locator("table.published[data-table='12'] td").all_text_contents()
    assert PROJECT in cells
    assert page.locator(".sheet-meta").first.text_content().startswith(f"部门名称：{DEPARTMENT}")
    assert DEPARTMENT in page.locator("#narrative").text_content()
    assert_nothing_ran(page)

    # The publication picker, the point shown, the comparison and its events.
    page.select_option("#publication", PUBLICATION)
    page.wait_for_function("() => !document.body.dataset.loading && document.body.dataset.point.startsWith('publication=')",
                           timeout=30_000)
    assert PUBLICATION in page.locator("#publication option:checked").text_content()
    assert page.locator("#point-label").text_content().startswith(f"发布节点 {PUBLICATION}")
    options = page.locator("#diff-to option").all_text_contents()
    assert all(any(reason in o for o in options) for reason in REASONS)
    page.select_option("#diff-from", "publication:年初预算")
    page.select_option("#diff-to", f"publication:{PUBLICATION}")
    page.click("#diff-run")
    page.wait_for_selector("body[data-diff]", state="attached", timeout=30_000)
    assert PUBLICATION in page.locator(".diff-summary").text_content()
    events = page.locator("#diff-result .diff-event").all_text_contents()
    assert all(any(e.endswith(f" · {reason}") for e in events) for reason in REASONS)
    assert_nothing_ran(page)

    # The address holds the names and the reload shows them as text too.
    assert parse_qs(urlsplit(page.url).query)["publication"] == [PUBLICATION]
    page.reload()
    page.wait_for_selector("body[data-diff]", state="attached", timeout=30_000)
    page.wait_for_function("() => !document.body.dataset.loading && document.body.dataset.point.startsWith('publication=')",
                           timeout=30_000)
    assert page.locator("#point-label").text_content().startswith(f"发布节点 {PUBLICATION}")
    assert page.locator("#budget option:checked").inner_text() == f"{DEPARTMENT} {YEAR}年"
    assert_nothing_ran(page)


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline, self.handlers = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.inline.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]

    def handle_data(self, data):
        if self.lasttag == "script" and data.strip():
            self.inline.append(data.strip()[:40])


@pytest.mark.parametrize("path", ["/", "/audit", "/docs", "/rules", "/static/app.js", "/api/health", "/openapi.json",
                                  "/api/budgets/nobody/2024", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]  # no inline script, no inline handlers, no eval
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    if response.headers["content-type"].startswith("text/html"):
        scripts = _Scripts()
        scripts.feed(response.text)
        assert scripts.inline == [] and scripts.handlers == [], path


def test_refusals_and_server_errors_carry_them_too(settings, tokens, seed_bytes):
    app = create_app(replace(settings, max_upload_bytes=1000))

    @app.get("/api/__fails")
    def fails() -> None:  # a route of this test only: an error no handler takes
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [
            upload(client, None, seed_bytes),  # 401
            upload(client, tokens["admin"], seed_bytes),  # 413, answered before the body is read
            client.get("/api/budgets/x/99999"),  # 422
            client.get("/api/__fails"),  # 500
        ]
        assert [a.status_code for a in answers] == [401, 413, 422, 500]
        for answer in answers:
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answers[-1].json()["status"] == 500
