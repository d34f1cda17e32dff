"""Figures the narrative (第三部分 情况说明) states or implies about last year, and the few
facts it adds to the tables (government procurement, the kind of unit).

Last year's figures are implied by sentences such as 「比上年增加12.46万元，增长0.70%」:
the prior figure is this year's printed figure minus the printed change. The stated
percentage is checked against it (check_percent), so a narrative that contradicts itself is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .errors import Problem

_NUM = r"([\d,]+(?:\.\d+)?)"
_SEP = r"[，,]"
# Gaps between a label and its figure are bounded ({0,200}): an unbounded lazy gap makes a
# long line without 。 cost quadratic time, and a 5 MB line of repeated labels would hang.


@dataclass(frozen=True)
class PriorFigure:
    figure: str  # income_total | expenditure_total | general_public_current | operating_cost | three_public
    item: str | None  # three_public item
    current_wan: Decimal  # this year's figure as the sentence prints it
    prior_wan: Decimal
    percent: str | None  # as printed, e.g. "0.70"
    reason: str | None
    line: int
    sentence: str


@dataclass(frozen=True)
class Procurement:
    goods: Decimal
    works: Decimal
    services: Decimal
    total: Decimal
    line: int
    sentence: str


@dataclass
class Narrative:
    priors: list[PriorFigure]
    procurement: Procurement | None
    unit_category: str | None


def _d(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _prior(current: Decimal, direction: str | None, delta: str | None) -> Decimal:
    if direction in (None, "持平", "相同"):
        return current
    change = _d(delta or "0")
    return current - change if direction == "增加" else current + change


_FIGURE_LABELS = {"income_total": "预算收入总计", "expenditure_total": "部门预算支出总计",
                  "general_public_current": "一般公共预算当年支出", "operating_cost": "机关运行经费"}


def check_percent(p: PriorFigure, problems: list[Problem]) -> None:
    """The stated growth rate must follow from the stated amounts (checked once the amounts
    themselves agree with the tables, so that one wrong figure gives one message)."""
    if p.percent is None or p.prior_wan == 0:
        return
    places = len(p.percent.split(".")[1]) if "." in p.percent else 0
    computed = (abs(p.current_wan - p.prior_wan) * 100 / p.prior_wan).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if computed != Decimal(p.percent):
        problems.append(Problem(p.line, f"{_FIGURE_LABELS.get(p.figure, p.figure)}: 写的是{p.percent}%, "
                                        f"由金额算得{computed}%"))


# A bracket after the percentage (the ledger's note that the stated prior figure disagrees with
# last year's own events) is passed over: the reason after it is still the reason.
_CHANGE = (rf"比(?:上年|\d{{4}}年预算)(增加|减少){_NUM}万元{_SEP}(增长|下降){_NUM}%(?:（[^）]{{0,200}}）)?"
           rf"(?:{_SEP}(?:主要)?原因是([^；;。]+))?")


def parse_narrative(lines: list[str], start: int, problems: list[Problem]) -> Narrative:
    priors: list[PriorFigure] = []
    procurement = None
    unit_category = None
    for number in range(start, len(lines) + 1):
        text = lines[number - 1].strip()
        if not text:
            continue
        for label, figure in (("预算收入总计", "income_total"), ("部门预算支出总计", "expenditure_total")):
            m = re.search(rf"{label}{_NUM}万元[^；;。]{{0,200}}?{_CHANGE}", text)
            if m:
                current = _d(m.group(1))
                prior = _prior(current, m.group(2), m.group(3))
                priors.append(PriorFigure(figure, None, current, prior, m.group(5), m.group(6), number, m.group(0)))
        m = re.search(rf"一般公共预算当年支出{_NUM}万元{_SEP}{_CHANGE}", text)
        if m:
            current = _d(m.group(1))
            prior = _prior(current, m.group(2), m.group(3))
            priors.append(PriorFigure("general_public_current", None, current, prior, m.group(5), m.group(6),
                                      number, m.group(0)))
        m = re.search(rf"机关运行经费[^，,。]{{0,100}}?预算{_NUM}万元{_SEP}{_CHANGE}", text)
        if m:
            current = _d(m.group(1))
            prior = _prior(current, m.group(2), m.group(3))
            priors.append(PriorFigure("operating_cost", None, current, prior, m.group(5), m.group(6), number,
                                      m.group(0)))
        m = re.search(rf"[“\"]三公[”\"]经费预算{_NUM}万元(?:与(\d{{4}})年预算数相同|比(?:上年|\d{{4}}年预算)(增加|减少){_NUM}万元)", text)
        if m:
            current = _d(m.group(1))
            direction = "相同" if m.group(2) else m.group(3)
            priors.append(PriorFigure("three_public", None, current, _prior(current, direction, m.group(4)), None,
                                      None, number, m.group(0)))
            for im in re.finditer(
                rf"(因公出国[(（]境[)）]费|公务接待费|公务用车运行维护费|公务用车购置费){_NUM}万元{_SEP}"
                rf"(?:与上年预算数相同|比上年(增加|减少){_NUM}万元)",
                text,
            ):
                item = {"公务接待费": "reception", "公务用车运行维护费": "vehicle_operation",
                        "公务用车购置费": "vehicle_purchase"}.get(im.group(1), "overseas")
                cur = _d(im.group(2))
                priors.append(PriorFigure("three_public", item, cur, _prior(cur, im.group(3), im.group(4)), None,
                                          None, number, im.group(0)))
        m = re.search(rf"政府采购预算总额{_NUM}万元。其中：政府采购货物预算{_NUM}万元、政府采购工程预算{_NUM}万元、"
                      rf"政府采购服务预算{_NUM}万元", text)
        if m:
            total, goods, works, services = (_d(m.group(i)) for i in range(1, 5))
            if goods + works + services != total:
                problems.append(Problem(number, f"政府采购: 货物{goods}+工程{works}+服务{services} ≠ 总额{total}万元"))
            procurement = Procurement(goods, works, services, total, number, m.group(0))
        m = re.search(r"所属\d+家(参公|行政)单位", text)
        if m:
            unit_category = "参公事业单位" if m.group(1) == "参公" else "行政单位"
    return Narrative(priors, procurement, unit_category)
