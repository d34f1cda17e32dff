"""What a 决算 narrative (第三部分 部门决算情况说明) states beyond its tables: last year's figures
(「与2023年度相比，收入支出总计减少56.95万元，下降1.87%」 implies 2023's), the budget it
compares the year with (「年初预算为1560.05万元，支出决算为1511.89万元」), the 三公 budget and
government procurement. Each statement keeps the character span of its figures in the flow,
so that a message (and an audit) can show it on its page.

Figures are checked against the tables by the planner (final.py), not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ..domain import classification
from .source import Location, TextFlow

NUM = r"(\d[\d,]*(?:\.\d+)?)"


def _d(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


@dataclass(frozen=True)
class Stated:
    """One statement of the narrative: what it names, the figures it prints, where."""

    figure: str  # income_expenditure_total | fiscal_total | general_public_expenditure | operating_cost |
    #              three_public | budget_general | budget_item | budget_three_public | procurement
    current_wan: Decimal  # this year's figure as printed
    sentence: str
    start: int  # the sentence's span in the flow
    end: int
    prior_wan: Decimal | None = None  # last year's, as implied
    prior_year: int | None = None  # the year the sentence compares with
    direction: str | None = None  # 增加 | 减少 | 持平
    delta_wan: Decimal | None = None
    percent: str | None = None  # as printed
    reason: str | None = None
    budget_wan: Decimal | None = None  # 年初预算 stated beside the 决算
    code: str | None = None  # the functional item a budget statement names
    parts: tuple[Decimal, ...] = ()  # procurement: goods, works, services


@dataclass
class FinalNarrative:
    statements: list[Stated]
    flow: TextFlow
    start: int  # where 第三部分 begins in the flow
    unresolved: list[tuple[str, int, int]]  # item sentences whose names match no code

    def locate(self, s: Stated) -> Location:
        found = self.flow.locate(s.start, s.end)
        return found[0] if found else self.flow.location_at(s.start)


_CHANGE = (r"与(\d{4})年度?(?:相比|比较)，(?:{label})?(?:(增加|减少)" + NUM + r"万元，(?:增长|下降)" + NUM
           + r"%|(持平))(?:[。，]主要原因[是：:]?([^。]*))?")
_TOTALS = (
    ("income_expenditure_total", "收入支出总计"),
    ("fiscal_total", "财政拨款收入支出总计"),
    ("general_public_expenditure", "一般公共预算财政拨款支出"),
)


def parse(flow: TextFlow) -> FinalNarrative:
    text = flow.text
    start = _part_three(text)
    body = text[start:]
    out: list[Stated] = []
    for figure, label in _TOTALS:
        pattern = (rf"(?<!财政拨款)(?<!“)(?<![、；]){label}" + NUM + r"万元[^。]{0,80}?。" +
                   _CHANGE.replace("{label}", label))
        if figure == "income_expenditure_total":
            pattern = r"(?<!财政拨款)" + pattern
        for m in re.finditer(pattern, body):
            current = _d(m.group(1))
            year, direction, delta, pct, flat, reason = m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)
            out.append(_change(figure, current, m, start, year, direction or flat, delta, pct, reason))
            break
    m = re.search(r"机关运行经费支出" + NUM + r"万元，比(\d{4})年度?(增加|减少)" + NUM + r"万元，(?:增长|下降)" + NUM
                  + r"%(?:[。，]主要原因[是：:]?([^。]*))?", body)
    if m:
        out.append(_change("operating_cost", _d(m.group(1)), m, start, m.group(2), m.group(3), m.group(4),
                           m.group(5), m.group(6)))
    m = re.search(r"(\d{4})年度?“?三公”?经费财政拨款支出决算数?与(\d{4})年度?持平", body)
    if m:
        out.append(Stated("three_public", Decimal(0), m.group(0), start + m.start(), start + m.end(),
                          prior_year=int(m.group(2)), direction="持平"))
    else:
        m = re.search(r"(\d{4})年度?“?三公”?经费财政拨款支出决算数?比(\d{4})年度?(增加|减少)" + NUM + r"万元", body)
        if m:
            out.append(Stated("three_public", Decimal(0), m.group(0), start + m.start(), start + m.end(),
                              prior_year=int(m.group(2)), direction=m.group(3), delta_wan=_d(m.group(4))))
    m = re.search(r"一般公共预算财政拨款支出年初预算为" + NUM + r"万元，支出决算为" + NUM + r"万元，完成年初预算的" + NUM + "%",
                  body)
    if m:
        out.append(Stated("budget_general", _d(m.group(2)), m.group(0), start + m.start(), start + m.end(),
                          budget_wan=_d(m.group(1)), percent=m.group(3)))
    unresolved = []
    for m in re.finditer(r"(?:^|\n)\d+、([^（\n]+)（类）([^（\n]+)（款）([^（\n]+)（项）。[^\n]{0,300}?年初预算为" + NUM
                         + r"万元，支出决算为" + NUM + "万元", body):
        code = _item_code(m.group(1), m.group(2), m.group(3))
        if code is None:
            unresolved.append((m.group(0).strip(), start + m.start(), start + m.end()))
            continue
        out.append(Stated("budget_item", _d(m.group(5)), m.group(0).strip(), start + m.start(), start + m.end(),
                          budget_wan=_d(m.group(4)), code=code))
    m = re.search(r"“?三公”?经费财政拨款支出年初预算为" + NUM + r"万元，支出决算为" + NUM + r"万元，完成预算的" + NUM + "%",
                  body)
    if m:
        out.append(Stated("budget_three_public", _d(m.group(2)), m.group(0), start + m.start(), start + m.end(),
                          budget_wan=_d(m.group(1)), percent=m.group(3)))
    m = re.search(r"政府采购金额(?:（[^）]*）)?为" + NUM + r"万元，其中：货物采购金额" + NUM + r"万元、工程采购金额" + NUM
                  + r"万元、服务采购金额" + NUM + "万元", body)
    if m:
        out.append(Stated("procurement", _d(m.group(1)), m.group(0), start + m.start(), start + m.end(),
                          parts=(_d(m.group(2)), _d(m.group(3)), _d(m.group(4)))))
    return FinalNarrative(out, flow, start, unresolved)


def _change(figure: str, current: Decimal, m: re.Match, offset: int, year: str | None, direction: str | None,
            delta: str | None, pct: str | None, reason: str | None) -> Stated:
    change = _d(delta) if delta else Decimal(0)
    prior = current if direction in (None, "持平") else (current - change if direction == "增加" else current + change)
    return Stated(figure, current, m.group(0), offset + m.start(), offset + m.end(), prior_wan=prior,
                  prior_year=int(year) if year else None, direction=direction, delta_wan=change if delta else None,
                  percent=pct, reason=(reason or "").strip() or None)


def _part_three(text: str) -> int:
    """Where the narrative begins: the last 「第三部分」 heading (the first is the contents)."""
    found = [m.start() for m in re.finditer(r"第三部分", text)]
    return found[-1] if found else 0


def _item_code(class_name: str, section_name: str, item_name: str) -> str | None:
    """A 项 code from the names of its 类, 款 and 项 (as the narrative writes them)."""
    names = classification.functional().names
    for code, name in names.items():
        if len(code) == 7 and name == item_name.strip() and names.get(code[:5]) == section_name.strip() \
                and names.get(code[:3]) == class_name.strip():
            return code
    return None
