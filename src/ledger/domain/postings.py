"""Postings: an amount at a point of the budget's classification space.

A budget is one sum of money seen along several axes (DESIGN §5). A posting names the
axes it knows: a native appropriation names all of them (functional code, basic/project,
economic classification, ...) and so feeds every table; a figure taken from a published
document names only the axis of the table it came from (a marginal). Tables are sums of
postings over filters on these dimensions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .money import yuan

# The dimensions, in a fixed order (also the column order of the read model).
DIMENSIONS: tuple[str, ...] = (
    "measure",  # budget | prior_year | final (决算数) | budget_stated (预算数 stated by a 决算)
    "source",  # general | government_fund | state_capital | special_account | unit_funds | ... (VALUES)
    "period",  # current | carryover
    "code",  # functional classification item (7 digits)
    "kind",  # basic | project
    "economic",  # departmental economic classification item (5 digits)
    "gov_economic",  # governmental economic classification item (5 digits)
    "cost",  # personnel | operating
    "project",  # project name
    "unit",  # unit name
    "three_public",  # overseas | reception | vehicle_purchase | vehicle_operation
    "procurement",  # goods | works | services
    "figure",  # for prior_year: which stated figure
    # Added for 决算 (final accounts); appended, so that leaves without them keep their text.
    "flow",  # for final: opening | income | expenditure | closing | distribution | balance_use
    "plan",  # for budget_stated: original (年初预算) | full_year (全年预算)
)

VALUES: dict[str, tuple[str, ...]] = {
    "measure": ("budget", "prior_year", "final", "budget_stated"),
    "source": ("general", "government_fund", "state_capital", "special_account", "unit_funds",
               # 决算 income by kind (收入决算表), and money that is not fiscal but of no stated kind
               "superior_subsidy", "business", "operating", "affiliated", "other", "non_fiscal"),
    "period": ("current", "carryover"),
    # 决算 adds 上缴上级支出, 经营支出, 对附属单位补助支出 to basic and project expenditure
    "kind": ("basic", "project", "remit", "business_operation", "affiliated_subsidy"),
    "cost": ("personnel", "operating"),
    "three_public": ("overseas", "reception", "vehicle_purchase", "vehicle_operation"),
    "procurement": ("goods", "works", "services"),
    "figure": (
        "income_total",
        "expenditure_total",
        "general_public_current",
        "operating_cost",
        "three_public",
        # figures a 决算 narrative compares with last year's 决算
        "income_expenditure_total",  # 收入支出总计
        "fiscal_total",  # 财政拨款收入支出总计
        "general_public_expenditure",  # 一般公共预算财政拨款支出
        "final_operating_cost",  # 机关运行经费 (决算)
        "final_three_public",  # “三公”经费 (决算)
    ),
    "flow": ("opening", "income", "expenditure", "closing", "distribution", "balance_use"),
    "plan": ("original", "full_year"),
}

FISCAL_SOURCES = ("general", "government_fund", "state_capital")

# The axes along which tables are published; each is the set of dimensions that a
# marginal on that axis names. A posting belongs to an axis when it names all of them.
AXES: dict[str, tuple[str, ...]] = {
    "function": ("measure", "source", "period", "code", "kind"),
    "economic": ("measure", "source", "period", "kind", "economic", "gov_economic", "cost"),
    "project": ("measure", "source", "period", "project"),
    "three_public": ("measure", "source", "three_public"),
    "procurement": ("measure", "procurement"),
    # 决算: each flow of money on the function and economic axes
    "final_function": ("measure", "flow", "source", "code", "kind"),
    "final_economic": ("measure", "flow", "source", "kind", "economic", "cost"),
}


class DimensionError(ValueError):
    """A dimension name or value the ledger does not know."""


@dataclass(frozen=True, slots=True)
class Line:
    """An amount (元) posted at a point named by some dimensions."""

    dims: tuple[tuple[str, str], ...]
    amount: Decimal

    @classmethod
    def of(cls, amount: Decimal, **dims: str | None) -> Line:
        return cls(dims=normalise(dims), amount=yuan(amount))

    @property
    def d(self) -> dict[str, str]:
        return dict(self.dims)

    def negated(self) -> Line:
        return Line(self.dims, -self.amount)

    def to_dict(self) -> dict[str, Any]:
        return {"dims": dict(self.dims), "amount": self.amount}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Line:
        return cls(dims=normalise(data["dims"]), amount=Decimal(data["amount"]))


def normalise(dims: Mapping[str, str | None]) -> tuple[tuple[str, str], ...]:
    """Dimensions as a canonical tuple, dropping unknown (None) ones; checks names and values."""
    out = []
    for name in DIMENSIONS:
        value = dims.get(name)
        if value is None or value == "":
            continue
        allowed = VALUES.get(name)
        if allowed is not None and value not in allowed:
            raise DimensionError(f"{name} 不能是 {value!r} (可选: {', '.join(allowed)})")
        out.append((name, str(value)))
    unknown = set(dims) - set(DIMENSIONS)
    if unknown:
        raise DimensionError(f"未知维度: {', '.join(sorted(unknown))}")
    return tuple(out)


def matches(dims: Mapping[str, str], where: Mapping[str, Any]) -> bool:
    """Whether a posting's dimensions satisfy a filter.

    A filter maps a dimension to a value, a list of values (any of), True (named) or
    False (not named). Code filters may name a prefix with a trailing '*'.
    """
    for name, want in where.items():
        have = dims.get(name)
        if want is True:
            if have is None:
                return False
        elif want is False or want is None:
            if have is not None:
                return False
        elif isinstance(want, (list, tuple)):
            if have not in want:
                return False
        elif isinstance(want, str) and want.endswith("*"):
            if have is None or not have.startswith(want[:-1]):
                return False
        elif have != want:
            return False
    return True


def axis_key(dims: Mapping[str, str], axis: str) -> tuple[str, ...] | None:
    """The point of a posting on one axis, or None when it does not name that axis."""
    names = AXES[axis]
    if any(name not in dims for name in names):
        return None
    return tuple(dims[name] for name in names)

