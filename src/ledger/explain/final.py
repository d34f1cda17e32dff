"""The 决算 explanation (第三部分 部门决算情况说明), computed from the events: what the year came
to, against last year (比上年) and against its budget (完成率).

Every figure is a sum of postings up to a point: this year's from the final measure, last
year's from prior_year postings (stated or implied by a document, or recorded), the budget
from the budget's own postings when the ledger holds its 年初预算 (as of that publication),
else from what the 决算 states (budget_stated); a completion rate says which it used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..domain import classification
from ..domain.postings import FISCAL_SOURCES
from .figures import PriorStatement, PriorYear, _compare, _shares, total
from .model import Comparison, Item, Money, Share
from .narrative import basis_note, disagreement

Sums = Mapping[tuple[tuple[str, str], ...], Decimal]

FINAL = {"measure": "final"}
EXPENDITURE = {**FINAL, "flow": "expenditure", "code": True}
INCOME = {**FINAL, "flow": "income", "code": True}
GENERAL = {**EXPENDITURE, "source": "general"}
FISCAL = list(FISCAL_SOURCES)

# The figures a 决算 narrative compares with last year's 决算: key → (label, this year's filter).
COMPARED: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "income_expenditure_total": ("收入支出总计", [
        {**FINAL, "flow": ["income", "balance_use", "opening"], "economic": False, "three_public": False}]),
    "fiscal_total": ("财政拨款收入支出总计", [
        {**FINAL, "flow": ["income", "opening"], "source": FISCAL, "economic": False, "three_public": False}]),
    "general_public_expenditure": ("一般公共预算财政拨款支出", [GENERAL]),
    "final_operating_cost": ("机关运行经费", [
        {**FINAL, "flow": "expenditure", "economic": True, "cost": "operating", "kind": "basic", "agency": True,
         "source": FISCAL}]),
    "final_three_public": ("“三公”经费财政拨款支出", [{**FINAL, "three_public": True}]),
}


def compared_values(sums: Sums, units: Sequence[dict[str, str]]) -> dict[str, Decimal]:
    """The figures a 决算 narrative compares with last year, of one budget's 决算 postings: what
    last year's 决算 gives as "上年数" to the year after."""
    agency = classification.agency_units(units)
    return {key: sum((total(sums, w, agency) for w in wheres), Decimal("0.00"))
            for key, (_label, wheres) in COMPARED.items()}


class Completion(BaseModel):
    """What was spent against what was budgeted."""

    key: str = Field(examples=["2010601"])
    label: str = Field(examples=["一般公共服务支出（类）财政事务（款）行政运行（项）"])
    budget: Money
    final: Money
    percent: str | None = Field(description="决算数/预算数, 两位小数, 四舍五入; 预算为零时为空", examples=["96.91"])
    basis: Literal["年初预算", "全年预算"] = "年初预算"
    source: Literal["recorded", "stated"] = Field(
        description="recorded: 账本中的年初预算 (发布节点「年初预算」); stated: 决算文件所列预算数")
    difference: Literal["小于", "等于", "大于"]


class FinalExplanation(BaseModel):
    department: str
    fiscal_year: int
    position: int | None = None
    totals: dict[str, Money]
    comparisons: list[Comparison]
    shares: list[Share]
    classes: list[Share] = Field(description="一般公共预算财政拨款支出按类")
    completions: list[Completion]
    three_public: list[Completion]
    procurement: list[Item]
    personnel: Money
    operating: Money

    def comparison(self, key: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.key == key), None)


def _rate(final: Decimal, budget: Decimal) -> str | None:
    if budget == 0:
        return None
    return f"{(final * 100 / budget).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"


def _completion(key: str, label: str, final: Decimal, budget: Decimal, source: str) -> Completion:
    # compared as printed (万元): 10.00 against 10.00 is 持平 whatever the 分 beneath
    printed_final, printed_budget = Money.of(final).wan, Money.of(budget).wan
    difference = ("等于" if printed_final == printed_budget else
                  "小于" if Decimal(printed_final) < Decimal(printed_budget) else "大于")
    return Completion(key=key, label=label, budget=Money.of(budget), final=Money.of(final),
                      percent=_rate(final, budget), source=source, difference=difference)


def item_label(code: str) -> str:
    names = classification.functional().names
    return f"{names[code[:3]]}（类）{names[code[:5]]}（款）{names[code]}（项）"


