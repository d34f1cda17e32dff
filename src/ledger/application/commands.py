"""Commands a budget officer gives, as validated values (pydantic v2).

A spending line names every axis its money appears on, so that 表一–表六 and 表十二 stay
reconciled: functional code, basic or project, funding source, and for basic expenditure the
economic classification and personnel/operating; for project expenditure the project.

Two more kinds of line name a figure that the tables show beside the spending: a “三公”经费
item of one fiscal source (表十, `ThreePublicLine`) and a 政府采购 category (the narrative's
九、政府采购情况, `ProcurementLine`). They are the marginals an imported document records
for those figures (measure, source, three_public; measure, procurement), so a command's change
lands in the same cells and figures; the spending itself is changed by a spending line.
Appropriate, Adjust and Transfer take any of the three (`AnyLine`: the line's keys tell which).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from ..domain import classification, names
from ..domain.money import AMOUNT_PATTERN, AmountError, parse_amount
from ..domain.postings import FISCAL_SOURCES, Line

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


FiscalSourceName = Literal["general", "government_fund", "state_capital"]
ThreePublicItem = Literal["overseas", "reception", "vehicle_purchase", "vehicle_operation"]
ProcurementCategory = Literal["goods", "works", "services"]


class ThreePublicLine(BaseModel):
    """A “三公”经费 item of one fiscal source: the figure 表十 prints in that row and column."""

    model_config = ConfigDict(extra="forbid")

    three_public: ThreePublicItem = Field(description=(
        "“三公”经费项目: overseas 因公出国（境）费 / reception 公务接待费 / vehicle_purchase 公务用车购置费 / "
        "vehicle_operation 公务用车运行维护费"), examples=["reception"])
    source: FiscalSourceName = Field("general", description=(
        "资金来源: 表十公开财政拨款安排的“三公”经费, 故只能是 general 一般公共预算、government_fund "
        "政府性基金预算 或 state_capital 国有资本经营预算"), examples=["general"])

    @field_validator("source", mode="before")
    @classmethod
    def _fiscal(cls, value: object) -> object:
        if isinstance(value, str) and value not in FISCAL_SOURCES:
            raise ValueError(
                f"“三公”经费按财政拨款公开 (表十), 资金来源应为 general (一般公共预算)、government_fund "
                f"(政府性基金预算) 或 state_capital (国有资本经营预算), 不能是 {value!r}")
        return value

    def to_line(self, amount: Decimal, units: list[str]) -> Line:
        return Line.of(amount, measure="budget", source=self.source, three_public=self.three_public)


class ProcurementLine(BaseModel):
    """A 政府采购 category: the figure 九、政府采购情况 states (goods, works, services)."""

    model_config = ConfigDict(extra="forbid")

    procurement: ProcurementCategory = Field(description="政府采购品目: goods 货物 / works 工程 / services 服务",
                                             examples=["goods"])

    def to_line(self, amount: Decimal, units: list[str]) -> Line:
        return Line.of(amount, measure="budget", procurement=self.procurement)


# Which kind of line a command's line is, by its keys: a “三公”经费 item names three_public, a
# 政府采购 category names procurement, anything else is a spending line (as before these kinds).
LINE_TAGS = ("spending", "three_public", "procurement")


def _line_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "three_public" in value:
            return "three_public"
        if "procurement" in value:
            return "procurement"
        return "spending"
    if isinstance(value, ThreePublicLine):
        return "three_public"
    if isinstance(value, ProcurementLine):
        return "procurement"
    return "spending"


AnyLine = Annotated[Union[
    Annotated[LineSpec, Tag("spending")],
    Annotated[ThreePublicLine, Tag("three_public")],
    Annotated[ProcurementLine, Tag("procurement")],
], Discriminator(_line_kind)]

LINE_FIELDS = ("line", "from_line", "to_line")


def error_location(loc: tuple[Any, ...] | list[Any]) -> tuple[Any, ...]:
    """A validation error's location without the kind of line pydantic adds after a line field
    (("body", "line", "three_public", "source") → ("body", "line", "source")), so that a
    refusal names the field as it is sent."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        if part in LINE_TAGS and i > 0 and loc[i - 1] in LINE_FIELDS:
            continue
        out.append(part)
    return tuple(out)


LINE_KEYS = {"three_public": "“三公”经费行只写 three_public 与 source (财政拨款来源)",
             "procurement": "政府采购行只写 procurement (品目)"}


def extra_field_message(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """What to say of a field a “三公”经费 or 政府采购 line does not take (its location as pydantic
    gives it, with the kind of line), or None for any other field."""
    for i, part in enumerate(loc[:-1]):
        if part in LINE_KEYS and i > 0 and loc[i - 1] in LINE_FIELDS:
            return f"不允许的字段: {LINE_KEYS[part]}; 支出本身请另以支出行 (code, kind, ...) 调整"
    return None


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


LINE_DOC = ("预算行: 支出行 (写 code, kind, ...)、“三公”经费项目 (写 three_public 与 source) "
            "或政府采购品目 (写 procurement)")


class Appropriate(CommandBase):
    line: AnyLine = Field(description=LINE_DOC)
    amount: Amount = Field(description="金额 (元), 或带 万元 的文字", examples=["100000.00"])

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> Decimal:
        amount = amount_value(value)
        if amount <= 0:
            raise ValueError("新增预算金额必须为正数")
        return amount


class Adjust(CommandBase):
    line: AnyLine = Field(description=LINE_DOC)
    amount: Amount = Field(description="调整金额 (元), 减少为负数", examples=["-20000.00"])

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> Decimal:
        amount = amount_value(value)
        if amount == 0:
            raise ValueError("调整金额不能为零")
        return amount


class Transfer(CommandBase):
    from_line: AnyLine = Field(description="调出行 (与调入行同类: 支出、“三公”经费或政府采购)")
    to_line: AnyLine = Field(description="调入行")
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
