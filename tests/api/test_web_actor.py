"""Who recorded each event, on the page (issue 20.3), in a real browser against the real server:
the event list, the timeline's tooltip, a cell's lineage and the comparison name the actor, as
text (an actor is text anyone allowed to record may choose, as on the CLI's --actor)."""

from __future__ import annotations

import getpass
import subprocess
import sys

import httpx

from .api_support import BUDGET, DEPARTMENT, YEAR, bearer

LINE = {"code": "2210399", "kind": "basic", "economic": "基本工资/工资奖金津补贴", "cost": "personnel"}
MARKUP = "<b>张三</b>"
CELL = "table.published[data-table='3'] td[data-row='0/code:2210399'][data-column='basic']"
# The timeline tooltip of an event, as the page's own formatter makes it (DOM nodes, not HTML).
TOOLTIP = """position => {
  const chart = echarts.getInstanceByDom(document.getElementById('timeline-chart'));
  const option = chart.getOption();
  const point = option.series[0].data.find((d) => d.event.position === position);
  const box = option.tooltip[0].formatter({data: point});
  return {text: box.textContent, elements: box.querySelectorAll('b').length};
}"""


def test_the_page_shows_who_recorded_each_event_as_text(server, tokens, browser):
    adjusted = httpx.post(f"{server.url}{BUDGET}/adjustments", headers=bearer(tokens["officer"]), json={
        "line": LINE, "amount": "-20000.00", "reason": "社保缴费基数调整", "effective": "2024-06-30"})
    assert adjusted.status_code == 201, adjusted.text
    by_cli = subprocess.run(
        [sys.executable, "-m", "ledger", "--actor", MARKUP, "adjust", "-d", DEPARTMENT, "-y", str(YEAR),
         "--amount", "20000", "--reason", "冲回", "--code", "2210399", "--kind", "basic",
         "--economic", "基本工资/工资奖金津补贴", "--cost", "personnel", "--format", "json"],
        env=server.env, capture_output=True, text=True, timeout=120)
    assert by_cli.returncode == 0, by_cli.stderr
    events = httpx.get(f"{server.url}{BUDGET}/events", params={"limit": 1000}).json()["items"]
    officer, marked = events[-2]["position"], events[-1]["position"]
    importer = f"cli:{getpass.getuser()}"

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-point='now']", state="attached", timeout=30_000)

    page.click("#timeline-section summary")  # the event list
    rows = page.locator("#event-rows")
    assert rows.locator(f"tr[data-position='{officer}'] td.actor").inner_text() == "officer:officer-1"
    assert rows.locator(f"tr[data-position='{marked}'] td.actor").inner_text() == f"cli:{MARKUP}"
    assert rows.locator("tr[data-position='1'] td.actor").inner_text() == importer
    assert rows.locator("b").count() == 0  # shown as text, never as markup

    tooltip = page.evaluate(TOOLTIP, marked)
    assert f"记录人 cli:{MARKUP}" in tooltip["text"] and tooltip["elements"] == 0
    assert "记录人 officer:officer-1" in page.evaluate(TOOLTIP, officer)["text"]

    page.click("#table-tabs button[data-number='3']")
    page.locator(CELL).click()
    page.wait_for_selector("#lineage h3", timeout=30_000)
    actors = page.locator("#lineage tbody td.actor").all_inner_texts()
    assert actors[-2:] == ["officer:officer-1", f"cli:{MARKUP}"] and importer in actors
    assert page.locator("#lineage tbody b").count() == 0
    page.click("#lineage button")
    assert problems == []
