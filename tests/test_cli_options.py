"""The command line offers each command only the output formats it can write, and names the
candidates when a row name fits several rows."""

from __future__ import annotations

import pytest
from support import DEPARTMENT, YEAR

BUDGET = ["--department", DEPARTMENT, "--year", str(YEAR)]
LINE = ["--code", "2210399", "--kind", "basic", "--economic", "基本工资/工资奖金津补贴", "--cost", "personnel"]
TEXT_OR_JSON = {
    "import": ["examples/changzhi-hpf-2024-budget.txt"],
    "explain": BUDGET,
    "history": [*BUDGET, "--table", "3", "--row", "合计", "--column", "合计"],
    "diff": [*BUDGET, "--from", "年初预算", "--to", "年初预算"],
    "verify": [],
    "appropriate": [*BUDGET, *LINE, "--amount", "1", "--reason", "x"],
    "adjust": [*BUDGET, *LINE, "--amount", "1", "--reason", "x"],
    "transfer": [*BUDGET, "--from", "code=2210399", "--to", "code=2210399", "--amount", "1", "--reason", "x"],
    "correct": [*BUDGET, "--event", "1", "--reason", "x"],
    "publish": [*BUDGET, "--name", "x", "--reason", "x"],
}


@pytest.mark.parametrize("command", sorted(TEXT_OR_JSON))
def test_commands_that_write_a_report_offer_text_and_json_only(cli, command):
    assert "text|json]" in cli(command, "--help").stdout.replace("<", "[").replace(">", "]")
    for other in ("tsv", "csv"):
        refused = cli(command, *TEXT_OR_JSON[command], "--format", other, check=False)
        assert refused.returncode == 2, refused.stdout
        message = " ".join(refused.stderr.replace("│", " ").split())  # the error panel, unwrapped
        assert f"'{other}' is not one of 'text', 'json'" in message


def test_tables_offer_every_format(imported, cli):
    assert "text|tsv|csv|json" in cli("tables", "--help").stdout
    for output in ("text", "tsv", "csv", "json"):
        assert cli("tables", *BUDGET, "--table", "3", "--format", output).stdout.strip()
    assert cli("tables", *BUDGET, "--format", "xlsx", check=False).returncode == 2


def test_history_refuses_a_row_name_that_fits_several_rows(imported, cli):
    refused = cli("history", *BUDGET, "--table", "6", "--row", "基本工资", "--column", "合计", check=False)
    assert refused.returncode == 2
    assert "表六中有 2 行都叫「基本工资」" in refused.stderr
    assert "0/econ:30101/50101 (基本工资 工资奖金津补贴)、0/econ:30101/50501 (基本工资 工资福利支出)" in refused.stderr
    named = cli("history", *BUDGET, "--table", "6", "--row", "0/econ:30101/50501", "--column", "合计")
    assert named.stdout.startswith("表六 ") and "/ 基本工资 工资福利支出 / 合计:" in named.stdout
