"""Document layouts as data: which tables a kind of published document has, how it prints its
amounts, and which phase of a budget it shows.

A layout is a file in projections/layouts/ (YAML):

  id: department-budget            the layout's name in the API, the CLI and the events
  name: 部门预算公开（13张表，万元）     how it is shown to people
  phase: budget                    budget (年初预算/调整预算) | final (决算)
  scope: department                department (部门) | unit (单位)
  tables: .                        the folder of its table definitions, under projections/
  money: {unit: 万元, decimals: 2, thousands: false, zero: ""}
  document: "{year}年度部门预算公开"    the heading that names the document and its year

`money` says how the document prints an amount: in 万元 or 元, with how many decimals, with
thousands separators or not, and what it prints for zero (nothing, "0", "0.00", "-"). A
printed amount is exact only to its last place: 0.01万元 is 100元, so a printed cell says
that the exact amount lies within half of that place (tolerance_fen), which the rounding
solver (ingest/rounding.py) works with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .definitions import SafeLoader, TableDef, load_tables, projections_dir

DEFAULT = "department-budget"
PHASES = ("budget", "final")
SCOPES = ("department", "unit")
_UNITS = {"万元": Decimal(10000), "元": Decimal(1)}


@dataclass(frozen=True)
class MoneyFormat:
    """How a layout prints an amount (exact 元 inside; this is the one place that rounds)."""

    unit: str = "万元"
    decimals: int = 2
    thousands: bool = False
    zero: str = ""

    def __post_init__(self) -> None:
        if self.unit not in _UNITS:
            raise ValueError(f"金额单位应为 万元 或 元, 不是 {self.unit!r}")
        if self.decimals not in (0, 2):
            raise ValueError(f"金额的小数位应为 0 或 2, 不是 {self.decimals!r}")

    @property
    def per_unit(self) -> Decimal:
        """元 in one printed unit."""
        return _UNITS[self.unit]

    @property
    def step(self) -> Decimal:
        """The last printed place, in the printed unit (0.01 or 1)."""
        return Decimal(1).scaleb(-self.decimals)

    def rounded(self, yuan: Decimal) -> Decimal:
        """An exact 元 amount as printed (in the printed unit), rounded half-up."""
        return (yuan / self.per_unit).quantize(self.step, rounding=ROUND_HALF_UP)

    def text(self, yuan: Decimal, *, blank_zero: bool = True) -> str:
        """The printed text of an exact 元 amount."""
        if yuan == 0 and blank_zero:  # (an amount that rounds to zero still prints: 0.00)
            return self.zero
        value = self.rounded(yuan)
        return f"{value:,.{self.decimals}f}" if self.thousands else f"{value:.{self.decimals}f}"

    def tolerance_fen(self) -> int:
        """Half of the last printed place, in 分: a printed cell v says the exact amount lies in
        [v − half, v + half). 5,000 分 for 0.01万元, 50 分 for whole 元, 0 for 元 with 分."""
        place_fen = int(self.step * self.per_unit * 100)
        return place_fen // 2

    def yuan(self, printed: Decimal) -> Decimal:
        """The 元 amount a printed value names (its centre)."""
        return (printed * self.per_unit).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Layout:
    id: str
    name: str
    phase: str
    scope: str
    money: MoneyFormat
    document: str
    folder: str | None  # of its table definitions, None for projections/ itself (the key of the cell caches: definitions.cells_of)
    tables: tuple[TableDef, ...] = field(repr=False)

    @property
    def measures(self) -> frozenset[str]:
        """The measures its tables show: the budget, or what was executed (决算) with the budget
        the document states beside it."""
        return frozenset({"budget"}) if self.phase == "budget" else frozenset({"final", "budget_stated"})

    def table(self, number: int) -> TableDef | None:
        return next((t for t in self.tables if t.number == number), None)

    def titles(self, year: int) -> dict[str, TableDef]:
        """Every title a table of this layout is printed under (its own and its aliases)."""
        out: dict[str, TableDef] = {}
        for table in self.tables:
            for title in (table.title, *table.aliases):
                out[title.format(year=year)] = table
        return out


def _layout(data: Mapping[str, Any], base: Path) -> Layout:
    for key in ("id", "name", "phase", "scope", "tables", "document"):
        if key not in data:
            raise ValueError(f"布局定义缺少 {key}")
    if data["phase"] not in PHASES:
        raise ValueError(f"布局 {data['id']}: phase 应为 {' | '.join(PHASES)}")
    if data["scope"] not in SCOPES:
        raise ValueError(f"布局 {data['id']}: scope 应为 {' | '.join(SCOPES)}")
    folder = (base / data["tables"]).resolve()
    # The default folder is keyed None, as load_tables() and the caches see it.
    key = None if folder == projections_dir().resolve() else str(folder)
    return Layout(id=data["id"], name=data["name"], phase=data["phase"], scope=data["scope"],
                  money=MoneyFormat(**(data.get("money") or {})), document=data["document"], folder=key,
                  tables=load_tables(key))


@cache
def layouts(directory: str | None = None) -> tuple[Layout, ...]:
    """Every layout defined in projections/layouts/, the default one first, then by file name
    with a department's layout before its unit variant (on a tie of titles the earlier wins)."""
    base = Path(directory) if directory else projections_dir()
    found = []
    for path in sorted((base / "layouts").glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            found.append(_layout(yaml.load(fh, Loader=SafeLoader), base))
    found.sort(key=lambda lay: (lay.id != DEFAULT, lay.scope == "unit"))
    return tuple(found)


def layout(layout_id: str | None = None) -> Layout:
    """A layout by its id (the default: the 13-table 部门预算)."""
    wanted = layout_id or DEFAULT
    for candidate in layouts():
        if candidate.id == wanted:
            return candidate
    known = "、".join(lay.id for lay in layouts())
    raise LookupError(f"没有布局 {wanted!r} (已有: {known})")
