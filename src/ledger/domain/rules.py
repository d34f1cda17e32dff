"""Budget rules (勾稽关系) that hold across axes, and the checks a command must pass.

Rules inside one axis (a class equals the sum of its sections, a 合计 the sum of its
columns) hold by construction: every table cell is a sum of postings. The rules here
tie different axes of the same money together, so they can be broken by a posting
that names one axis and not the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import classification
from .money import format_wan, to_wan
from .postings import AXES, FISCAL_SOURCES, Line, axis_key, matches


@dataclass(frozen=True)
class Invariant:
    name: str
    statement: str  # how a budget document states the rule
    left: Mapping[str, Any]
    right: Mapping[str, Any]
    group_by: tuple[str, ...] = ()


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        name="basic-by-function-equals-basic-by-economic",
        statement="表六 合计 = 表五 基本支出 合计（一般公共预算基本支出按功能分类与按经济分类相等）",
        left={"measure": "budget", "source": "general", "period": "current", "kind": "basic", "code": True},
        right={"measure": "budget", "source": "general", "period": "current", "kind": "basic", "economic": True},
    ),
    Invariant(
        name="project-by-function-equals-project-by-project",
        statement="表十二 合计 = 表三 项目支出 合计（项目支出按功能分类与按项目相等）",
        left={"measure": "budget", "kind": "project", "code": True},
        right={"measure": "budget", "project": True},
        group_by=("source", "period"),
    ),
    # 决算 (final accounts)
    Invariant(
        name="final-basic-by-function-equals-basic-by-economic",
        statement="一般公共预算财政拨款基本支出决算：按功能分类合计 = 按经济分类合计（人员经费 + 公用经费）",
        left={"measure": "final", "flow": "expenditure", "source": "general", "kind": "basic", "code": True},
        right={"measure": "final", "flow": "expenditure", "source": "general", "kind": "basic", "economic": True},
    ),
    # The money of a year, on the function axis (the economic and 三公 axes count the same
    # expenditure again, so they are left out).
    Invariant(
        name="final-funds-balance",
        statement="收入支出决算：年初结转和结余 + 本年收入 + 使用非财政拨款结余 = 本年支出 + 结余分配 + 年末结转和结余",
        left={"measure": "final", "flow": ["opening", "income", "balance_use"], "economic": False,
              "three_public": False},
        right={"measure": "final", "flow": ["expenditure", "distribution", "closing"], "economic": False,
               "three_public": False},
    ),
    *(Invariant(
        name=f"final-fiscal-balance-{source}",
        statement=f"{label}财政拨款决算：年初结转和结余 + 本年收入 = 本年支出 + 年末结转和结余",
        left={"measure": "final", "source": source, "flow": ["opening", "income"], "economic": False,
              "three_public": False},
        right={"measure": "final", "source": source, "flow": ["expenditure", "closing"], "economic": False,
               "three_public": False},
    ) for source, label in (("general", "一般公共预算"), ("government_fund", "政府性基金预算"),
                            ("state_capital", "国有资本经营预算"))),
)


@dataclass(frozen=True)
class Violation:
    """A rule a change would break, in words a budget officer reads."""

    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


def invariant_sums(
    balances: Mapping[tuple[tuple[str, str], ...], Decimal], invariant: Invariant
) -> dict[tuple[str, ...], tuple[Decimal, Decimal]]:
    sums: dict[tuple[str, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for dims_t, amount in balances.items():
        dims = dict(dims_t)
        group = tuple(dims.get(g, "") for g in invariant.group_by)
        if matches(dims, invariant.left):
            sums[group][0] += amount
        if matches(dims, invariant.right):
            sums[group][1] += amount
    return {g: (a, b) for g, (a, b) in sums.items()}


def check_invariants(balances: Mapping[tuple[tuple[str, str], ...], Decimal]) -> list[Violation]:
    out = []
    for inv in INVARIANTS:
        for group, (left, right) in invariant_sums(balances, inv).items():
            if left != right:
                where = "".join(f"[{g}]" for g in group if g)
                out.append(
                    Violation(
                        inv.name,
                        f"违反勾稽关系 {inv.statement}{where}: 一边 {left} 元, 另一边 {right} 元, 相差 {left - right} 元",
                    )
                )
    return out


def check_line(line: Line) -> list[Violation]:
    """A budget line must name its axes completely, with codes the classifications know."""
    d = line.d
    out: list[Violation] = []
    if d.get("measure") not in ("budget", "final", "budget_stated"):
        return out
    code = d.get("code")
    if code is not None:
        catalogue = classification.functional()
        if len(code) != 7 or not code.isdigit():
            out.append(Violation("known-code", f"功能分类科目编码应为7位数字(项级): {code!r}"))
        elif code not in catalogue:
            out.append(Violation("known-code", f"未知的功能分类科目编码: {code}"))
    for dim, catalogue in (
        ("economic", classification.economic_departmental()),
        ("gov_economic", classification.economic_governmental()),
    ):
        value = d.get(dim)
        if value is not None and (value not in catalogue or len(value) != 5):
            out.append(Violation("known-code", f"未知的{catalogue.title}: {value!r}"))
    return out


def line_kind(line: Line) -> str:
    """What a line's money is: spending (the function and economic axes, projects), or a figure
    shown beside it: a “三公”经费 item (表十) or a 政府采购 category."""
    d = line.d
    if "three_public" in d:
        return "three_public"
    if "procurement" in d:
        return "procurement"
    return "spending"


LINE_KIND_WORDS = {"spending": "支出行", "three_public": "“三公”经费", "procurement": "政府采购"}

# The dimensions a command's “三公”经费 or 政府采购 line names: those of the figure as a document
# gives it (the import's marginals), so that it lands in the same cells (表十) and figures.
MEMO_DIMENSIONS = {"three_public": ("measure", "source", "three_public"), "procurement": ("measure", "procurement")}


def check_memo_line(line: Line) -> list[Violation]:
    """A “三公”经费 line names this year's budget, a fiscal source and the item; a 政府采购 line
    this year's budget and the category; nothing else (the spending is changed by a spending line)."""
    kind = line_kind(line)
    d = line.d
    out = []
    extra = [name for name in d if name not in MEMO_DIMENSIONS[kind]]
    if extra:
        out.append(Violation(f"{kind.replace('_', '-')}-line", (
            f"{LINE_KIND_WORDS[kind]}行只写明{'项目与财政拨款资金来源' if kind == 'three_public' else '采购品目'}, "
            f"不能同时写 {'、'.join(_DIM_WORDS.get(n, n) for n in extra)}; 支出本身请以支出行调整")))
    if d.get("measure") != "budget":
        out.append(Violation(f"{kind.replace('_', '-')}-line", f"{LINE_KIND_WORDS[kind]}行须为本年预算数 (measure budget)"))
    if kind == "three_public" and d.get("source") not in FISCAL_SOURCES:
        out.append(Violation("three-public-fiscal", (
            f"“三公”经费按财政拨款公开 (表十), 资金来源应为一般公共预算、政府性基金预算或国有资本经营预算, "
            f"不能是 {d.get('source')!r}")))
    return out


