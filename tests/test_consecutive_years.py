"""Consecutive years of one department (issue 19): the reference 2024 budget and a 2025 made from
its events (devtools/nextyear.py). 比上年 of 2025 is computed from 2024's own events; a change
to 2024 changes 2025's explanation; a stated prior figure that disagrees is shown with both
values and reported by the audit; codes compare through the year pair's crosswalk."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from support import ROOT, SEED

from ledger.application import Ledger, commands
from ledger.domain import crosswalk
from ledger.readmodel.queries import NotFound, Point
from ledger.devtools.nextyear import example_changes, next_final_year, next_year

CROSSWALKS = ROOT / "examples" / "crosswalks"
DEPT = "长治市住房公积金管理中心"


def basic(code: str) -> commands.LineSpec:
    return commands.LineSpec(code=code, kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel")


@pytest.fixture
def two_years(database_url):
    with Ledger(database_url, crosswalks=str(CROSSWALKS)) as ledger:
        ledger.import_document(SEED.read_bytes(), SEED.name)
        text = next_year(ledger, DEPT, 2024, example_changes())
        result = ledger.import_document(text.encode(), "next-year.txt")
        assert (result.department, result.fiscal_year) == (DEPT, 2025)
        yield ledger


def cell(ledger: Ledger, year: int, table: int, row: str, column: str) -> Decimal:
    """A printed table's cell as the ledger renders it (万元 text → the exact amount behind it
    comes from the cell's history)."""
    return ledger.history(DEPT, year, table, row, column).amount.value


def test_next_years_comparisons_read_last_years_own_events(two_years):
    e = two_years.explain(DEPT, 2025)
    income = e.comparison("income_total")
    assert income.prior_source == "ledger" and income.prior_year == 2024
    # last year's figure is 2024's own 收入总计 as its table 1 prints it from events
    assert income.prior.value == cell(two_years, 2024, 1, "收入总计", "amount")
    assert income.current.value == cell(two_years, 2025, 1, "收入总计", "amount")
    delta = income.current.value - income.prior.value
    assert income.delta.value == abs(delta)
    assert income.percent == f"{(abs(delta) * 100 / income.prior.value).quantize(Decimal('0.01'), rounding='ROUND_HALF_UP')}"
    # the 2025 document states the same figure (it was written from the ledger), so they agree
    assert income.stated is not None and income.agrees is True
    assert "账本中2024年度预算" in income.prior_basis
    assert "注：比上年的上年数取自账本中2024年度预算" in two_years.explain_text(DEPT, 2025)


def test_an_adjustment_of_last_year_changes_next_years_explanation_and_shows_both_figures(two_years):
    before = two_years.explain(DEPT, 2025).comparison("expenditure_total")
    text_before = two_years.explain_text(DEPT, 2025)
    recorded = two_years.adjust(DEPT, 2024, commands.Adjust(line=basic("2210201"), amount="-50000", reason="减少"))
    after = two_years.explain(DEPT, 2025).comparison("expenditure_total")
    assert after.prior.value == before.prior.value - Decimal("50000")
    assert after.current == before.current and after.percent != before.percent
    assert after.prior_position == recorded.position
    # the 2025 document still says what it said: both figures, and that they disagree
    assert after.stated == before.stated and after.agrees is False
    text = two_years.explain_text(DEPT, 2025)
    assert text != text_before
    assert (f"本年文件所列上年数为{Decimal(after.stated.wan):,.2f}万元，与账本中2024年度数"
            f"{Decimal(after.prior.wan):,.2f}万元不一致") in text
    report = two_years.audit_budget(DEPT, 2025)
    found = [f for f in report.findings if f.rule == "history.prior_year"]
    labels = {f.message.split(":")[0] for f in found}
    assert {"预算收入总计", "预算支出总计", "一般公共预算当年支出"} <= labels
    one = next(f for f in found if f.message.startswith("预算支出总计"))
    assert one.stated.startswith(f"{after.stated.wan}万元") and one.expected.startswith(f"{after.prior.wan}万元")
    assert "账本中2024年度预算" in one.expected and one.severity == "疑似"


