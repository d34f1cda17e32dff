"""The explanation as data (pydantic v2): what the narrative's sentences are made of."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from ..domain.money import to_wan


class Money(BaseModel):
    """An exact amount in 元, with its 万元 rendering (two places, half-up)."""

    yuan: str = Field(examples=["18025200.00"])
    wan: str = Field(examples=["1802.52"])

    @classmethod
    def of(cls, amount: Decimal) -> Money:
        return cls(yuan=f"{amount:.2f}", wan=f"{to_wan(amount):.2f}")

    @property
    def value(self) -> Decimal:
        return Decimal(self.yuan)


class Comparison(BaseModel):
    """This year against last year's stated figure."""

    key: str = Field(examples=["income_total"])
    label: str = Field(examples=["预算收入总计"])
    current: Money
    prior: Money
    delta: Money
    percent: str | None = Field(description="|变动|/上年数, 两位小数, 四舍五入; 上年为零时为空", examples=["0.70"])
    direction: Literal["增加", "减少", "持平"]
    reason: str | None = Field(None, examples=["人员增资和社保缴费基数调整"])
    prior_year: int
    stated_at: int | None = Field(None, description="记录上年数的事件位置")


class Share(BaseModel):
    group: str = Field(examples=["kind"])
    key: str = Field(examples=["basic"])
    label: str = Field(examples=["基本支出"])
    amount: Money
    total: Money
    percent: str = Field(examples=["88.26"])


class Item(BaseModel):
    key: str
    label: str
    amount: Money


class ProjectSummary(BaseModel):
    name: str
    unit: str
    amount: Money
    annual_amount: Money | None = Field(None, description="绩效目标表的年度资金总额 (元)")
    indicators: int = Field(0, description="绩效指标行数")


class Explanation(BaseModel):
    department: str
    fiscal_year: int
    position: int | None = Field(None, description="解释所依据的最后一个事件位置")
    totals: dict[str, Money]
    comparisons: list[Comparison]
    shares: list[Share]
    personnel_items: list[Item]
    operating_items: list[Item]
    three_public: list[Item]
    procurement: list[Item]
    projects: list[ProjectSummary]
    agency_units: list[str] = Field(default_factory=list, description="行政单位与参公事业单位")
    agency_kind: str = Field("", examples=["参公单位"])

    def comparison(self, key: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.key == key), None)

    def shares_of(self, group: str) -> list[Share]:
        return [s for s in self.shares if s.group == group]
