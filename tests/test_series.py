"""A figure or a table cell across a department's years and phases (issue 19 item 3): from the
ledger, the CLI (`ledger series`) and the API (/api/series/{department})."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from support import ROOT, SEED

from ledger.application import Ledger, commands
from ledger.devtools.nextyear import example_changes, next_year
from ledger.readmodel.queries import NotFound, Point

DEPT = "长治市住房公积金管理中心"
CROSSWALKS = ROOT / "examples" / "crosswalks"


@pytest.fixture
def two_years(database_url, monkeypatch):
    monkeypatch.setenv("LEDGER_CROSSWALKS", str(CROSSWALKS))
    with Ledger(database_url) as ledger:
        ledger.import_document(SEED.read_bytes(), SEED.name)
        ledger.import_document(next_year(ledger, DEPT, 2024, example_changes()).encode(), "next-year.txt")
        ledger.adjust(DEPT, 2025, commands.Adjust(line=commands.LineSpec(
            code="2210301", kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel"),
            amount="10000", reason="增资"))
        yield ledger


def test_a_figure_across_years_and_phases(two_years):
    s = two_years.series(DEPT, figure="general_public_current")
    assert [(p.fiscal_year, p.phase) for p in s.points] == [(2024, "年初预算"), (2024, "最新"), (2025, "年初预算"),
                                                           (2025, "最新")]
    for p in s.points:
        point = Point() if p.phase == "最新" else Point(publication=p.phase)
        assert p.amount == two_years.explain(DEPT, p.fiscal_year, point).totals["general_public_current"]
    assert s.points[3].amount.value - s.points[2].amount.value == Decimal("10000")


def test_a_cell_follows_its_code_through_the_crosswalk(two_years):
    # 2210301 of 2025 was split out of 2024's 2210399
    s = two_years.series(DEPT, table=5, row="2210301", column="合计")
    by = {(p.fiscal_year, p.phase): p for p in s.points}
    earlier = by[(2024, "最新")]
    assert earlier.rows == ["0/code:2210399"] and "2210399" in earlier.note
    assert "拆分前的整体" in earlier.note  # 2210399 of 2024 holds more than what became 2210301
    assert earlier.amount.value == two_years.history(DEPT, 2024, 5, "2210399", "合计").amount.value
    assert by[(2025, "最新")].amount.value == two_years.history(DEPT, 2025, 5, "2210301", "合计").amount.value
    assert by[(2025, "最新")].amount.value - by[(2025, "年初预算")].amount.value == Decimal("10000")
    # 2100799 of 2024 has no counterpart in 2025: a point that says so, no amount made up
    gone = two_years.series(DEPT, table=5, row="2100799", column="合计", anchor=2024)
    later = [p for p in gone.points if p.fiscal_year == 2025]
    assert all(p.amount.value == 0 and "表中无 2100799 行" in p.note for p in later)


def test_unknown_figures_and_departments_are_refused(two_years):
    with pytest.raises(NotFound, match="没有这个数"):
        two_years.series(DEPT, figure="nonsense")
    with pytest.raises(NotFound, match="没有部门"):
        two_years.series("不存在的部门", figure="income_total")
    with pytest.raises(NotFound, match="请给出"):
        two_years.series(DEPT, table=5)


def test_the_cli_and_the_api_give_the_same_series(two_years, cli, database_url):
    ran = cli("series", "-d", DEPT, "--figure", "expenditure_total", "-f", "json")
    printed = json.loads(ran.stdout)
    assert printed == json.loads(two_years.series(DEPT, figure="expenditure_total").model_dump_json())
    text = cli("series", "-d", DEPT, "--table", "5", "--row", "2210301", "--column", "合计").stdout
    assert "2024\t最新" in text and "2210399" in text
    missing = cli("series", "-d", DEPT, "--figure", "nonsense", check=False)
    assert missing.returncode == 3 and "没有这个数" in missing.stderr

    from fastapi.testclient import TestClient

    from ledger.http.app import create_app
    from ledger.http.deps import Settings

    with TestClient(create_app(Settings(database_url=database_url, tokens=()))) as client:
        served = client.get(f"/api/series/{DEPT}", params={"figure": "expenditure_total"})
        assert served.status_code == 200 and served.json() == printed
        assert client.get(f"/api/series/{DEPT}", params={"figure": "nonsense"}).status_code == 404
        cell = client.get(f"/api/series/{DEPT}", params={"table": 5, "row": "2210301", "column": "合计"}).json()
        assert [p["fiscal_year"] for p in cell["points"]] == [2024, 2024, 2025, 2025]