def test_as_of_a_point_last_year_is_read_as_the_ledger_stood_then(two_years):
    imported_at = two_years.explain(DEPT, 2025).position
    two_years.adjust(DEPT, 2024, commands.Adjust(line=basic("2210201"), amount="30000", reason="增加"))
    then = two_years.explain(DEPT, 2025, Point(position=imported_at)).comparison("income_total")
    now = two_years.explain(DEPT, 2025).comparison("income_total")
    assert now.prior.value - then.prior.value == Decimal("30000")
    assert then.agrees is True and f"位置 {imported_at}" in then.prior_basis


def test_last_year_as_of_a_named_publication(two_years):
    # the import of 2024 published it as 「年初预算」
    two_years.adjust(DEPT, 2024, commands.Adjust(line=basic("2210201"), amount="80000", reason="预算调整"))
    latest = two_years.explain(DEPT, 2025).comparison("general_public_current")
    initial = two_years.explain(DEPT, 2025, prior_publication="年初预算").comparison("general_public_current")
    assert latest.prior.value - initial.prior.value == Decimal("80000")
    assert "发布节点「年初预算」" in initial.prior_basis and initial.agrees is True
    with pytest.raises(NotFound, match="调整预算"):
        two_years.explain(DEPT, 2025, prior_publication="调整预算")


def test_codes_compare_through_the_crosswalk_and_an_unmapped_code_is_reported(two_years):
    e = two_years.explain(DEPT, 2025)
    assert e.crosswalk.startswith("2024→2025")
    groups = {(tuple(g.prior_codes), tuple(g.codes)): g for g in e.code_comparisons}
    renamed = groups[(("2130599",), ("2130550",))]
    split = groups[(("2210399",), ("2210301", "2210399"))]
    assert renamed.mapping == "renamed" and split.mapping == "split"
    # the renamed code's money is the same money: only the rounding of the two documents apart
    assert abs(renamed.delta.value) < Decimal("100")
    assert split.current.value == (cell(two_years, 2025, 5, "2210301", "合计")
                                   + cell(two_years, 2025, 5, "2210399", "合计"))
    assert split.prior.value == cell(two_years, 2024, 5, "2210399", "合计")
    assert e.unmapped == ["2100799"]
    gone = groups[(("2100799",), ())]
    assert gone.mapping == "unmapped" and gone.current.value == 0 and gone.prior.value > 0
    # nothing dropped: the groups add up to both years' 一般公共预算当年支出
    assert sum(g.prior.value for g in e.code_comparisons) == e.comparison("general_public_current").prior.value
    assert sum(g.current.value for g in e.code_comparisons) == e.comparison("general_public_current").current.value


def test_without_a_crosswalk_a_renamed_code_is_new_and_its_old_code_unmapped(database_url, tmp_path):
    with Ledger(database_url, crosswalks=str(tmp_path)) as ledger:  # a directory without crosswalks
        ledger.import_document(SEED.read_bytes(), SEED.name)
        ledger.import_document(next_year(ledger, DEPT, 2024, example_changes()).encode(), "next-year.txt")
        e = ledger.explain(DEPT, 2025)
    assert e.crosswalk == "无 (按同一编码比较)"
    assert {"2130599", "2100799"} <= set(e.unmapped)
    assert any(g.codes == ["2130550"] and g.mapping == "new" for g in e.code_comparisons)


def test_a_budget_without_last_year_in_the_ledger_compares_with_what_its_document_states(imported):
    e = imported.explain(DEPT, 2024)
    assert e.comparisons and all(c.prior_source == "stated" and c.stated is None for c in e.comparisons)
    assert e.code_comparisons == [] and e.crosswalk is None


