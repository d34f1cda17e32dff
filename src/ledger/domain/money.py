"""Money is an exact Decimal in 元 with two places (分). 万元 appear only when rendering."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

FEN = Decimal("0.01")
WAN = Decimal(10000)
ZERO = Decimal("0.00")

# Largest amount accepted in one figure: 10^12 元 (a trillion) is far beyond any department.
MAX_YUAN = Decimal("1000000000000")


class AmountError(ValueError):
    """An amount that is not a valid sum of money."""


def yuan(value: Decimal | int | str) -> Decimal:
    """An exact amount in 元, checked to have at most two decimal places."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise AmountError(f"不是金额: {value!r}") from None
    if not amount.is_finite():
        raise AmountError(f"不是金额: {value!r}")
    # The range first (copy_abs is exact): quantizing 27 digits or more to 分 exceeds the
    # decimal context's precision (28 digits) and would raise InvalidOperation instead.
    if amount.copy_abs() > MAX_YUAN:
        raise AmountError(f"金额超出范围 (最多 {MAX_YUAN:,} 元): {value!r}")
    if amount != amount.quantize(FEN):
        raise AmountError(f"金额最多两位小数(分): {value!r}")
    return amount.quantize(FEN)


def wan_to_yuan(value: Decimal | str) -> Decimal:
    """A printed 万元 figure (two decimals) as the 元 amount it names."""
    text = str(value)
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, len(text) + 5)  # exact: a long figure is not rounded into range
        return yuan(Decimal(text) * WAN)


# How an amount is written in a command: 元, optionally with 分, or 万元 (also in the API schema).
AMOUNT_PATTERN = r"^\s*(-?[\d,]+(?:\.\d+)?)\s*(万元|万|元)?\s*$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


def parse_amount(text: str) -> Decimal:
    """Parse '100000', '100000.50', '10万元', '10万' or '1,000元' into 元."""
    match = _AMOUNT.match(text)
    if not match:
        raise AmountError(f"不是金额: {text!r} (写作 100000、100000.50元 或 10万元)")
    number, unit = match.groups()
    if unit in ("万元", "万"):
        try:
            return wan_to_yuan(number.replace(",", ""))
        except AmountError as exc:
            raise AmountError(str(exc).split(":")[0] + f": {text!r}") from None
    return yuan(number)


def to_wan(amount: Decimal) -> Decimal:
    """Round an exact 元 amount to 万元 with two places, half-up: the one rounding step."""
    return (amount / WAN).quantize(FEN, rounding=ROUND_HALF_UP)


def format_wan(amount: Decimal, *, blank_zero: bool = True, thousands: bool = False) -> str:
    """Render 元 as 万元 text, as the tables print it: two decimals, empty for zero."""
    if blank_zero and amount == 0:
        return ""
    value = to_wan(amount)
    return f"{value:,.2f}" if thousands else f"{value:.2f}"


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """A percentage with two places, half-up, from exact amounts."""
    if whole == 0:
        return ZERO
    return (part * 100 / whole).quantize(FEN, rounding=ROUND_HALF_UP)
