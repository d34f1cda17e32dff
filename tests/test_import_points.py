"""An import is one point of the timeline (issue 20.5): its events are saved at once, so no
one ever saw the budget half imported. An as-of position strictly inside an import is refused
naming the import and the positions to use; the budget's feed gives each event the point that
shows it. Runs on the store of LEDGER_TEST_STORE."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from support import DEPARTMENT, SEED, YEAR

from ledger.domain.budget import Budget
from ledger.readmodel.queries import Point, PointInsideImport

PDF = Path(__file__).parent / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"


def test_a_position_inside_the_import_that_opened_a_budget_is_refused(imported):
    first, last = 1, imported.last_position()
    detail = imported.budget(DEPARTMENT, YEAR)
    assert [(d["first_position"], d["last_position"]) for d in detail.documents] == [(first, last)]
    for inside in (first, (first + last) // 2, last - 1):
        with pytest.raises(PointInsideImport) as refused:
            imported.tables(DEPARTMENT, YEAR, number=1, point=Point(position=inside))
        assert str(refused.value) == (f"位置 {inside} 在导入《{SEED.name}》之中 (位置 {first}–{last}, 一次导入是一个时点): "
                                      f"请用位置 {last} (导入之后)")
    with pytest.raises(PointInsideImport):  # every read at a point: the diff's too
        imported.diff(DEPARTMENT, YEAR, Point(position=last - 1), Point())
    assert imported.tables(DEPARTMENT, YEAR, point=Point(position=last)) == imported.tables(DEPARTMENT, YEAR)
    page = imported.event_feed(0, 1000, DEPARTMENT, YEAR)
    assert {page.point_of(e) for e in page.items} == {last}  # the whole import is one point


def test_a_position_inside_an_import_into_an_existing_budget_offers_the_point_before(ledger):
    """A 决算 imported into a budget that already has events (opened and published, as a
    budget's own import leaves it): the point before the import is offered too."""
    department, year = "上海市普陀区财政局", 2024
    opened = Budget(department=department, fiscal_year=year, units=[{"name": department, "category": "行政单位"}],
                    effective=date(year, 1, 1), reason="开账")
    opened.publish("年初预算", effective=date(year, 1, 1), reason="年初预算", **ledger._publication_anchor(opened))
    ledger.events.save(opened)
    before = ledger.last_position()
    result = ledger.import_document(PDF.read_bytes(), PDF.name)
    first, last = result.positions
    assert first == before + 1
    with pytest.raises(PointInsideImport, match=f"请用位置 {last} \\(导入之后\\) 或 {before} \\(导入之前\\)"):
        ledger.explain_final(department, year, Point(position=first + 3))
    assert ledger.budget(department, year, Point(position=before)).version == 2


def test_the_cli_refuses_a_position_inside_an_import(cli):
    cli("import", str(SEED))
    refused = cli("tables", "-d", DEPARTMENT, "-y", str(YEAR), "--table", "1", "--as-of", "45", check=False)
    assert refused.returncode == 2
    assert "位置 45 在导入《changzhi-hpf-2024-budget.txt》之中" in refused.stderr and "请用位置 90" in refused.stderr
    assert cli("tables", "-d", DEPARTMENT, "-y", str(YEAR), "--table", "1", "--as-of", "90").returncode == 0
