"""尾差: find exact 元 amounts for the printed leaves that reproduce every printed cell.

A printed cell v says only that the exact amount lies within half of its last printed place
(for 0.01万元: [v − 0.005, v + 0.005) 万元; for whole 元: ±0.5元; for 元 with 分: exactly v).
The unknowns are the leaves' deviations from their printed values, in 分, each within its
leaf's own range; every printed cell bounds the sum of the leaves under it; cross-axis rules
(DESIGN §3) and the exact project amounts of the performance-target tables are equalities.
The smallest total deviation is found with an integer program (scipy's HiGHS).

When no amounts exist, a second program with elastic cells finds the least each cell must
give. A document may print a summary cell (a 类 total that another table also gives) one
printed place away from what its detailed cells allow: that is an inconsistency of the
document, reported with the cells concerned, but not a reason to refuse the detail it prints
consistently (`tolerated`). Anything else that cannot hold is a conflict: the import is
refused and the cells are named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

HALF = 5_000  # 0.005 万元 in 分: half of the last place of a 万元 table with two decimals


@dataclass(frozen=True)
class CellBound:
    """A printed cell: the sum of `leaves` (plus `offset` 分) must lie in [lo, hi] 分."""

    name: str  # how to name the cell to a person: 表三 210 卫生健康支出 合计 (line 157)
    lo: int
    hi: int
    leaves: tuple[int, ...]
    summary: bool = True  # a sum of leaves (may be reported instead of refused)

    @classmethod
    def printed(cls, name: str, printed_fen: int, tolerance: int, leaves: tuple[int, ...],
                summary: bool = True) -> CellBound:
        if printed_fen == 0:
            return cls(name, 0, 0, leaves, summary)
        return cls(name, printed_fen - tolerance, printed_fen + max(tolerance - 1, 0), leaves, summary)


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
    tolerated: list[str] = field(default_factory=list)  # summary cells off by one printed place


def solve(bases: Sequence[int], ranges: Sequence[tuple[int, int]], cells: Sequence[CellBound],
          equalities: Sequence[Equality], tolerate: int = 0) -> Solution:
    """Exact amounts (分 as Decimal 元) for leaves printed as `bases` 分, each free to move
    within its `ranges` (lo, hi) deviation. `tolerate`: how far (分) a summary cell may miss
    its printed range and be reported instead of refused (0: never)."""
    n = len(bases)
    base = list(bases)
    rounding_cells = [c.name for c in cells if not (c.lo <= sum(base[i] for i in c.leaves) <= c.hi)]

    rows: list[tuple[dict[int, int], int, int, str]] = []
    for cell in cells:
        offset = sum(base[i] for i in cell.leaves)
        coeffs: dict[int, int] = {}
        for i in cell.leaves:
            coeffs[i] = coeffs.get(i, 0) + 1
        rows.append((coeffs, cell.lo - offset, cell.hi - offset, cell.name))
    for eq in equalities:
        coeffs = {}
        for i in eq.left:
            coeffs[i] = coeffs.get(i, 0) + 1
        for i in eq.right:
            coeffs[i] = coeffs.get(i, 0) - 1
        target = int(eq.constant * 100) - sum(base[i] for i in eq.left) + sum(base[i] for i in eq.right)
        rows.append((coeffs, target, target, eq.name))

    deviations = _minimal_deviation(n, ranges, rows)
    tolerated: list[str] = []
    if deviations is None:
        slack, elastic = _elastic(n, ranges, rows)
        if elastic is None:
            return Solution([], [], rounding_cells, [name for _c, _lo, _hi, name in rows])
        beyond = [r for r in range(len(rows)) if slack[r] > 0.5]
        small = tolerate and all(r < len(cells) and cells[r].summary and slack[r] <= tolerate + 0.5 for r in beyond)
        if not small:
            wide = [rows[r][3] for r in beyond if slack[r] > HALF]
            return Solution([], [], rounding_cells, wide or [rows[r][3] for r in beyond])
        deviations, tolerated = elastic, [rows[r][3] for r in beyond]
        rows = [row for r, row in enumerate(rows) if r not in set(beyond)]
    # Never trust floating point: check every bound again in integers.
    for coeffs, lo, hi, name in rows:
        value = sum(k * deviations[i] for i, k in coeffs.items())
        if not lo <= value <= hi:
            return Solution([], [], rounding_cells, [f"{name}: 求解结果未通过精确复核"])
    amounts = [(Decimal(base[i] + deviations[i]) / 100).quantize(Decimal("0.01")) for i in range(n)]
    adjusted = [i for i in range(n) if deviations[i] != 0]
    return Solution(amounts, adjusted, rounding_cells, [], tolerated)


def _solver():
    """numpy and SciPy's MILP, imported when a document needs them (they add ~40 MB and half a
    second to every process that would import them up front: the server, a rebuild)."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    return np, Bounds, LinearConstraint, milp, lil_matrix


def _minimal_deviation(n: int, ranges: Sequence[tuple[int, int]], rows) -> list[int] | None:
    if n == 0:
        return [] if all(lo <= 0 <= hi for _c, lo, hi, _n in rows) else None
    np, Bounds, LinearConstraint, milp, lil_matrix = _solver()
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
    widest = max(max(abs(lo), abs(hi)) for lo, hi in ranges)
    cost = np.concatenate([np.zeros(n), np.ones(2 * n)])
    bounds_lo = np.concatenate([np.array([lo for lo, _hi in ranges], float), np.zeros(2 * n)])
    bounds_hi = np.concatenate([np.array([hi for _lo, hi in ranges], float), np.full(2 * n, widest)])
    result = milp(
        cost,
        constraints=LinearConstraint(a.tocsr(), np.array(lb, float), np.array(ub, float)),
        integrality=np.concatenate([np.ones(n), np.zeros(2 * n)]),
        bounds=Bounds(bounds_lo, bounds_hi),
    )
    if result.status != 0 or result.x is None:
        return None
    return [int(round(v)) for v in result.x[:n]]


def _elastic(n: int, ranges: Sequence[tuple[int, int]], rows) -> tuple[list[float], list[int] | None]:
    """The least total slack that lets every cell and rule hold, and the deviations then."""
    np, Bounds, LinearConstraint, milp, lil_matrix = _solver()
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
        bounds=Bounds(np.concatenate([np.array([lo for lo, _hi in ranges], float), np.zeros(2 * m)]),
                      np.concatenate([np.array([hi for _lo, hi in ranges], float), np.full(2 * m, np.inf)])),
        # An optimum, not a near one: within the default gap a few 分 of slack land on cells
        # that are fine, and the message would name them.
        options={"mip_rel_gap": 0},
    )
    if result.x is None:
        return [], None
    slack = list(result.x[n:n + m] + result.x[n + m:])
    # The least total slack also spends a few 分 on neighbouring cells to let leaves move;
    # rounding to whole 分 keeps the deviations integral.
    return slack, [int(round(v)) for v in result.x[:n]]
