"""The words a step may contain, as typed fields of step patterns (parse library)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from parse import with_pattern
from pytest_bdd import parsers


@with_pattern(r"-?[\d,]+\.\d{2}")
def wan(text: str) -> Decimal:
    """A figure in 万元 as printed, two decimals: 1802.52, 1,463.25."""
    return Decimal(text.replace(",", ""))


@with_pattern(r"[^「」]+")
def label(text: str) -> str:
    """What stands inside 「」: a row, a column, a project, a budget line."""
    return text


@with_pattern(r"表[一二三四五六七八九十]+")
def table(text: str) -> str:
    return text


@with_pattern(r'[^"]*')
def quoted(text: str) -> str:
    return text


@with_pattern(r"-?[\d,]+(?:\.\d+)?(?:万元|元)")
def amount(text: str) -> str:
    """An amount as a budget officer writes it (10万元, -20万元, 12345.67元); the command
    itself reads it."""
    return text


@with_pattern(r"\d{4}-\d{2}-\d{2}")
def iso_date(text: str) -> date:
    return date.fromisoformat(text)


@with_pattern(r"「[^「」]+」(?:[与、]「[^「」]+」)*")
def columns(text: str) -> list[str]:
    """「基本支出」与「项目支出」 → ['基本支出', '项目支出']."""
    return [part.split("」", 1)[0] for part in text.split("「")[1:]]


@with_pattern(r"各类|各款|各项|各经济分类|各明细科目")
def level(text: str) -> str:
    return text


TYPES = {"Wan": wan, "L": label, "T": table, "Q": quoted, "Amount": amount, "Date": iso_date, "Cols": columns,
         "Level": level}


def step(text: str) -> parsers.parse:
    """A step pattern that may use the types above: {x:Wan}, {x:L}, {x:T}, {x:Q}, {x:Amount},
    {x:Date}, {x:Cols}, {x:Level}."""
    return parsers.parse(text, extra_types=TYPES)
