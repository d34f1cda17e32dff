"""A department's next year, made from this year's events: for tests, scenarios and the example
of two consecutive years (issue 19).

The next year's 部门预算公开 is this year's budget as the ledger holds it, written out
(application/documents.budget_text), imported into a scratch ledger, changed there by commands
(an adjustment, a transfer that moves money to a renamed or split code ...), and written out
again labelled with the next year; its narrative's 比上年 figures compare with this year's own
figures in the ledger (Ledger.prior_figures), so the document states them as the ledger has them.
Nothing in it is typed by hand: every figure is rendered from events.

    .venv/bin/python -m ledger.devtools.nextyear examples/changzhi-hpf-2024-budget.txt -o next.txt
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..application import commands
from ..application.documents import budget_text, final_text
from ..application.ledger import Ledger
from ..explain import final as final_explain
from ..explain import narrative

Change = commands.Appropriate | commands.Adjust | commands.Transfer


def apply(ledger: Ledger, department: str, fiscal_year: int, change: Change) -> None:
    if isinstance(change, commands.Transfer):
        ledger.transfer(department, fiscal_year, change, actor="cli:nextyear")
    elif isinstance(change, commands.Adjust):
        ledger.adjust(department, fiscal_year, change, actor="cli:nextyear")
    else:
        ledger.appropriate(department, fiscal_year, change, actor="cli:nextyear")


def next_year(ledger: Ledger, department: str, fiscal_year: int, changes: Sequence[Change] = ()) -> str:
    """The 部门预算公开 of fiscal_year + 1: this year's budget with the changes, its 比上年
    against this year's figures as the ledger holds them now."""
    prior = ledger.prior_figures(department, fiscal_year)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Ledger(f"sqlite:///{tmp}/next-year.db", crosswalks=ledger.crosswalks)
        try:
            scratch.import_document(budget_text(ledger, department, fiscal_year).encode(),
                                    f"{department}{fiscal_year}.txt", actor="cli:nextyear")
            for change in changes:
                apply(scratch, department, fiscal_year, change)
            explanation = scratch.explain(department, fiscal_year, prior=prior, as_year=fiscal_year + 1)
            return budget_text(scratch, department, fiscal_year, as_year=fiscal_year + 1,
                               narrative=narrative.render(explanation))
        finally:
            scratch.close()


def next_final_year(ledger: Ledger, department: str, fiscal_year: int) -> str:
    """The 部门决算 of fiscal_year + 1 with this year's figures (as a scratch ledger re-reads them
    from the 万元 this year prints), its 比上年 against this year's 决算 as the ledger holds it."""
    prior = ledger.prior_figures(department, fiscal_year, final=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Ledger(f"sqlite:///{tmp}/next-year.db", crosswalks=ledger.crosswalks)
        try:
            scratch.import_document(final_text(ledger, department, fiscal_year).encode(),
                                    f"{department}{fiscal_year}决算.txt", actor="cli:nextyear")
            explanation = scratch.explain_final(department, fiscal_year, prior=prior, as_year=fiscal_year + 1)
            return final_text(scratch, department, fiscal_year, as_year=fiscal_year + 1,
                              narrative=final_explain.render(explanation))
        finally:
            scratch.close()


def example_changes() -> list[Change]:
    """The changes of the example's next year (2025 of the reference department): a raise, a
    renamed code, a code split in two, and a code given up without a crosswalk line (reported
    as unmapped); examples/crosswalks/functional-2024-2025.tsv is the crosswalk they go with."""
    def basic(code: str) -> commands.LineSpec:
        return commands.LineSpec(code=code, kind="basic", economic="基本工资/工资奖金津补贴", cost="personnel")

    return [
        commands.Adjust(line=basic("2210201"), amount="124600", reason="人员增资"),
        commands.Transfer(from_line=basic("2130599"), to_line=basic("2130550"), amount="185000.02",
                          reason="科目调整: 2130599 改列 2130550"),
        commands.Transfer(from_line=basic("2210399"), to_line=basic("2210301"), amount="3000000",
                          reason="科目调整: 2210399 分设 2210301"),
        commands.Transfer(from_line=basic("2100799"), to_line=basic("2101199"), amount="63200",
                          reason="不再列 2100799"),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a department's next year from this year's document.")
    parser.add_argument("document", type=Path, help="this year's 部门预算公开 (text)")
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, Ledger(f"sqlite:///{tmp}/this-year.db") as ledger:
        result = ledger.import_document(args.document.read_bytes(), args.document.name, actor="cli:nextyear")
        args.out.write_text(next_year(ledger, result.department, result.fiscal_year, example_changes()),
                            encoding="utf-8")
    print(f"{args.out}: {result.department} {result.fiscal_year + 1}年度")


if __name__ == "__main__":
    main()
