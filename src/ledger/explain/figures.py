"""Compute the explanation from sums of postings (exact 元) at one point in the history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..domain import classification, crosswalk
from ..domain.money import percent, to_wan
from ..domain.postings import FISCAL_SOURCES, matches
from .model import CodeComparison, Comparison, Explanation, Item, Money, ProjectSummary, Share

Sums = Mapping[tuple[tuple[str, str], ...], Decimal]

BUDGET = {"measure": "budget", "code": True}
GENERAL_CURRENT = {**BUDGET, "source": "general", "period": "current"}
ECONOMIC = {"measure": "budget", "economic": True, "source": "general", "period": "current", "kind": "basic"}
THREE_PUBLIC = {"measure": "budget", "three_public": True, "source": list(FISCAL_SOURCES)}
OPERATING_COST = {"measure": "budget", "economic": True, "kind": "basic", "cost": "operating", "agency": True,
                  "source": list(FISCAL_SOURCES)}

# The figures the narrative compares with last year: key → (label, filter of this year's postings).
COMPARED: dict[str, tuple[str, dict[str, Any]]] = {
    "income_total": ("预算收入总计", BUDGET),
    "expenditure_total": ("预算支出总计", BUDGET),
    "general_public_current": ("一般公共预算当年支出", GENERAL_CURRENT),
    "three_public": ("“三公”经费", THREE_PUBLIC),
    "operating_cost": ("机关运行经费", OPERATING_COST),
}


# Every figure of the explanation's totals: key → the filter of the postings it sums. Lineage
# of a figure (readmodel/lineage.figure_events) reads the same filters.
TOTALS: dict[str, dict[str, Any]] = {
    "income_total": BUDGET,
    "income_current": {**BUDGET, "period": "current"},
    "income_carryover": {**BUDGET, "period": "carryover"},
    "expenditure_total": BUDGET,
    "expenditure_current": {**BUDGET, "period": "current"},
    "expenditure_carryover": {**BUDGET, "period": "carryover"},
    "fiscal": {**BUDGET, "source": list(FISCAL_SOURCES)},
    "fiscal_current": {**BUDGET, "source": list(FISCAL_SOURCES), "period": "current"},
    "fiscal_carryover": {**BUDGET, "source": list(FISCAL_SOURCES), "period": "carryover"},
    "general_public_current": GENERAL_CURRENT,
    "basic": {**BUDGET, "kind": "basic"},
    "project": {**BUDGET, "kind": "project"},
    "general_basic": {**GENERAL_CURRENT, "kind": "basic"},
    "personnel": {**ECONOMIC, "cost": "personnel"},
    "operating": {**ECONOMIC, "cost": "operating"},
    "three_public": THREE_PUBLIC,
    **{f"three_public:{item}": {**THREE_PUBLIC, "three_public": item} for item in classification.THREE_PUBLIC_LABELS},
    "operating_cost": OPERATING_COST,
    "procurement": {"measure": "budget", "procurement": True},
    **{f"procurement:{kind}": {"measure": "budget", "procurement": kind} for kind in classification.PROCUREMENT_LABELS},
    "projects": {"measure": "budget", "project": True, "period": "current"},
    **{f"source:{source}": {**BUDGET, "source": source, "period": "current"} for source in classification.SOURCE_LABELS},
}


TOTAL_LABELS: dict[str, str] = {
    "income_total": "预算收入总计", "income_current": "本年收入", "income_carryover": "上年结转收入",
    "expenditure_total": "预算支出总计", "expenditure_current": "本年预算安排", "expenditure_carryover": "上年结转安排",
    "fiscal": "财政拨款收支总预算", "fiscal_current": "当年财政拨款", "fiscal_carryover": "财政拨款上年结转",
    "general_public_current": "一般公共预算当年支出", "basic": "基本支出", "project": "项目支出",
    "general_basic": "一般公共预算基本支出", "personnel": "人员经费", "operating": "公用经费",
    "three_public": "“三公”经费", **{f"three_public:{k}": v for k, v in classification.THREE_PUBLIC_LABELS.items()},
    "operating_cost": "机关运行经费", "procurement": "政府采购",
    **{f"procurement:{k}": f"政府采购{v}" for k, v in classification.PROCUREMENT_LABELS.items()},
    "projects": "项目支出 (当年, 按项目)",
    **{f"source:{k}": f"{v} (当年)" for k, v in classification.SOURCE_LABELS.items()},
}
assert set(TOTAL_LABELS) == set(TOTALS)


@dataclass(frozen=True)
class PriorStatement:
    figure: str
    item: str | None
    amount: Decimal
    reason: str | None
    position: int


@dataclass(frozen=True)
class PriorYear:
    """Last year's own figures, read from its events (the ledger holds last year's budget)."""

    fiscal_year: int
    values: Mapping[str, Decimal]  # comparison key → amount (元)
    basis: str  # which budget, as of which point, in words
    position: int | None  # the last event of last year that was read
    by_code: Mapping[str, Decimal]  # 一般公共预算当年支出 by item (7-digit code), for the crosswalk
    by_economic: Mapping[str, Decimal] = field(default_factory=dict)  # 基本支出 by 部门经济分类 款


def compared_values(sums: Sums, units: Sequence[dict[str, str]]) -> dict[str, Decimal]:
    """The figures a budget narrative compares with last year, of one budget's postings: what
    last year's budget gives as "上年数" to the year after."""
    agency = classification.agency_units(units)
    out = {key: total(sums, where, agency) for key, (_label, where) in COMPARED.items()}
    for item in classification.THREE_PUBLIC_LABELS:
        out[f"three_public:{item}"] = total(sums, {**THREE_PUBLIC, "three_public": item}, agency)
    return out


