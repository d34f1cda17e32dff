"""Classification crosswalks (科目对照表): how last year's classification items map to this
year's, for comparing a department's consecutive years: the functional classification
(支出功能分类, 7-digit 项) and the departmental economic classification (部门预算支出经济分类,
5-digit 款).

A crosswalk is a data file per classification and year pair, as the catalogues are:
`functional-YYYY-YYYY.tsv` or `economic-YYYY-YYYY.tsv` (tab-separated, a header line, then one
line per change: last year's code, this year's code, the change, a note):

    上年编码	本年编码	变化	说明
    2130599	2130550	renamed	…
    2210399	2210301	split	…
    2210399	2210399	split	…

`renamed` (one code became another), `split` (one became several: a line per part), `merged`
(several became one: a line per part). A code a crosswalk does not name compares with the same
code. The files are looked up in the package's reference/crosswalks/ and in the directory the
setting LEDGER_CROSSWALKS names (which wins for a year pair both have).

Comparing two years through a crosswalk ties codes into groups (a split's parts, a merge's
sources): each group's amounts are compared as one. A code last year had money under, this year
has none under, and no line of the crosswalk names, is reported as unmapped, never dropped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from . import classification

CHANGES = ("renamed", "split", "merged")
SETTING = "LEDGER_CROSSWALKS"
# classification → (its catalogue, the length of the codes compared, its name)
KINDS = {
    "functional": (classification.functional, 7, "功能分类科目编码 (项级)"),
    "economic": (classification.economic_departmental, 5, "部门经济分类科目编码 (款级)"),
}


class CrosswalkError(ValueError):
    """A crosswalk file that cannot be used: the message names the file and line."""


@dataclass(frozen=True)
class Entry:
    prior: str
    current: str
    change: str
    note: str
    line: int


@dataclass(frozen=True)
class Crosswalk:
    from_year: int
    to_year: int
    entries: tuple[Entry, ...]
    source: str
    kind: str = "functional"

    @property
    def label(self) -> str:
        return f"{self.from_year}→{self.to_year} ({self.source})"


@dataclass(frozen=True)
class Group:
    """Codes of the two years compared as one: their amounts summed on each side."""

    prior_codes: tuple[str, ...]
    codes: tuple[str, ...]
    mapping: str  # same | renamed | split | merged | regrouped | new | unmapped
    prior: Decimal = Decimal("0.00")
    current: Decimal = Decimal("0.00")


@dataclass
class Compared:
    groups: list[Group] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def parse(text: str, source: str, from_year: int, to_year: int, kind: str = "functional") -> Crosswalk:
    catalogue_of, length, what = KINDS[kind]
    catalogue = catalogue_of()
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if number == 1 or not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in raw.split("\t")]
        if len(cells) < 3:
            raise CrosswalkError(f"{source} 第{number}行: 应为 上年编码<TAB>本年编码<TAB>变化[<TAB>说明], 读到 {raw!r}")
        prior, current, change = cells[:3]
        for code in (prior, current):
            if not (code.isdigit() and len(code) == length):
                raise CrosswalkError(f"{source} 第{number}行: {what}应为{length}位数字: {code!r}")
            if code not in catalogue:
                raise CrosswalkError(f"{source} 第{number}行: 未知的{what}: {code}")
        if change not in CHANGES:
            raise CrosswalkError(f"{source} 第{number}行: 变化应为 {'/'.join(CHANGES)} 之一, 读到 {change!r}")
        entries.append(Entry(prior, current, change, cells[3] if len(cells) > 3 else "", number))
    for change, side in (("renamed", "prior"), ("merged", "prior")):
        seen: dict[str, int] = {}
        for e in entries:
            if e.change == change:
                code = getattr(e, side)
                if code in seen:
                    raise CrosswalkError(f"{source} 第{e.line}行: {code} 已在第{seen[code]}行{change}, 一个上年科目只能对应一次")
                seen[code] = e.line
    return Crosswalk(from_year, to_year, tuple(entries), source, kind)


def _file_name(from_year: int, to_year: int, kind: str) -> str:
    return f"{kind}-{from_year}-{to_year}.tsv"


@cache
def _packaged(from_year: int, to_year: int, kind: str) -> Crosswalk | None:
    found = resources.files("ledger.reference").joinpath("crosswalks", _file_name(from_year, to_year, kind))
    if not found.is_file():
        return None
    return parse(found.read_text(encoding="utf-8"), f"reference/crosswalks/{found.name}", from_year, to_year, kind)


def _from_directory(directory: str, from_year: int, to_year: int, kind: str) -> Crosswalk | None:
    path = Path(directory) / _file_name(from_year, to_year, kind)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _read_file(str(path), stamp, from_year, to_year, kind)


@lru_cache(maxsize=64)
def _read_file(path: str, _stamp: int, from_year: int, to_year: int, kind: str) -> Crosswalk:
    """A configured crosswalk file, read once per version of it (its modification time): every
    explanation of a year whose year before is in the ledger looks for two of them."""
    return parse(Path(path).read_text(encoding="utf-8"), path, from_year, to_year, kind)


def crosswalk(from_year: int, to_year: int, directory: str | None = None, kind: str = "functional") -> Crosswalk | None:
    """The crosswalk of a classification and year pair: the configured directory's (the
    argument, else the setting LEDGER_CROSSWALKS), else the packaged one, else None (codes
    compare as they are)."""
    directory = directory if directory is not None else os.environ.get(SETTING)
    if directory:
        found = _from_directory(directory, from_year, to_year, kind)
        if found is not None:
            return found
    return _packaged(from_year, to_year, kind)


def compare(prior: Mapping[str, Decimal], current: Mapping[str, Decimal], walk: Crosswalk | None) -> Compared:
    """Group last year's amounts by code and this year's by code through the crosswalk."""
    entries = walk.entries if walk is not None else ()
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: tuple[str, str], b: tuple[str, str]) -> None:
        parent[find(a)] = find(b)

    relevant_prior = {c for c, a in prior.items() if a}
    relevant_current = {c for c, a in current.items() if a}
    changes_of: dict[tuple[str, str], set[str]] = {}
    mapped_prior = set()
    for e in entries:
        if e.prior in relevant_prior or e.current in relevant_current:
            union(("p", e.prior), ("c", e.current))
            changes_of.setdefault(("p", e.prior), set()).add(e.change)
        mapped_prior.add(e.prior)
    identity = set()
    for code in relevant_prior - mapped_prior:
        union(("p", code), ("c", code))
        identity.add(code)
    for code in relevant_current:
        find(("c", code))

    members: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    out = Compared()
    for nodes in members.values():
        prior_codes = tuple(sorted(c for side, c in nodes if side == "p"))
        codes = tuple(sorted(c for side, c in nodes if side == "c"))
        amount_prior = sum((prior.get(c, Decimal(0)) for c in prior_codes), Decimal("0.00"))
        amount_current = sum((current.get(c, Decimal(0)) for c in codes), Decimal("0.00"))
        kinds = set().union(*(changes_of.get(("p", c), set()) for c in prior_codes))
        if not prior_codes:
            mapping = "new"
        elif not kinds:
            if amount_current == 0 and not any(c in relevant_current for c in codes):
                mapping = "unmapped"
                out.unmapped.extend(prior_codes)
            else:
                mapping = "same"
        else:
            mapping = kinds.pop() if len(kinds) == 1 else "regrouped"
        out.groups.append(Group(prior_codes, codes, mapping, amount_prior, amount_current))
    out.groups.sort(key=lambda g: (g.codes or g.prior_codes))
    out.unmapped.sort()
    return out