@pytest.mark.parametrize("text, message", [
    ("上年编码\t本年编码\t变化\n2130599\t2130550\n", "第2行: 应为"),
    ("上年编码\t本年编码\t变化\n213059\t2130550\trenamed\n", "第2行: 功能分类科目编码 \\(项级\\)应为7位"),
    ("上年编码\t本年编码\t变化\n2130599\t9999999\trenamed\n", "第2行: 未知的功能分类科目编码 \\(项级\\): 9999999"),
    ("上年编码\t本年编码\t变化\n2130599\t2130550\tmoved\n", "第2行: 变化应为"),
    ("上年编码\t本年编码\t变化\n2130599\t2130550\trenamed\n2130599\t2130501\trenamed\n", "第3行: 2130599 已在第2行"),
])
def test_a_malformed_crosswalk_is_refused_naming_file_and_line(tmp_path, text, message):
    (tmp_path / "functional-2024-2025.tsv").write_text(text, encoding="utf-8")
    with pytest.raises(crosswalk.CrosswalkError, match=message) as raised:
        crosswalk.crosswalk(2024, 2025, str(tmp_path))
    assert "functional-2024-2025.tsv" in str(raised.value)


PUTUO = "上海市普陀区财政局"
FINAL_PDF = ROOT / "tests" / "corpus" / "shanghai-putuo-caizhengju-2024-final-accounts.pdf"


def test_a_next_years_final_accounts_compare_with_last_years_own(database_url):
    """决算 of consecutive years: 2025's 比上年 reads 2024's 决算 events; where the 2025 document
    states another 上年数, both are shown and the audit reports it."""
    with Ledger(database_url) as ledger:
        ledger.import_document(FINAL_PDF.read_bytes(), FINAL_PDF.name)
        text = next_final_year(ledger, PUTUO, 2024)
        table5 = ledger.tables(PUTUO, 2024, layout_id="final-accounts")[4]
        total_row = next(r.cells for r in table5.rows if "合计" in r.cells)
        spent_2024 = Decimal(total_row[total_row.index("合计") + 1].replace(",", ""))
        # the 2025 document's narrative says 2024 spent 100万元 less than 2024's events give
        sentence = re.compile(r"与2024年度相比，一般公共预算财政拨款支出(?:持平|(?:增加|减少)[\d.,]+万元，(?:增长|下降)[\d.]+%)")
        assert sentence.search(text), text
        stated_prior = spent_2024 - 100
        rate = (Decimal(100) * 100 / stated_prior).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        claimed = sentence.sub(f"与2024年度相比，一般公共预算财政拨款支出增加100.00万元，增长{rate}%", text, count=1)
        ledger.import_document(claimed.encode(), "final-2025.txt")

        e = ledger.explain_final(PUTUO, 2025)
        total = e.comparison("income_expenditure_total")
        assert total.prior_source == "ledger" and total.prior_year == 2024 and total.agrees is True
        general = e.comparison("general_public_expenditure")
        assert general.prior_source == "ledger" and Decimal(general.prior.wan) == spent_2024
        assert Decimal(general.stated.wan) == stated_prior and general.agrees is False
        assert general.direction == "持平" or abs(general.delta.value) < 200  # 2025 is 2024 re-read
        narrative = ledger.explain_final_text(PUTUO, 2025)
        assert (f"本年文件所列上年数为{stated_prior:,.2f}万元，与账本中2024年度数{spent_2024:,.2f}万元不一致"
                in narrative), narrative
        report = ledger.audit_budget(PUTUO, 2025)
        found = [f for f in report.findings if f.rule == "history.prior_year"]
        assert [f.message.split(":")[0] for f in found] == ["一般公共预算财政拨款支出"]
        assert found[0].expected.startswith(f"{spent_2024}万元 (账本中2024年度决算")


def test_the_shipped_next_year_example_is_what_the_2024_events_make(imported):
    shipped = (ROOT / "examples" / "changzhi-hpf-2025-budget-made-from-2024.txt").read_text(encoding="utf-8")
    assert next_year(imported, DEPT, 2024, example_changes()) == shipped