def by_code(sums: Sums, where: Mapping[str, Any], dimension: str = "code", length: int = 7) -> dict[str, Decimal]:
    """Σ of the postings that match, per code of a classification (7-digit functional items,
    or with dimension="economic", length=5 the departmental economic 款)."""
    out: dict[str, Decimal] = {}
    for dims_t, amount in sums.items():
        dims = dict(dims_t)
        code = dims.get(dimension)
        if code and len(code) == length and matches(dims, where):
            out[code] = out.get(code, Decimal("0.00")) + amount
    return out


def total(sums: Sums, where: Mapping[str, Any], agency: frozenset[str] = frozenset()) -> Decimal:
    out = Decimal("0.00")
    for dims_t, amount in sums.items():
        dims = dict(dims_t)
        if dims.get("unit") in agency:
            dims["agency"] = "yes"
        if matches(dims, where):
            out += amount
    return out


def _compare(key: str, label: str, current: Decimal, priors: Sequence[PriorStatement], year: int,
             ledger: PriorYear | None = None) -> Comparison:
    """This year's figure against last year's: last year's own (ledger) where given, else the
    statements; a statement beside the ledger's figure is kept, and whether they agree (at the
    万元 the documents print)."""
    stated = sum((p.amount for p in priors), Decimal("0.00")) if priors else None
    own = ledger.values.get(key) if ledger is not None else None
    prior = own if own is not None else (stated if stated is not None else Decimal("0.00"))
    delta = current - prior
    reasons = [p.reason for p in priors if p.reason]
    return Comparison(
        key=key, label=label, current=Money.of(current), prior=Money.of(prior), delta=Money.of(abs(delta)),
        percent=None if prior == 0 else f"{percent(abs(delta), prior):.2f}",
        direction="增加" if delta > 0 else "减少" if delta < 0 else "持平",
        reason=reasons[0] if reasons else None,
        prior_year=ledger.fiscal_year if own is not None else year - 1,
        stated_at=max(p.position for p in priors) if priors else None,
        prior_source="ledger" if own is not None else "stated",
        prior_basis=ledger.basis if own is not None else None,
        prior_position=ledger.position if own is not None else None,
        stated=Money.of(stated) if own is not None and stated is not None else None,
        agrees=_agree(stated, own) if own is not None and stated is not None else None,
    )


# A stated prior figure is implied by two printed figures (this year's and the change, each
# rounded to 0.01万元), so it can be off by 0.01万元 from the exact figure it came from.
AGREEMENT = Decimal("0.01")


def _agree(stated: Decimal, own: Decimal) -> bool:
    return abs(to_wan(stated) - to_wan(own)) <= AGREEMENT


def code_comparisons(prior: Mapping[str, Decimal], current: Mapping[str, Decimal],
                     walk: crosswalk.Crosswalk | None, names: Mapping[str, str]) -> tuple[list[CodeComparison], list[str]]:
    """Amounts by code against last year's, through the year pair's crosswalk."""
    compared = crosswalk.compare(prior, current, walk)
    out = []
    for g in compared.groups:
        codes = g.codes if g.mapping != "unmapped" else ()
        label = "、".join(names.get(c, c) for c in (codes or g.prior_codes))
        delta = g.current - g.prior
        out.append(CodeComparison(
            codes=list(codes), prior_codes=list(g.prior_codes), label=label, mapping=g.mapping,
            current=Money.of(g.current), prior=Money.of(g.prior), delta=Money.of(delta),
            percent=None if g.prior == 0 else f"{percent(delta, g.prior):.2f}",
        ))
    return out, compared.unmapped


def _shares(group: str, parts: Sequence[tuple[str, str, Decimal]], whole: Decimal) -> list[Share]:
    return [
        Share(group=group, key=key, label=label, amount=Money.of(amount), total=Money.of(whole),
              percent=f"{percent(amount, whole):.2f}")
        for key, label, amount in parts
    ]


