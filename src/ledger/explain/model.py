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
    """This year against last year: last year's own figure where the ledger holds last year's
    budget (prior_source "ledger"), else the figure this year's document states or implies
    ("stated"). Where both exist, the statement is kept beside the ledger's figure."""

    key: str = Field(examples=["income_total"])
    label: str = Field(examples=["预算收入总计"])
    current: Money
    prior: Money
    delta: Money
    percent: str | None = Field(description="|变动|/上年数, 两位小数, 四舍五入; 上年为零时为空", examples=["0.70"])
    direction: Literal["增加", "减少", "持平"]
    reason: str | None = Field(None, examples=["人员增资和社保缴费基数调整"])
    prior_year: int
    stated_at: int | None = Field(None, description="记录上年数 (本年文件所列) 的事件位置")
    prior_source: Literal["ledger", "stated"] = Field(
        "stated", description="ledger: 上年数取自账本中上年预算自己的事件; stated: 本年文件所列 (或由其增减额推得)")
    prior_basis: str | None = Field(None, description="上年数的依据 (哪一年、哪个节点)",
                                    examples=["账本中2024年度预算, 截至位置 185 (最新)"])
    prior_position: int | None = Field(None, description="读到的上年预算最后一个事件的位置")
    stated: Money | None = Field(None, description="本年文件所列的上年数 (上年数取自账本时, 作为文件的说法保留)")
    agrees: bool | None = Field(None, description="文件所列上年数与账本是否一致 (按万元两位比较); 无从比较时为空")


class CodeComparison(BaseModel):
    """The amount of one code (or one group of codes a crosswalk ties together) against last
    year's own figure, codes mapped from last year's classification to this year's."""

    codes: list[str] = Field(description="本年科目编码", examples=[["2210301", "2210399"]])
    prior_codes: list[str] = Field(description="上年科目编码", examples=[["2210399"]])
    label: str
    mapping: Literal["same", "renamed", "split", "merged", "regrouped", "new", "unmapped"] = Field(
        description="same 同码; renamed/split/merged/regrouped 按对照表; new 本年新增 (上年无); "
                    "unmapped 上年有、本年无且对照表无对应")
    current: Money
    prior: Money
    delta: Money = Field(description="本年 − 上年 (可为负)")
    percent: str | None = Field(None, description="(本年−上年)/上年, 两位小数; 上年为零时为空")


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
    prior_basis: str | None = Field(None, description="上年数取自账本时: 上年预算及其节点")
    code_comparisons: list[CodeComparison] = Field(
        default_factory=list, description="账本有上年预算时: 一般公共预算当年支出按科目与上年比较 (经科目对照表)")
    crosswalk: str | None = Field(None, description="所用的科目对照表 (上年→本年)")
    unmapped: list[str] = Field(default_factory=list, description="上年有金额、本年无且对照表无对应的科目 (已报告, 未丢弃)")
    economic_comparisons: list[CodeComparison] = Field(
        default_factory=list, description="账本有上年预算时: 一般公共预算基本支出按部门经济分类 (款) 与上年比较 (经对照表)")
    economic_crosswalk: str | None = Field(None, description="所用的经济分类对照表 (上年→本年)")
    economic_unmapped: list[str] = Field(default_factory=list, description="经济分类中上年有、本年无且无对应的款")

    def comparison(self, key: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.key == key), None)

    def shares_of(self, group: str) -> list[Share]:
        return [s for s in self.shares if s.group == group]
