"""Money, postings and the cross-axis rules, as plain functions (no storage)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.money import AmountError, format_wan, parse_amount, percent, to_wan, yuan
from ledger.domain.postings import DimensionError, Line, axis_key, matches, normalise
from ledger.domain.rules import check_invariants, check_native_line, marginal_balances


def test_amounts_are_exact_yuan_and_round_to_wan_half_up_once():
    assert parse_amount("10万元") == Decimal("100000.00")
    assert parse_amount("1,000.5元") == Decimal("1000.50")
    assert to_wan(Decimal("620248.66")) == Decimal("62.02")
    assert to_wan(Decimal("125.00")) == Decimal("0.01") and to_wan(Decimal("124.99")) == Decimal("0.01")
    assert to_wan(Decimal("49.99")) == Decimal("0.00")
    assert format_wan(Decimal("0")) == "" and format_wan(Decimal("12345678.90"), thousands=True) == "1,234.57"
    assert percent(Decimal("124600"), Decimal("17900600")) == Decimal("0.70")
    for bad in ("1.001", "abc", "NaN", "Infinity", "2000000000000"):
        with pytest.raises(AmountError):
            yuan(bad)


def test_postings_name_known_dimensions_in_a_fixed_order():
    dims = normalise({"kind": "basic", "measure": "budget", "code": "2210399", "unit": None})
    assert [name for name, _ in dims] == ["measure", "code", "kind"]
    with pytest.raises(DimensionError):
        normalise({"kind": "other"})
    with pytest.raises(DimensionError):
        normalise({"colour": "red"})
    d = dict(dims)
    assert matches(d, {"code": "221*", "kind": ["basic", "project"], "economic": False})
    assert not matches(d, {"economic": True})
    assert axis_key(d, "function") is None  # no source or period: not on the function axis


def test_native_lines_name_every_axis_their_money_appears_on():
    full = Line.of(Decimal(1), measure="budget", source="general", period="current", code="2210399",
                   kind="basic", economic="30101", gov_economic="50101", cost="personnel")
    assert check_native_line(full) == []
    missing = check_native_line(Line.of(Decimal(1), measure="budget", source="general", period="current",
                                        code="2210399", kind="basic"))
    assert [v.rule for v in missing] == ["complete-line"] and "部门经济分类" in missing[0].message
    unknown = check_native_line(Line.of(Decimal(1), measure="budget", source="general", period="current",
                                        code="9999999", kind="project", project="x"))
    assert [v.rule for v in unknown] == ["known-code"]


def test_basic_spending_by_function_must_equal_it_by_economic_class():
    by_function = Line.of(Decimal(100), measure="budget", source="general", period="current", code="2210399",
                          kind="basic")
    by_economic = Line.of(Decimal(99), measure="budget", source="general", period="current", kind="basic",
                          economic="30101", gov_economic="50101", cost="personnel")
    problems = check_invariants({by_function.dims: by_function.amount, by_economic.dims: by_economic.amount})
    assert [v.rule for v in problems] == ["basic-by-function-equals-basic-by-economic"]
    assert "相差 1.00 元" in problems[0].message
    assert check_invariants({by_function.dims: Decimal(100), by_economic.dims: Decimal(100)}) == []


def test_no_printed_figure_may_become_negative():
    line = Line.of(Decimal(-5), measure="budget", source="general", period="current", code="2210399", kind="basic")
    problems = marginal_balances({line.dims: Decimal(-5)}, [line])
    assert [v.rule for v in problems] == ["non-negative"] and "-0.00" not in problems[0].message