def explain(department: str, fiscal_year: int, position: int | None, sums: Sums, units: Sequence[dict[str, str]],
            priors: Sequence[PriorStatement], projects: Sequence[dict[str, Any]],
            ledger: PriorYear | None = None, walk: crosswalk.Crosswalk | None = None,
            economic_walk: crosswalk.Crosswalk | None = None) -> Explanation:
    """`ledger`: last year's own figures when the ledger holds last year's budget; every
    comparison then reads them (the statements stay beside them), else the statements."""
    agency = classification.agency_units(units)
    categories = {u["category"] for u in units if u["name"] in agency}
    t = lambda where: total(sums, where, agency)  # noqa: E731
    totals = {key: t(where) for key, where in TOTALS.items()}

    comparisons = []
    for key, (label, where) in COMPARED.items():
        stated = [p for p in priors if p.figure == key]
        if stated or ledger is not None:
            comparisons.append(_compare(key, label, t(where), stated, fiscal_year, ledger))
    for item, label in classification.THREE_PUBLIC_LABELS.items():
        stated = [p for p in priors if p.figure == "three_public" and p.item == item]
        if stated or ledger is not None:
            comparisons.append(_compare(f"three_public:{item}", label, t({**THREE_PUBLIC, "three_public": item}),
                                        stated, fiscal_year, ledger))
    by_item: list[CodeComparison] = []
    unmapped: list[str] = []
    by_economic: list[CodeComparison] = []
    economic_unmapped: list[str] = []
    if ledger is not None:
        by_item, unmapped = code_comparisons(ledger.by_code, by_code(sums, GENERAL_CURRENT), walk,
                                             classification.functional().names)
        by_economic, economic_unmapped = code_comparisons(
            ledger.by_economic, by_code(sums, ECONOMIC, "economic", 5), economic_walk,
            classification.economic_departmental().names)

    shares = _shares("kind", [(k, classification.KIND_LABELS[k], totals[k]) for k in ("basic", "project")],
                     totals["expenditure_total"])
    shares += _shares("source", [(s, label, totals[f"source:{s}"]) for s, label in classification.SOURCE_LABELS.items()]
                      + [("carryover", "上年结转", totals["income_carryover"])], totals["income_total"])
    classes = []
    for code, name in classification.functional_classes():
        amount = t({**GENERAL_CURRENT, "code": f"{code}*"})
        if amount:
            classes.append((code, name, amount))
    shares += _shares("class", classes, totals["general_public_current"])

    dept = classification.economic_departmental()

    def items_of(cost: str) -> list[Item]:
        found: dict[str, Decimal] = {}
        for dims_t, amount in sums.items():
            dims = dict(dims_t)
            if matches(dims, {**ECONOMIC, "cost": cost}):
                found[dims["economic"]] = found.get(dims["economic"], Decimal(0)) + amount
        return [Item(key=code, label=dept.names.get(code, code), amount=Money.of(a))
                for code, a in sorted(found.items()) if a]

    three_public = [
        Item(key=k, label=label, amount=Money.of(t({**THREE_PUBLIC, "three_public": k})))
        for k, label in classification.THREE_PUBLIC_LABELS.items()
    ]
    procurement = [
        Item(key=k, label=label, amount=Money.of(t({"measure": "budget", "procurement": k})))
        for k, label in classification.PROCUREMENT_LABELS.items()
    ]
    project_rows = []
    for project in projects:
        amount = t({"measure": "budget", "project": project["name"], "period": "current"})
        annual = project.get("annual_amount")
        project_rows.append(ProjectSummary(
            name=project["name"], unit=project["unit"], amount=Money.of(amount),
            annual_amount=Money.of(annual) if annual is not None else None,
            indicators=len((project.get("targets") or {}).get("indicators", [])),
        ))
    return Explanation(
        department=department, fiscal_year=fiscal_year, position=position,
        totals={k: Money.of(v) for k, v in totals.items()}, comparisons=comparisons, shares=shares,
        personnel_items=items_of("personnel"), operating_items=items_of("operating"), three_public=three_public,
        procurement=procurement, projects=project_rows, agency_units=sorted(agency),
        agency_kind="、".join(sorted({"参公单位" if c == "参公事业单位" else c for c in categories})),
        prior_basis=ledger.basis if ledger is not None else None, code_comparisons=by_item,
        crosswalk=(walk.label if walk is not None else "无 (按同一编码比较)") if ledger is not None else None,
        unmapped=unmapped, economic_comparisons=by_economic, economic_unmapped=economic_unmapped,
        economic_crosswalk=(economic_walk.label if economic_walk is not None else "无 (按同一编码比较)")
        if ledger is not None else None,
    )