def check_native_line(line: Line) -> list[Violation]:
    """A line recorded by a command names every axis its money appears on (DESIGN §5); a
    “三公”经费 or 政府采购 line names its figure's axis (check_memo_line)."""
    if line_kind(line) != "spending":
        return check_memo_line(line)
    d = line.d
    missing = [name for name in ("source", "period", "code", "kind") if name not in d]
    if d.get("kind") == "basic":
        missing += [n for n in ("economic", "gov_economic", "cost") if n not in d]
    if d.get("kind") == "project" and "project" not in d:
        missing.append("project")
    out = check_line(line)
    if missing:
        out.append(
            Violation(
                "complete-line",
                "预算行需写明 " + "、".join(_DIM_WORDS.get(m, m) for m in missing)
                + "，否则表一至表六与表十二无法保持勾稽一致",
            )
        )
    return out


_DIM_WORDS = {
    "source": "资金来源",
    "period": "当年/上年结转",
    "code": "功能分类科目",
    "kind": "基本支出/项目支出",
    "economic": "部门经济分类",
    "gov_economic": "政府经济分类",
    "cost": "人员经费/公用经费",
    "project": "项目",
    "unit": "单位",
    "measure": "口径",
    "figure": "上年数项目",
}


def marginal_balances(
    balances: Mapping[tuple[tuple[str, str], ...], Decimal], lines: Iterable[Line]
) -> list[Violation]:
    """No figure a table shows may become negative through a change."""
    touched: dict[tuple[str, tuple[str, ...]], Decimal] = {}
    for line in lines:
        for axis in AXES:
            key = axis_key(line.d, axis)
            if key is not None:
                touched[(axis, key)] = Decimal(0)
    if not touched:
        return []
    for dims_t, amount in balances.items():
        dims = dict(dims_t)
        for axis in AXES:
            key = axis_key(dims, axis)
            if key is not None and (axis, key) in touched:
                touched[(axis, key)] += amount
    return [
        Violation("non-negative", f"调整后 {_describe(axis, key)} 为 {_negative(amount)}, 预算数不能为负")
        for (axis, key), amount in touched.items()
        if amount < 0
    ]