def explain_final(department: str, fiscal_year: int, position: int | None, sums: Sums,
                  units: Sequence[dict[str, str]], priors: Sequence[PriorStatement],
                  recorded_budget: Sums | None = None, ledger: PriorYear | None = None) -> FinalExplanation:
    """`recorded_budget`: the budget's own postings as of its 年初预算 publication, if the
    ledger holds one; the completion rates use it, else what the 决算 states. `ledger`: last
    year's own 决算 figures where the ledger holds them; the comparisons read them."""
    agency = classification.agency_units(units)
    t = lambda where: total(sums, where, agency)  # noqa: E731
    income = t({**FINAL, "flow": "income", "code": True})
    expenditure = t(EXPENDITURE)
    totals = {
        "income": income, "expenditure": expenditure,
        "opening": t({**FINAL, "flow": "opening"}), "closing": t({**FINAL, "flow": "closing"}),
        "balance_use": t({**FINAL, "flow": "balance_use"}), "distribution": t({**FINAL, "flow": "distribution"}),
        "basic": t({**EXPENDITURE, "kind": "basic"}), "project": t({**EXPENDITURE, "kind": "project"}),
        "general": t(GENERAL),
    }
    comparisons = []
    for key, (label, wheres) in COMPARED.items():
        current = sum((t(w) for w in wheres), Decimal("0.00"))
        totals[key] = current
        stated = [p for p in priors if p.figure == key]
        if stated or ledger is not None:
            comparisons.append(_compare(key, label, current, stated, fiscal_year, ledger))
    sources = [(s, classification.SOURCE_LABELS.get(s, s)) for s in (*FISCAL, "superior_subsidy", "business",
                                                                    "operating", "affiliated", "other")]
    income_parts = [("fiscal", "财政拨款收入", t({**INCOME, "source": FISCAL}))] + [
        (s, _INCOME_WORDS[s], t({**INCOME, "source": s})) for s, _label in sources[3:]]
    shares = _shares("income", [p for p in income_parts if p[2]], income)
    shares += _shares("kind", [(k, w, t({**EXPENDITURE, "kind": k})) for k, w in _KIND_WORDS.items()
                               if t({**EXPENDITURE, "kind": k})], expenditure)
    general = totals["general"]
    classes = _shares("class", [(code, name, t({**GENERAL, "code": f"{code}*"}))
                                for code, name in classification.functional_classes()
                                if t({**GENERAL, "code": f"{code}*"})], general)
    if general:
        shares.append(Share(group="general_of_expenditure", key="general", label="一般公共预算财政拨款支出",
                            amount=Money.of(general), total=Money.of(expenditure),
                            percent=f"{(general * 100 / expenditure).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"
                            if expenditure else "0.00"))

    def budget_of(where: dict[str, Any], stated: dict[str, Any]) -> tuple[Decimal, str]:
        if recorded_budget:
            return total(recorded_budget, where, agency), "recorded"
        return t(stated), "stated"

    completions = []
    amount, source = budget_of({"measure": "budget", "source": "general", "code": True},
                               {"measure": "budget_stated", "flow": "expenditure", "source": "general", "code": False})
    if amount or general:
        completions.append(_completion("general", "一般公共预算财政拨款支出", general, amount, source))
    items = sorted({dict(d)["code"] for d in sums if dict(d).get("measure") in ("final", "budget_stated")
                    and dict(d).get("source") == "general" and dict(d).get("flow") == "expenditure"
                    and len(dict(d).get("code", "")) == 7})
    for code in items:
        spent = t({**GENERAL, "code": code})
        amount, source = budget_of({"measure": "budget", "source": "general", "code": code},
                                   {"measure": "budget_stated", "flow": "expenditure", "source": "general",
                                    "code": code})
        completions.append(_completion(code, item_label(code), spent, amount, source))
    three = []
    for key, word in (("all", "“三公”经费"), *classification.THREE_PUBLIC_LABELS.items()):
        item = True if key == "all" else key
        spent = t({**FINAL, "three_public": item})
        amount, source = budget_of({"measure": "budget", "three_public": item, "source": FISCAL},
                                   {"measure": "budget_stated", "three_public": item})
        three.append(_completion(key, word, spent, amount, source))
    procurement = [Item(key=k, label=classification.PROCUREMENT_LABELS[k],
                        amount=Money.of(t({**FINAL, "procurement": k}))) for k in ("goods", "works", "services")]
    return FinalExplanation(
        department=department, fiscal_year=fiscal_year, position=position,
        totals={k: Money.of(v) for k, v in totals.items()}, comparisons=comparisons, shares=shares,
        classes=classes, completions=completions, three_public=three, procurement=procurement,
        personnel=Money.of(t({**FINAL, "flow": "expenditure", "source": "general", "economic": True,
                              "cost": "personnel"})),
        operating=Money.of(t({**FINAL, "flow": "expenditure", "source": "general", "economic": True,
                              "cost": "operating"})),
    )


_INCOME_WORDS = {"superior_subsidy": "上级补助收入", "business": "事业收入", "operating": "经营收入",
                 "affiliated": "附属单位上缴收入", "other": "其他收入"}
_KIND_WORDS = {"basic": "基本支出", "project": "项目支出", "remit": "上缴上级支出", "business_operation": "经营支出",
               "affiliated_subsidy": "对附属单位补助支出"}


