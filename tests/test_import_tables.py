"""Importing the reference disclosure and rebuilding its 13 tables from events."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from support import DEPARTMENT, SEED, YEAR
from disclosure import amount_rows, tsv_sections

from ledger.application.commands import Appropriate, LineSpec
from ledger.domain.money import to_wan
from ledger.readmodel.queries import Point

TABLES = ["tables", "--department", DEPARTMENT, "--year", str(YEAR)]


def test_tsv_reproduces_every_row_with_amounts(cli):
    cli("import", str(SEED))
    tsv = cli(*TABLES, "--format", "tsv").stdout
    sections = tsv_sections(tsv)
    assert len(sections) == 13
    expected = amount_rows(SEED.read_text(encoding="utf-8"), list(sections))
    assert sum(len(rows) for rows in expected.values()) == 156
    for title, rows in expected.items():
        produced = sections[title]
        position = 0
        for row in rows:  # every printed row, in the document's order
            assert row in produced[position:], f"{title}: row {row} missing or out of order"
            position = produced.index(row, position) + 1


def test_tsv_titles_and_headers_follow_the_document(cli):
    cli("import", str(SEED))
    sections = tsv_sections(cli(*TABLES, "--format", "tsv").stdout)
    assert list(sections)[0] == "2024年预算收支总表"
    assert sections["2024年预算支出总表"][:2] == [["项目", "", "2024年预算数"], ["科目编码", "科目名称", "合计", "基本支出", "项目支出"]]
    assert sections["2024年政府性基金预算支出表（不含上年结转）"][-1] == ["注：本表无数据"]


def test_rebuild_gives_byte_identical_tables(cli):
    cli("import", str(SEED))
    before = cli(*TABLES, "--format", "tsv").stdout
    rebuilt = cli("rebuild")
    assert "已重放" in rebuilt.stdout
    assert cli(*TABLES, "--format", "tsv").stdout == before
    assert cli(*TABLES, "--format", "json").stdout == cli(*TABLES, "--format", "json").stdout


def test_second_import_records_nothing(cli, imported):
    position = imported.last_position()
    again = cli("import", str(SEED))
    assert "本次未记录任何事件" in again.stdout
    assert imported.last_position() == position


def _count_events(database_url: str) -> int:
    from ledger.application import Ledger

    with Ledger(database_url) as led:
        return led.last_position()


def test_truncated_copy_records_nothing_and_names_the_line(cli, database_url, tmp_path):
    text = SEED.read_text(encoding="utf-8")
    truncated = tmp_path / "truncated.txt"
    cut = text.index("\n2024年一般公共预算安排基本支出分经济科目表")  # the table itself, not the contents page
    truncated.write_text(text[:cut], encoding="utf-8")
    last_line = text[:cut].rstrip("\n").count("\n") + 1
    result = cli("import", str(truncated), check=False)
    assert result.returncode == 2
    assert "未记录任何事件" in result.stderr
    assert f"[第{last_line}行] 缺少表六" in result.stderr and "截断" in result.stderr
    assert _count_events(database_url) == 0


def test_corrupted_cell_records_nothing_and_names_the_line(cli, database_url, tmp_path):
    lines = SEED.read_text(encoding="utf-8").split("\n")
    number = next(i for i, line in enumerate(lines) if line.startswith("2210399\t其他城乡社区住宅支出\t1266.41\t1116.73"))
    lines[number] = lines[number].replace("1116.73", "11l6.73", 1)
    corrupted = tmp_path / "corrupted.txt"
    corrupted.write_text("\n".join(lines), encoding="utf-8")
    result = cli("import", str(corrupted), check=False)
    assert result.returncode == 2
    assert f"第{number + 1}行" in result.stderr and "11l6.73" in result.stderr
    assert _count_events(database_url) == 0


def test_inconsistent_totals_are_reported_as_a_discrepancy(cli, database_url, tmp_path):
    lines = SEED.read_text(encoding="utf-8").split("\n")
    number = next(i for i, line in enumerate(lines) if line.startswith("210\t卫生健康支出\t69.68\t67.14\t2.53"))
    lines[number] = "210\t卫生健康支出\t69.75\t67.14\t2.53"  # 0.08 off: beyond any rounding
    bad = tmp_path / "bad-total.txt"
    bad.write_text("\n".join(lines), encoding="utf-8")
    result = cli("import", str(bad), check=False)
    assert result.returncode == 2
    assert f"第{number + 1}行" in result.stderr and "69.75" in result.stderr
    assert "尾差" in result.stderr
    assert _count_events(database_url) == 0


def test_rounding_report_names_the_cells_and_keeps_leaves_within_half_a_cent_of_wan(cli):
    report = json.loads(cli("import", str(SEED), "--format", "json").stdout)
    cells = report["rounding_cells"]
    assert any(c.startswith("表三 第157行 210 卫生健康支出 合计") for c in cells)
    assert any(c.startswith("表六 第279行 其他社会保障缴费/社会保障缴费 合计") for c in cells)
    assert report["rounding_adjustments"], "the seed's totals cannot be met by printed leaves alone"
    for item in report["rounding_adjustments"]:
        printed_yuan = Decimal(item["printed"]) * 10000
        assert abs(Decimal(item["amount"]) - printed_yuan) < 50
        assert to_wan(Decimal(item["amount"])) == Decimal(item["printed"])


def test_project_amounts_are_the_exact_performance_target_amounts(imported):
    sums = imported.leaf_sums(DEPARTMENT, YEAR)
    hotline = [a for d, a in sums.items() if dict(d).get("project") == "市住房公积金12329热线服务中心人员管理费用"]
    assert hotline == [Decimal("620248.66")]
    projects = sum(a for d, a in sums.items() if "project" in dict(d))
    by_function = sum(a for d, a in sums.items() if dict(d).get("kind") == "project" and "code" in dict(d))
    assert projects == by_function == Decimal("2117012.66")


def _cells(led, point=None):
    return {
        (t.number, row, col): amount
        for t in led.tables(DEPARTMENT, YEAR, point=point)
        for r in t.rows
        for row, col, amount in r.amounts
    }


def test_one_more_appropriation_changes_every_affected_cell_and_nothing_else(imported):
    before = _cells(imported)
    amount = Decimal("50000.00")
    imported.appropriate(DEPARTMENT, YEAR, Appropriate(
        line=LineSpec(code="2210399", kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel"),
        amount=amount, reason="测试: 增加一笔拨款"))
    after = _cells(imported)
    changed = {k for k in after if after[k] != before.get(k, Decimal(0))}
    for key in changed:
        assert after[key] - before.get(key, Decimal(0)) == amount, key
    expected = {
        # 表一: income by source and its totals; expenditure class 221 and totals
        (1, "0/general", "amount"), (1, "0/income_this_year", "amount"), (1, "0/income_total", "amount"),
        (1, "1/class:221", "total"), (1, "1/class:221", "current"),
        (1, "1/expenditure_this_year", "total"), (1, "1/expenditure_this_year", "current"),
        (1, "1/expenditure_total", "total"), (1, "1/expenditure_total", "current"),
        (4, "0/general", "amount"), (4, "0/income_this_year", "amount"), (4, "0/income_total", "amount"),
        (4, "1/class:221", "total"), (4, "1/class:221", "general"),
        (4, "1/expenditure_this_year", "total"), (4, "1/expenditure_this_year", "general"),
        (4, "1/expenditure_total", "total"), (4, "1/expenditure_total", "general"),
    }
    for row in ("0/total", "0/code:221", "0/code:22103", "0/code:2210399"):
        expected |= {(2, row, "total"), (2, row, "general"), (3, row, "total"), (3, row, "basic"),
                     (5, row, "total"), (5, row, "basic")}
    for row in ("0/total", "0/econ:301", "0/econ:30101/50101"):
        expected |= {(6, row, "total"), (6, row, "personnel")}
    assert changed == expected
    # The published figures are still there as of the publication.
    assert _cells(imported, Point(publication="年初预算")) == before


@pytest.mark.parametrize("fmt", ["csv", "json", "text"])
def test_other_formats_carry_the_same_figures(cli, fmt):
    cli("import", str(SEED))
    out = cli(*TABLES, "--table", "3", "--format", fmt).stdout
    for figure in ("1802.52", "1590.82", "211.70", "1116.73", "149.68"):
        assert figure in out