def test_an_uploaded_next_year_is_audited_against_last_years_events(two_years, cli, tmp_path):
    """A document not imported, audited where the ledger holds its year before: each stated
    上年数 against that year's own figures, at the sentence that states it (CLI and API)."""
    text = next_year(two_years, DEPT, 2024, example_changes())
    assert not [f for f in two_years.audit_document_in_ledger(text.encode(), "2025.txt").findings
                if f.rule == "history.prior_year"]
    two_years.adjust(DEPT, 2024, commands.Adjust(line=basic("2210201"), amount="-50000", reason="减少"))
    report = two_years.audit_document_in_ledger(text.encode(), "2025.txt")
    found = [f for f in report.findings if f.rule == "history.prior_year"]
    assert {f.message.split(":")[0] for f in found} == {"预算收入总计", "预算支出总计", "一般公共预算当年支出"}
    lines = text.split("\n")
    for f in found:
        assert "比上年增加" in lines[f.place.line - 1] and f.place.sentence
        stated, ledger_figure = (Decimal(x.split("万元")[0]) for x in (f.stated, f.expected))
        assert stated - ledger_figure == Decimal("5.00")
    # without the ledger the document is as consistent as it was written
    assert not [f for f in two_years.audit_document(text.encode(), "2025.txt").findings
                if f.rule == "history.prior_year"]
    upload = tmp_path / "next-year.txt"
    upload.write_text(text, encoding="utf-8")
    ran = cli("audit", str(upload), "--against-ledger", "-f", "json", check=False)
    assert {f["message"] for f in json.loads(ran.stdout)["findings"] if f["rule"] == "history.prior_year"} \
        == {f.message for f in found}


def test_economic_items_compare_through_their_own_crosswalk(database_url, tmp_path):
    """2025 moves 住房公积金 (30113) into 其他工资福利支出 (30199); with an economic crosswalk that
    says so, the two compare as one; without it, 30113 is reported as unmapped."""
    def economic(code: str, economic: str) -> commands.LineSpec:
        return commands.LineSpec(code=code, kind="basic", economic=economic, cost="personnel")

    walks = tmp_path / "crosswalks"
    walks.mkdir()
    (walks / "economic-2024-2025.tsv").write_text("上年编码\t本年编码\t变化\n30113\t30199\tmerged\t并入\n", encoding="utf-8")
    with Ledger(database_url, crosswalks=str(walks)) as ledger:
        ledger.import_document(SEED.read_bytes(), SEED.name)
        ledger.import_document(next_year(ledger, DEPT, 2024, example_changes()).encode(), "next-year.txt")
        held = {g.codes[0]: g.current.value for g in ledger.explain(DEPT, 2025).economic_comparisons if g.codes}
        for gov, amount in (("50103", Decimal("606600")), ("50501", held["30113"] - Decimal("606600"))):
            ledger.transfer(DEPT, 2025, commands.Transfer(
                from_line=economic("2210201", f"30113/{gov}"), to_line=economic("2210201", f"30199/{gov}"),
                amount=str(amount), reason="住房公积金并入其他工资福利支出"))
        e = ledger.explain(DEPT, 2025)
        merged = next(g for g in e.economic_comparisons if g.prior_codes == ["30113", "30199"])
        assert merged.mapping == "merged" and merged.codes == ["30199"]
        before = ledger.explain(DEPT, 2024)
        assert merged.prior.value == sum(i.amount.value for i in before.personnel_items if i.key in ("30113", "30199"))
        assert merged.current.value == next(i.amount.value for i in e.personnel_items if i.key == "30199")
        assert e.economic_unmapped == [] and e.economic_crosswalk.startswith("2024→2025")
        assert sum(g.prior.value for g in e.economic_comparisons) == before.totals["general_basic"].value
    with Ledger(database_url, crosswalks=str(tmp_path)) as ledger:  # no crosswalk for the pair
        assert ledger.explain(DEPT, 2025).economic_unmapped == ["30113"]
