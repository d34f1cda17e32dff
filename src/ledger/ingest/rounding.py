"""尾差: find exact 元 amounts for the printed leaves that reproduce every printed cell.

Each printed cell v (万元, two places) says only that the exact amount lies in
[v − 0.005, v + 0.005) 万元. The unknowns are the leaves' deviations from their printed
values, in 分; every printed cell bounds the sum of the leaves under it; cross-axis rules
(DESIGN §3) and the exact project amounts of the performance-target tables are equalities.
The smallest total deviation is found with an integer program (scipy's HiGHS). When no
amounts exist, a second program with elastic cells names the cells that conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal


FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 元 = 1,000,000 分
HALF = 5_000  # 0.005 万元 in 分


@dataclass(frozen=True)
class CellBound:
    """A printed cell: the sum of `leaves` must round (half-up) to `printed` 万元."""

    name: str  # how to name the cell to a person: 表三 210 卫生健康支出 合计 (line 157)
    printed: Decimal
    leaves: tuple[int, ...]


@dataclass(frozen=True)
class Equality:
    """An exact relation: Σ left − Σ right = constant (元)."""

    name: str
    left: tuple[int, ...]
    right: tuple[int, ...] = ()
    constant: Decimal = Decimal(0)


@dataclass
class Solution:
    amounts: list[Decimal]  # exact 元 per leaf
    adjusted: list[int] = field(default_factory=list)  # leaves moved off their printed value
    rounding_cells: list[str] = field(default_factory=list)  # cells whose printed parts do not add up
    conflicts: list[str] = field(default_factory=list)  # empty when a solution exists


def _fen(wan: Decimal) -> int:
    return int(wan * FEN_PER_WAN)


def _range(printed: Decimal) -> tuple[int, int]:
    if printed == 0:
        return 0, 0
    centre = _fen(printed)
    return centre - HALF, centre + HALF - 1


def solve(printed_leaves: Sequence[Decimal], cells: Sequence[CellBound], equalities: Sequence[Equality]) -> Solution:
    n = len(printed_leaves)
    base = [_fen(v) for v in printed_leaves]
    rounding_cells = [c.name for c in cells if not (_range(c.printed)[0] <= sum(base[i] for i in c.leaves) <= _range(c.printed)[1])]

    rows: list[tuple[dict[int, int], int, int, str]] = []
    for cell in cells:
        lo, hi = _range(cell.printed)
        offset = sum(base[i] for i in cell.leaves)
        coeffs: dict[int, int] = {}
        for i in cell.leaves:
            coeffs[i] = coeffs.get(i, 0) + 1
        rows.append((coeffs, lo - offset, hi - offset, cell.name))
    for eq in equalities:
        coeffs = {}
        for i in eq.left:
            coeffs[i] = coeffs.get(i, 0) + 1
        for i in eq.right:
            coeffs[i] = coeffs.get(i, 0) - 1
        target = int(eq.constant * 100) - sum(base[i] for i in eq.left) + sum(base[i] for i in eq.right)
        rows.append((coeffs, target, target, eq.name))

    deviations = _minimal_deviation(n, rows)
    if deviations is None:
        return Solution([], [], rounding_cells, _conflicts(n, rows))
    amounts = [Decimal(base[i] + deviations[i]) / 100 for i in range(n)]
    # Never trust floating point: check every bound again in integers.
    for coeffs, lo, hi, name in rows:
        value = sum(k * deviations[i] for i, k in coeffs.items())
        if not lo <= value <= hi:
            return Solution([], [], rounding_cells, [f"{name}: 求解结果未通过精确复核"])
    adjusted = [i for i in range(n) if deviations[i] != 0]
    return Solution([a.quantize(Decimal("0.01")) for a in amounts], adjusted, rounding_cells, [])




def _solver():
    """numpy and SciPy's MILP, imported when a document needs them (they add ~40 MB and half a
    second to every process that would import them up front: the server, a rebuild)."""
    import numpy as np
    from scipy.optimize import LinearConstraint, milp
    from scipy.sparse import lil_matrix

    return np, LinearConstraint, milp, lil_matrix


def _minimal_deviation(n: int, rows) -> list[int] | None:
    if n == 0:
        return [] if all(lo <= 0 <= hi for _c, lo, hi, _n in rows) else None
    np, LinearConstraint, milp, lil_matrix = _solver()
    # Variables: d (n, integer, deviation in 分), u (n), w (n) with d = u - w; minimise Σ u + w.
    a = lil_matrix((len(rows) + n, 3 * n))
    lb, ub = [], []
    for r, (coeffs, lo, hi, _name) in enumerate(rows):
        for i, k in coeffs.items():
            a[r, i] = k
        lb.append(lo)
        ub.append(hi)
    for i in range(n):
        r = len(rows) + i
        a[r, i], a[r, n + i], a[r, 2 * n + i] = 1, -1, 1
        lb.append(0)
        ub.append(0)
    cost = np.concatenate([np.zeros(n), np.ones(2 * n)])
    bounds_lo = np.concatenate([np.full(n, -HALF), np.zeros(2 * n)])
    bounds_hi = np.concatenate([np.full(n, HALF - 1), np.full(2 * n, HALF)])
    from scipy.optimize import Bounds

    result = milp(
        cost,
        constraints=LinearConstraint(a.tocsr(), np.array(lb, float), np.array(ub, float)),
        integrality=np.concatenate([np.ones(n), np.zeros(2 * n)]),
        bounds=Bounds(bounds_lo, bounds_hi),
    )
    if result.status != 0 or result.x is None:
        return None
    return [int(round(v)) for v in result.x[:n]]


def _conflicts(n: int, rows) -> list[str]:
    """Cells that cannot all hold: minimise the total slack needed, name the slack cells."""
    from scipy.optimize import Bounds

    np, LinearConstraint, milp, lil_matrix = _solver()
    m = len(rows)
    a = lil_matrix((m, n + 2 * m))
    lb, ub = [], []
    for r, (coeffs, lo, hi, _name) in enumerate(rows):
        for i, k in coeffs.items():
            a[r, i] = k
        a[r, n + r], a[r, n + m + r] = 1, -1
        lb.append(lo)
        ub.append(hi)
    cost = np.concatenate([np.zeros(n), np.ones(2 * m)])
    result = milp(
        cost,
        constraints=LinearConstraint(a.tocsr(), np.array(lb, float), np.array(ub, float)),
        integrality=np.concatenate([np.ones(n), np.zeros(2 * m)]),
        bounds=Bounds(np.concatenate([np.full(n, -HALF), np.zeros(2 * m)]),
                      np.concatenate([np.full(n, HALF - 1), np.full(2 * m, np.inf)])),
        # An optimum, not a near one: within the default gap a few 分 of slack land on cells
        # that are fine, and the message would name them.
        options={"mip_rel_gap": 0},
    )
    if result.x is None:
        return [name for _c, _lo, _hi, name in rows]
    slack = result.x[n:n + m] + result.x[n + m:]
    # The least total slack also spends a few 分 on neighbouring cells to let leaves move;
    # name the cells that need more than a rounding difference, or else every one that moved.
    beyond = [rows[r][3] for r in range(m) if slack[r] > HALF]
    return beyond or [rows[r][3] for r in range(m) if slack[r] > 0.5]