def render(e: FinalExplanation) -> str:
    """The narrative's figures in the 决算 document's sentence patterns."""
    y, dept = e.fiscal_year, e.department
    out = [f"第三部分 {dept}{y}年度部门决算情况说明", "", "一、收入支出决算总体情况说明", ""]

    def compared(key: str, subject: str) -> str:
        c = e.comparison(key)
        if c is None:
            return ""
        if c.direction == "持平":
            return f"与{c.prior_year}年度相比，{subject}持平。"
        change = "增长" if c.direction == "增加" else "下降"
        text = f"与{c.prior_year}年度相比，{subject}{c.direction}{c.delta.wan}万元，{change}{c.percent}%{disagreement(c)}。"
        return text + (f"主要原因：{c.reason}。" if c.reason else "")

    total = e.totals["income_expenditure_total"].wan
    out.append(f"{dept}{y}年度收入支出总计{total}万元。" + compared("income_expenditure_total", "收入支出总计"))
    out += ["", "二、收入决算情况说明", ""]
    parts = [f"{s.label}{s.amount.wan}万元，占{s.percent}%" for s in e.shares if s.group == "income"]
    out.append(f"本年收入合计{e.totals['income'].wan}万元" + ("，其中：" + "；".join(parts) + "。" if parts else "。"))
    out += ["", "三、支出决算情况说明", ""]
    parts = [f"{s.label}{s.amount.wan}万元，占{s.percent}%" for s in e.shares if s.group == "kind"]
    out.append(f"本年支出合计{e.totals['expenditure'].wan}万元" + ("，其中：" + "；".join(parts) + "。" if parts else "。"))
    out += ["", "四、财政拨款收入支出决算总体情况说明", ""]
    out.append(f"{dept}{y}年度财政拨款收入支出总计{e.totals['fiscal_total'].wan}万元。"
               + compared("fiscal_total", "财政拨款收入支出总计"))
    out += ["", "五、一般公共预算财政拨款支出决算情况说明", ""]
    general = e.totals["general"]
    share = next((s for s in e.shares if s.group == "general_of_expenditure"), None)
    out.append(f"一般公共预算财政拨款支出{general.wan}万元" + (f"，占本年支出合计的{share.percent}%" if share else "")
               + "。" + compared("general_public_expenditure", "一般公共预算财政拨款支出"))
    if e.classes:
        out.append(f"一般公共预算财政拨款支出{general.wan}万元，主要用于以下方面："
                   + "；".join(f"{s.label}（类）{s.amount.wan}万元，占{s.percent}%" for s in e.classes) + "。")
    whole = next((c for c in e.completions if c.key == "general"), None)
    if whole is not None and whole.budget.value:
        out.append(f"一般公共预算财政拨款支出年初预算为{whole.budget.wan}万元，支出决算为{whole.final.wan}万元，"
                   f"完成年初预算的{whole.percent}%。")
        for n, c in enumerate((c for c in e.completions if c.key != "general"), start=1):
            relation = "决算数与预算数基本持平" if c.difference == "等于" else f"决算数{c.difference}预算数"
            out.append(f"{n}、{c.label}。年初预算为{c.budget.wan}万元，支出决算为{c.final.wan}万元。{relation}。")
    out += ["", "六、一般公共预算财政拨款基本支出决算情况说明", ""]
    out.append(f"一般公共预算财政拨款基本支出{e.totals['basic'].wan}万元。其中：人员经费{e.personnel.wan}万元；"
               f"公用经费{e.operating.wan}万元。")
    out += ["", "七、财政拨款“三公”经费支出决算情况说明", ""]
    three = e.three_public[0]
    if three.budget.value or three.final.value:
        rate = f"，完成预算的{three.percent}%" if three.percent is not None else ""
        out.append(f"“三公”经费财政拨款支出年初预算为{three.budget.wan}万元，支出决算为{three.final.wan}万元{rate}。")
    c = e.comparison("final_three_public")
    if c is not None:
        out.append(f"{y}年度“三公”经费财政拨款支出决算数" + (f"与{c.prior_year}年度持平。" if c.direction == "持平" else
                   f"比{c.prior_year}年度{c.direction}{c.delta.wan}万元{disagreement(c)}。"))
    out += ["", "八、其他重要事项的情况说明", ""]
    cost = e.totals["final_operating_cost"]
    c = e.comparison("final_operating_cost")
    if c is not None and c.direction != "持平":
        change = "增长" if c.direction == "增加" else "下降"
        out.append(f"机关运行经费支出{cost.wan}万元，比{c.prior_year}年度{c.direction}{c.delta.wan}万元，"
                   f"{change}{c.percent}%{disagreement(c)}。"
                   + (f"主要原因是{c.reason}。" if c.reason else ""))
    elif cost.value:
        out.append(f"机关运行经费支出{cost.wan}万元。")
    procured = sum((i.amount.value for i in e.procurement), Decimal("0.00"))
    if procured:
        goods, works, services = (i.amount.wan for i in e.procurement)
        out.append(f"{dept}{y}年度政府采购金额为{Money.of(procured).wan}万元，其中：货物采购金额{goods}万元、"
                   f"工程采购金额{works}万元、服务采购金额{services}万元。")
    note = basis_note(e.comparisons)
    if note:
        out += ["", *note[:1]]
    return "\n".join(out) + "\n"
