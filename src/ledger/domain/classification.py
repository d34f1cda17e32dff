"""Reference catalogues: functional and economic classification, funding sources, labels.

The catalogues are data files in ledger/reference/; this module only reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

SOURCE_LABELS = {
    "general": "一般公共预算",
    "government_fund": "政府性基金预算",
    "state_capital": "国有资本经营预算",
    "special_account": "财政专户管理资金",
    "unit_funds": "单位资金",
}
KIND_LABELS = {"basic": "基本支出", "project": "项目支出"}
COST_LABELS = {"personnel": "人员经费", "operating": "公用经费"}
THREE_PUBLIC_LABELS = {
    "overseas": "因公出国（境）费",
    "reception": "公务接待费",
    "vehicle_purchase": "公务用车购置费",
    "vehicle_operation": "公务用车运行维护费",
}
PROCUREMENT_LABELS = {"goods": "货物", "works": "工程", "services": "服务"}
UNIT_CATEGORIES = ("行政单位", "参公事业单位", "事业单位")
# 机关运行经费 is the operating cost of administrative units and units managed like them.
AGENCY_CATEGORIES = ("行政单位", "参公事业单位")


def agency_units(units: Iterable[Mapping[str, str]]) -> frozenset[str]:
    """The agency units (行政单位, 参公事业单位) among units given as {"name", "category"}."""
    return frozenset(u["name"] for u in units if u["category"] in AGENCY_CATEGORIES)


@dataclass(frozen=True)
class Catalogue:
    """One classification: code → name, with lookups by name."""

    title: str
    names: dict[str, str]

    def name(self, code: str) -> str:
        return self.names[code]

    def __contains__(self, code: object) -> bool:
        return code in self.names

    def code_for(self, name: str, *, length: int | None = None) -> str | None:
        for code, item in self.names.items():
            if item == name and (length is None or len(code) == length):
                return code
        return None


def _load(filename: str, title: str) -> Catalogue:
    text = resources.files("ledger.reference").joinpath(filename).read_text(encoding="utf-8")
    names: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        if line.strip():
            code, name = line.split("\t")[:2]
            names[code.strip()] = name.strip()
    return Catalogue(title, names)


@cache
def functional() -> Catalogue:
    return _load("functional.tsv", "支出功能分类科目")


@cache
def economic_departmental() -> Catalogue:
    return _load("economic_departmental.tsv", "部门预算支出经济分类科目")


@cache
def economic_governmental() -> Catalogue:
    return _load("economic_governmental.tsv", "政府预算支出经济分类科目")


def functional_classes() -> list[tuple[str, str]]:
    """The 类 of the functional classification, in code order (表一 lists them all)."""
    return [(c, n) for c, n in functional().names.items() if len(c) == 3]


def resolve_economic(text: str) -> tuple[str, str]:
    """'基本工资/工资奖金津补贴' (or codes '30101/50101') → (departmental, governmental) codes."""
    parts = [p.strip() for p in text.replace("／", "/").split("/")]
    if len(parts) != 2 or not all(parts):
        raise LookupError(f"经济分类应写作 部门经济科目/政府经济科目, 例如 基本工资/工资奖金津补贴: {text!r}")
    dept, gov = parts
    dept_code = dept if dept in economic_departmental() else economic_departmental().code_for(dept, length=5)
    gov_code = gov if gov in economic_governmental() else economic_governmental().code_for(gov, length=5)
    if dept_code is None or len(dept_code) != 5:
        raise LookupError(f"未知的部门预算支出经济分类科目: {dept!r}")
    if gov_code is None or len(gov_code) != 5:
        raise LookupError(f"未知的政府预算支出经济分类科目: {gov!r}")
    return dept_code, gov_code
