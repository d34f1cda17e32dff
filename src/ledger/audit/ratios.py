"""Is a printed percentage what its printed amounts give, and if not, can rounding explain it?

A narrative prints amounts rounded to 0.01万元 (the exact amount is within half a place of the
printed one) and a percentage rounded to its own places. Field checkers allow a fixed 0.1;
here the question is exact: is there a pair of amounts, each within half a place of what is
printed, whose ratio rounds to the printed percentage? If so the difference is 尾差 (and the
pair found says which amounts explain it); if not, it is an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

Ratio = Callable[[Decimal, Decimal], Decimal]  # (numerator-ish amount, other amount) → percent
WAN = Decimal(10000)
YUAN = Decimal("0.0001")  # 1 元 in 万元


def places(printed: str) -> int:
    return len(printed.split(".")[1]) if "." in printed else 0


def half_place(printed: Decimal) -> Decimal:
    """Half of the last printed place of an amount in 万元 (at least 0.005: narratives drop
    trailing zeros, 「6.2万元」 stands for 6.20)."""
    exponent = printed.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(Decimal("0.005"), Decimal(1).scaleb(exponent) / 2)


@dataclass(frozen=True)
class Verdict:
    computed: Decimal  # the percentage from the printed amounts, rounded as printed
    exact: Decimal  # the same, unrounded
    ok: bool  # printed == computed
    explained: bool  # not ok, but some amounts within rounding give the printed percentage
    truncated: bool  # printed == the unrounded figure cut off (not rounded) at the printed places
    example: tuple[Decimal, Decimal] | None = None  # amounts (万元) that explain it


def check(ratio: Ratio, a: Decimal, b: Decimal, printed: str) -> Verdict | None:
    """The verdict on `printed` (a percentage as printed) for ratio(a, b); None when the
    ratio is undefined (a zero base)."""
    q = Decimal(1).scaleb(-places(printed))
    target = Decimal(printed)
    try:
        exact = ratio(a, b)
    except (ZeroDivisionError, InvalidOperation):
        return None
    computed = exact.quantize(q, rounding=ROUND_HALF_UP)
    truncated = exact.quantize(q, rounding=ROUND_DOWN) == target and computed != target
    if computed == target:
        return Verdict(computed, exact, True, False, False)
    ha, hb = half_place(a), half_place(b)
    example = _explain(ratio, a, b, ha, hb, target, q)
    return Verdict(computed, exact, False, example is not None, truncated, example)


def _explain(ratio: Ratio, a: Decimal, b: Decimal, ha: Decimal, hb: Decimal, target: Decimal,
             q: Decimal) -> tuple[Decimal, Decimal] | None:
    """Amounts within half a printed place of a and b (to the 元) whose ratio rounds to target:
    the pair nearest the printed amounts."""
    lo, hi = target - q / 2, target + q / 2
    corners = []
    for da in (-ha, ha):
        for db in (-hb, hb):
            try:
                corners.append(ratio(a + da, b + db))
            except (ZeroDivisionError, InvalidOperation):
                pass
    if not corners or max(corners) < lo or min(corners) >= hi:
        return None
    steps_a, steps_b = int(ha / YUAN), int(hb / YUAN)
    offsets_a = sorted(range(-steps_a, steps_a), key=abs)
    offsets_b = sorted(range(-steps_b, steps_b), key=abs)
    for oa in offsets_a:
        for ob in offsets_b:
            x, y = a + oa * YUAN, b + ob * YUAN
            try:
                if ratio(x, y).quantize(q, rounding=ROUND_HALF_UP) == target:
                    return x, y
            except (ZeroDivisionError, InvalidOperation):
                continue
    return None


def share(part: Decimal, total: Decimal) -> Decimal:
    return part * 100 / total


def increase(delta: Decimal, current: Decimal) -> Decimal:
    """增长率 of an increase: delta over last year's (current − delta)."""
    return delta * 100 / (current - delta)


def decrease(delta: Decimal, current: Decimal) -> Decimal:
    return delta * 100 / (current + delta)


def yuan(wan: Decimal) -> str:
    return f"{(wan * WAN).quantize(Decimal('0.01')):,}元"