def _negative(amount: Decimal) -> str:
    """A negative amount in 万元, or in 元 when it would print as -0.00 万元."""
    if to_wan(amount) == 0:
        return f"{amount} 元"
    return f"{format_wan(amount, blank_zero=False)} 万元"


def _describe(axis: str, key: tuple[str, ...]) -> str:
    parts = dict(zip(AXES[axis], key, strict=True))
    words = []
    if "code" in parts:
        words.append(parts["code"])
    if "economic" in parts:
        words.append(
            classification.economic_departmental().names.get(parts["economic"], parts["economic"])
            + "/"
            + classification.economic_governmental().names.get(parts["gov_economic"], parts["gov_economic"])
        )
    for dim, labels in (
        ("kind", classification.KIND_LABELS),
        ("cost", classification.COST_LABELS),
        ("three_public", classification.THREE_PUBLIC_LABELS),
        ("procurement", {k: f"政府采购{v}" for k, v in classification.PROCUREMENT_LABELS.items()}),
        ("source", classification.SOURCE_LABELS),
    ):
        if dim in parts:
            words.append(labels.get(parts[dim], parts[dim]))
    if "project" in parts:
        words.append(f"项目「{parts['project']}」")
    return " ".join(words)


# Rules of a change, not equalities: “三公”经费 and 政府采购 are parts of the year's spending,
# so a change may not make them larger than it (nor widen an excess a document already had).
LIMITS: dict[str, str] = {
    "three-public-within-expenditure": "“三公”经费不超过同一资金来源的支出 (表十 ≤ 表四)",
    "procurement-within-expenditure": "政府采购预算不超过支出合计 (表三 合计)",
}
_SPENDING = {"measure": "budget", "code": True}


def _part_and_whole(balances: Mapping[tuple[tuple[str, str], ...], Decimal]) -> dict[str | None, list[Decimal]]:
    """[part, whole] per fiscal source (“三公”经费, spending of that source) and for None
    (政府采购, all spending), in one pass over the balances."""
    out: dict[str | None, list[Decimal]] = {s: [Decimal(0), Decimal(0)] for s in (*FISCAL_SOURCES, None)}
    for dims_t, amount in balances.items():
        dims = dict(dims_t)
        if dims.get("measure") != "budget":
            continue
        source = dims.get("source")
        if "code" in dims:
            out[None][1] += amount
            if source in FISCAL_SOURCES:
                out[source][1] += amount
        elif "three_public" in dims and source in FISCAL_SOURCES:
            out[source][0] += amount
        elif "procurement" in dims:
            out[None][0] += amount
    return out


def check_limits(before: Mapping[tuple[tuple[str, str], ...], Decimal],
                 after: Mapping[tuple[tuple[str, str], ...], Decimal], lines: Iterable[Line]) -> list[Violation]:
    """“三公”经费 of each fiscal source ≤ that source's spending; 政府采购 ≤ all spending. Only a
    change that raises the part against the whole is refused."""
    if not any(d.get("measure") == "budget" and ("code" in d or "three_public" in d or "procurement" in d)
               for d in (line.d for line in lines)):
        return []
    now = _part_and_whole(after)
    over = {k: v for k, v in now.items() if v[0] > 0 and v[0] > v[1]}
    if not over:
        return []
    was = _part_and_whole(before)
    out = []
    for source, (part, whole) in over.items():
        if part - whole <= was[source][0] - was[source][1]:
            continue  # an excess the budget had already, not widened by this change
        # In 万元 as printed, or in 元 when the two would print alike.
        in_yuan = to_wan(part) == to_wan(whole)
        shown_part, shown_whole = (f"{part} 元", f"{whole} 元") if in_yuan else (_amount_words(part), _amount_words(whole))
        if source is None:
            rule, words = "procurement-within-expenditure", f"政府采购预算 为 {shown_part}, 超过支出合计"
        else:
            label = classification.SOURCE_LABELS[source]
            rule, words = "three-public-within-expenditure", f"{label}“三公”经费 为 {shown_part}, 超过{label}支出"
        out.append(Violation(rule, f"调整后 {words} {shown_whole}: 违反 {LIMITS[rule]}"))
    return out


def _amount_words(amount: Decimal) -> str:
    """An amount in 万元, or in 元 when it would print as 0.00 万元."""
    if amount and to_wan(amount) == 0:
        return f"{amount} 元"
    return f"{format_wan(amount, blank_zero=False)} 万元"
