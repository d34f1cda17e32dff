"""Response models (pydantic v2). Amounts are decimal strings: `yuan` exact in 元, `wan` as
printed in 万元. Examples are the reference document's own figures (长治市住房公积金管理中心 2024)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

DEPARTMENT_EXAMPLE = "长治市住房公积金管理中心"
YEAR_EXAMPLE = 2024

KIND_LABELS = {
    "budget_opened": "预算开立",
    "document_imported": "导入公开文件",
    "project_registered": "登记项目",
    "appropriation": "拨款",
    "adjustment": "预算调整",
    "transfer": "调剂",
    "correction": "更正 (冲销)",
    "prior_year_figure": "上年数",
    "publication": "发布",
    "final_accounts": "决算数",
    "audit": "审校",
}


def _utc(value: datetime) -> datetime:
    # SQLite hands back the recorded time (UTC) without its zone; say it.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


class Unit(BaseModel):
    name: str = Field(examples=[DEPARTMENT_EXAMPLE])
    category: str = Field(examples=["参公事业单位"])


class BudgetSummary(BaseModel):
    department: str = Field(examples=[DEPARTMENT_EXAMPLE])
    fiscal_year: int = Field(examples=[YEAR_EXAMPLE])
    budget_id: str = Field(examples=["94c96f36-567e-56df-bf31-8204185eda04"])
    units: list[Unit]


class PublicationOut(BaseModel):
    name: str = Field(examples=["年初预算"])
    position: int = Field(examples=[90])
    effective: date | None = Field(examples=["2024-01-01"])
    recorded_at: UtcDateTime


class DocumentOut(BaseModel):
    name: str = Field(examples=["changzhi-hpf-2024-budget.txt"])
    sha256: str
    position: int
    first_position: int | None = Field(None, description="这次导入的第一个事件的位置", examples=[1])
    last_position: int | None = Field(None, description=(
        "这次导入的最后一个事件的位置. 一次导入是时间线上的一个时点: 其间的位置 (first_position 至 last_position-1) "
        "不能作为 as_of"), examples=[90])
    layout: str | None = Field(None, description="读取它的布局 (空: department-budget)", examples=["final-accounts"])
    phase: str | None = Field(None, description="它记录的阶段: budget 预算 (空亦然) | final 决算", examples=["final"])


class BudgetDetail(BudgetSummary):
    version: int = Field(description="预算版本 (事件数); 也作为 ETag, 写入时可用 If-Match 指定", examples=[90])
    position: int | None = Field(description="本预算最后一个事件的通知位置", examples=[90])
    publications: list[PublicationOut]
    documents: list[DocumentOut]
    layouts: list[str] = Field(default_factory=list, description="本预算有表的布局 (tables 的 layout 参数)",
                               examples=[["department-budget", "final-accounts"]])


class AmountOut(BaseModel):
    row: str = Field(description="行键", examples=["0/total"])
    column: str = Field(description="列键", examples=["total"])
    yuan: str = Field(description="精确金额 (元)", examples=["18025162.66"])
    wan: str = Field(description="印刷金额 (万元, 两位小数)", examples=["1802.52"])
    cell: int | None = Field(None, description="该金额在本行 cells 中的位置", examples=[2])


class RowOut(BaseModel):
    cells: list[str] = Field(description="按文件排版的一行: 标签与金额 (万元), 零为空",
                             examples=[["", "合计", "1802.52", "1590.82", "211.70"]])
    amounts: list[AmountOut]


class HeaderCellOut(BaseModel):
    text: str = Field(examples=["2024年预算数"])
    row: int = Field(description="表头行 (从 0 起)", examples=[0])
    column: int = Field(description="所在列 (从 0 起, 合并格为其最左一列)", examples=[2])
    rowspan: int = Field(description="向下合并的行数", ge=1, examples=[1])
    colspan: int = Field(description="向右合并的列数", ge=1, examples=[3])


class TableOut(BaseModel):
    number: int = Field(examples=[3])
    name: str = Field(examples=["表三"])
    title: str = Field(examples=["2024年预算支出总表"])
    empty: bool = Field(description="本表无数据", examples=[False])
    header: list[list[str]] = Field(description="表头各行的文字, 按文件排版 (合并格只在其左上格有文字, 其余为空; "
                                                "行末的空格省去)",
                                    examples=[[["项目", "", "2024年预算数"],
                                               ["科目编码", "科目名称", "合计", "基本支出", "项目支出"]]])
    header_cells: list[HeaderCellOut] = Field(description="表头的每个格及其合并 (跨行、跨列), 与印刷的表头相同")
    rows: list[RowOut]


class TablesOut(BaseModel):
    department: str = Field(examples=[DEPARTMENT_EXAMPLE])
    fiscal_year: int = Field(examples=[YEAR_EXAMPLE])
    point: str = Field(description="所取的时点", examples=["最新"])
    unit: str = Field(examples=["万元"])
    tables: list[TableOut]


class NarrativeOut(BaseModel):
    department: str = Field(examples=[DEPARTMENT_EXAMPLE])
    fiscal_year: int = Field(examples=[YEAR_EXAMPLE])
    point: str = Field(examples=["最新"])
    text: str = Field(description="由事件重新生成的第三部分 情况说明",
                      examples=["2024年度长治市住房公积金管理中心预算收入总计1,802.52万元，…比上年增加12.46万元，增长0.70%"])
    paragraphs: list[str]


class RecordedOut(BaseModel):
    department: str = Field(examples=[DEPARTMENT_EXAMPLE])
    fiscal_year: int = Field(examples=[YEAR_EXAMPLE])
    event_id: str
    position: int = Field(description="通知位置", examples=[91])
    kind: str = Field(examples=["adjustment"])
    version: int = Field(description="记录后的预算版本 (也在 ETag 头中)", examples=[91])
    effective: date | None = Field(None, description="事件所记的生效日期", examples=["2024-06-30"])
    effective_note: str | None = Field(None, description="命令未给生效日期时, 所取日期的依据",
                                       examples=["未给生效日期; 2024年度已结束, 取年度最后一天 2024-12-31"])


class ImportOut(BaseModel):
    department: str = Field(examples=[DEPARTMENT_EXAMPLE])
    fiscal_year: int = Field(examples=[YEAR_EXAMPLE])
    recorded: int = Field(description="记录的事件数", examples=[90])
    already_imported: bool = Field(description="同一文件已导入过, 本次未记录", examples=[False])
    positions: list[int] | None = Field(description="首末事件的通知位置", examples=[[1, 90]])
    version: int = Field(examples=[90])
    tables: dict[str, str] | None = Field(description="表一…表十三: data 或 empty", examples=[{"表一": "data"}])
    rounding_cells: list[str] = Field(description="下级印刷数相加不等于本格的印刷格 (尾差)")
    rounding: list[dict[str, Any]] = Field(description="为重现印刷数取了精确金额的末级数")
    notes: list[str]


class EventOut(BaseModel):
    position: int = Field(description="通知位置 (全局顺序)", examples=[91])
    budget_id: str
    event_id: str
    version: int = Field(description="事件在其预算中的版本", examples=[91])
    kind: str = Field(examples=["adjustment"])
    kind_label: str = Field(examples=["预算调整"])
    recorded_at: UtcDateTime
    effective: date | None = Field(examples=["2024-06-30"])
    reason: str = Field(examples=["人员增资"])
    document_no: str | None = Field(examples=["长财预〔2024〕12号"])
    actor: str | None = Field(None, description="记录人: HTTP 为令牌的 角色:名称, 命令行为 cli:用户名; 早期事件为空",
                              examples=["officer:alice"])
    detail: dict[str, Any]
    point: int | None = Field(None, description=(
        "时间线上显示此事件的时点 (as_of): 事件的位置; 导入中的事件为该次导入的最后位置 (一个预算的事件中才有)"),
        examples=[90])


class EventPage(BaseModel):
    """One page of the notification log. Pass `next_after` as `after` to read the next page."""

    items: list[EventOut]
    next_after: int | None = Field(description="下一页的游标 (本页最后一个位置); 没有更多时为空", examples=[100])
    last_position: int = Field(description="日志当前的最后位置", examples=[90])


class Health(BaseModel):
    """The counts are given only to a reader when reads need a token."""

    status: str = Field(description="ok, 或存储不可用时 error", examples=["ok"])
    store: str | None = Field(None, examples=["sqlite"])
    position: int | None = Field(None, description="事件日志的最后位置", examples=[90])
    projected: int | None = Field(None, description="读模型已处理到的位置", examples=[90])
    budgets: int | None = Field(None, examples=[1])
    chain: str | None = Field(None, description=(
        "哈希链状态: ok | broken | unverified. 健康检查本身不校验 (完整校验要重放全部事件): 这是最近一次 "
        "ledger verify (或 ledger rebuild 之前的校验) 的结果; 其后记录的事件尚未校验"), examples=["ok"])
    chain_verified_at: UtcDateTime | None = Field(None, description="最近一次校验的时间")
    chain_verified_position: int | None = Field(None, description="最近一次校验开始时事件日志的最后位置",
                                                examples=[90])
    chain_broken_since: UtcDateTime | None = Field(None, description="链为 broken 时: 最先发现断开的那次校验的时间")
    chain_problems: list[str] | None = Field(None, description="链为 broken 时: 最近一次校验的发现")
