"""项目支出绩效目标表: one per project, amounts in 元, indicators in three levels.

The printed layout of these forms is irregular (merged cells shift columns from one form
to the next), so the reader keeps every indicator row as printed, with its line, and
takes the structured fields it can find reliably: name, unit, attribute, period, the
annual and whole-period funding (元), and the overall targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from ..domain.money import AmountError, yuan
from .errors import Problem

_HEADING = "项目支出绩效目标表"
# ASCII digits, optional thousands separators, at most two decimals (分).
_YUAN = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$", re.ASCII)
_FIELDS = ("项目概况", "立项依据", "项目设立必要性", "保证项目实施的制度、措施", "项目实施计划")


@dataclass
class PerformanceTable:
    line: int
    name: str = ""
    department_code: str = ""
    unit: str = ""
    attribute: str = ""
    period: str = ""
    annual_amount: Decimal | None = None
    total_amount: Decimal | None = None
    fields: dict[str, str] = field(default_factory=dict)
    goals: dict[str, str] = field(default_factory=dict)
    indicators: list[dict[str, object]] = field(default_factory=list)

    def targets(self) -> dict[str, object]:
        return {
            "department_code": self.department_code,
            "attribute": self.attribute,
            "period": self.period,
            "total_amount": str(self.total_amount) if self.total_amount is not None else None,
            "fields": self.fields,
            "goals": self.goals,
            "indicators": self.indicators,
            "line": self.line,
        }


def _after(cells: list[str], label: str) -> str | None:
    for i, cell in enumerate(cells):
        if cell.rstrip("：:").replace(" ", "") == label.rstrip("：:").replace(" ", ""):
            for nxt in cells[i + 1:]:
                if nxt:
                    return nxt
            return ""
    return None


def _amount(text: str | None, line: int, what: str, problems: list[Problem]) -> Decimal | None:
    if text is None:
        return None
    if text.strip().startswith(("-", "−")):
        problems.append(Problem(line, f"绩效目标表 {what} 不能为负数「{text}」"))
        return None
    try:
        if not _YUAN.match(text.strip()):
            raise AmountError(text)
        return yuan(text.replace(",", ""))
    except AmountError:
        problems.append(Problem(line, f"绩效目标表 {what} 不是金额(元)「{text}」"))
        return None


def parse_performance(lines: list[str], start: int, problems: list[Problem]) -> list[PerformanceTable]:
    """Every performance-target table from line `start` (1-based) on."""
    tables: list[PerformanceTable] = []
    current: PerformanceTable | None = None
    in_indicators = False
    amount_printed: set[int] = set()  # tables whose annual amount is printed (valid or not)
    for number in range(start, len(lines) + 1):
        raw = lines[number - 1]
        text = raw.strip()
        if _HEADING in text and "\t" not in raw:
            current = PerformanceTable(line=number)
            tables.append(current)
            in_indicators = False
            continue
        if current is None or not text:
            continue
        if re.match(r"^#{1,3}\s*(十一|第四部分)", text):
            current = None
            continue
        cells = [c.strip() for c in raw.split("\t")]
        head = cells[0].replace(" ", "")
        if head == "项目名称":
            current.name = _after(cells, "项目名称") or ""
        elif head.startswith("主管部门及代码"):
            current.department_code = _after(cells, "主管部门及代码") or ""
            current.unit = _after(cells, "实施单位") or ""
        elif head == "项目属性":
            current.attribute = _after(cells, "项目属性") or ""
            current.period = _after(cells, "项目期") or ""
        elif head.startswith("项目资金"):
            if _after(cells, "年度资金总额：") is not None:
                amount_printed.add(current.line)
            current.total_amount = _amount(_after(cells, "实施期资金总额："), number, "实施期资金总额", problems)
            current.annual_amount = _amount(_after(cells, "年度资金总额："), number, "年度资金总额", problems)
        elif head in _FIELDS:
            current.fields[head] = _after(cells, cells[0]) or ""
        elif head == "总体目标":
            values = [c for c in cells[1:] if c]
            current.goals = {"实施期目标": values[0] if values else "",
                             "年度目标": values[1] if len(values) > 1 else (values[0] if values else "")}
        elif "一级指标" in cells:
            in_indicators = True
        elif head.startswith("负责人"):
            in_indicators = False
        elif in_indicators:
            values = [c for c in cells if c]
            if values:
                current.indicators.append({"line": number, "cells": values})
    first: dict[str, int] = {}
    for table in tables:
        if table.name in first:
            problems.append(Problem(table.line,
                                    f"项目「{table.name}」的绩效目标表重复出现 (第{first[table.name]}行已有)"))
        first.setdefault(table.name, table.line)
        if not table.name:
            problems.append(Problem(table.line, "绩效目标表缺少项目名称"))
        if table.annual_amount is None and table.line not in amount_printed:
            problems.append(Problem(table.line, f"绩效目标表「{table.name}」缺少年度资金总额"))
    return tables
