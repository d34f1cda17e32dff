"""Commands a budget officer gives, as validated values (pydantic v2).

A line names every axis its money appears on, so that 表一–表六 and 表十二 stay reconciled:
functional code, basic or project, funding source, and for basic expenditure the economic
classification and personnel/operating; for project expenditure the project.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from ..domain import classification, names
from ..domain.money import AMOUNT_PATTERN, AmountError, parse_amount
from ..domain.postings import Line

# What each text field is called in a refusal (the location names the field too).
LABELS = {"project": "项目名称", "unit": "单位名称", "name": "发布节点名称", "reason": "原因",
          "document_no": "批准文号", "economic": "经济分类"}


def _name(value: str, info: ValidationInfo) -> str:
    """A name as recorded (domain/names.py): NFC, radicals folded, hidden characters refused."""
    try:
        return names.name(value, LABELS.get(info.field_name or "", "名称"))
    except names.TextRefused as exc:
        raise ValueError(str(exc)) from None


def _text(value: str, info: ValidationInfo) -> str:
    """Free text recorded in events: NFC; no control, zero-width or bidi characters (NUL cannot
    even be stored in PostgreSQL); tab and line feed allowed."""
    try:
        return names.text(value, LABELS.get(info.field_name or "", "文字"))
    except names.TextRefused as exc:
        raise ValueError(str(exc)) from None


Text = Annotated[str, AfterValidator(_text)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]

SourceName = Literal["general", "government_fund", "state_capital", "special_account", "unit_funds"]


class LineSpec(BaseModel):
    """Where money sits: one leaf of the budget, named along every axis."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="功能分类科目编码 (7位项级)", examples=["2210399"],
                      json_schema_extra={"pattern": r"^\s*\d{7}\s*$"})
    kind: Literal["basic", "project"] = Field(description="basic 基本支出 / project 项目支出", examples=["basic"])
    source: SourceName = Field("general", description="资金来源", examples=["general"])
    period: Literal["current", "carryover"] = Field("current", description="当年 / 上年结转")
    economic: str | None = Field(None, description="基本支出的经济分类: 部门经济科目/政府经济科目",
                                 examples=["基本工资/工资奖金津补贴"], max_length=200)
    cost: Literal["personnel", "operating"] | None = Field(None, description="人员经费 / 公用经费",
                                                            examples=["personnel"])
    project: Name | None = Field(None, description="项目支出的项目名称")
    unit: Name | None = Field(None, description="单位名称 (只有一个单位时可省略)")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = value.strip()
        if not (value.isdigit() and len(value) == 7):
            raise ValueError(f"功能分类科目编码应为7位数字 (项级): {value!r}")
        if value not in classification.functional():
            raise ValueError(f"未知的功能分类科目编码: {value}")
        return value

    @field_validator("economic")
    @classmethod
    def _economic(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            value = names.name(value, LABELS["economic"])
        except names.TextRefused as exc:
            raise ValueError(str(exc)) from None
        try:
            classification.resolve_economic(value)
        except LookupError as exc:
            raise ValueError(str(exc)) from None
        return value

    def to_line(self, amount: Decimal, units: list[str]) -> Line:
        dims: dict[str, str | None] = {
            "measure": "budget", "source": self.source, "period": self.period, "code": self.code, "kind": self.kind,
            "cost": self.cost, "project": self.project,
        }
        if self.economic:
            dims["economic"], dims["gov_economic"] = classification.resolve_economic(self.economic)
        unit = self.unit
        if unit is None and (self.economic or self.project) and len(units) == 1:
            unit = units[0]
        dims["unit"] = unit
        return Line.of(amount, **dims)


def amount_value(value: object) -> Decimal:
    """An amount given as a number of 元, or text such as '10万元' or '100000.50'."""
    if isinstance(value, float):
        # A binary float is not an amount of money: ask for the decimal text instead.
        raise ValueError(f"金额请写成字符串 (如 \"{value}\"), 不用浮点数")
    if not isinstance(value, (str, int, Decimal)) or isinstance(value, bool):
        raise ValueError("金额应为字符串, 如 \"100000.50\" 或 \"10万元\"")
    try:
        return parse_amount(str(value))
    except AmountError as exc:
        raise ValueError(str(exc)) from None


# The schema says what to send: text (a whole number of 元 is accepted as a JSON integer too,
# a binary float never), so no client is led to send a float.
Amount = Annotated[Decimal, WithJsonSchema({
    "type": "string", "pattern": AMOUNT_PATTERN,
    "description": "金额: 元 (100000 或 100000.50), 或 万元 (10万元); 写成字符串",
    "examples": ["100000.00", "10万元"]})]


class CommandBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=1, max_length=2000, description="原因", examples=["人员增资"])
    effective: date | None = Field(None, description=(
        "生效日期, 须在预算年度内 (默认: 年度进行中为今天, 年度已结束为其最后一天 12-31, 尚未开始为其第一天 01-01; "
        "更正默认取被更正事件的生效日期)"))
    document_no: Name | None = Field(None, description="批准文号", examples=["长财预〔2024〕12号"])


class Appropriate(CommandBase):
    line: LineSpec
    amount: Amount = Field(description="金额 (元), 或带 万元 的文字", examples=["100000.00"])

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> Decimal:
        amount = amount_value(value)
        if amount <= 0:
            raise ValueError("新增预算金额必须为正数")
        return amount


class Adjust(CommandBase):
    line: LineSpec
    amount: Amount = Field(description="调整金额 (元), 减少为负数", examples=["-20000.00"])

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> Decimal:
        amount = amount_value(value)
        if amount == 0:
            raise ValueError("调整金额不能为零")
        return amount


class Transfer(CommandBase):
    from_line: LineSpec
    to_line: LineSpec
    amount: Amount = Field(description="调剂金额 (元), 正数", examples=["50000.00"])

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> Decimal:
        amount = amount_value(value)
        if amount <= 0:
            raise ValueError("调剂金额必须为正数")
        return amount


MAX_POSITION = 2**63 - 1  # the largest notification position a store holds (64 bits)


def _event_ref(value: object) -> object:
    """An event id, or a position given as a JSON integer (92) or as text ("92")."""
    if isinstance(value, (bool, float)):
        raise ValueError("应为事件 id 或通知位置 (整数)")
    if isinstance(value, int):
        if not 1 <= value <= MAX_POSITION:
            raise ValueError(f"通知位置应在 1–{MAX_POSITION} 之间")
        return str(value)
    return value


EventRef = Annotated[str, Field(min_length=1, max_length=80), BeforeValidator(_event_ref), WithJsonSchema({
    "anyOf": [{"type": "string", "minLength": 1, "maxLength": 80}, {"type": "integer", "minimum": 1,
                                                                     "maximum": MAX_POSITION}]})]


class Correct(CommandBase):
    event: EventRef = Field(description="要更正 (冲销) 的事件: 事件 id, 或通知位置 (整数 92, 也可写成 \"92\")",
                            examples=[92])
    answers: Name | None = Field(None, description="这次更正回应的审校发现: 审校事件id#序号",
                                 examples=["3f0c…#2"])


class RecordAudit(BaseModel):
    """Audit the budget as recorded (the documents the ledger writes from its events) and
    store the audit and its findings in its history."""

    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=1, max_length=2000, description="原因", examples=["年度审校"])


class Publish(CommandBase):
    name: Name = Field(description="发布节点名称", examples=["调整预算"])
