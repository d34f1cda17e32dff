"""What an audit reports: findings, each with its rule, severity, place and figures."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from ..tables.definitions import SafeLoader, projections_dir

Severity = Literal["错误", "疑似", "提示"]
SEVERITIES: tuple[str, ...] = ("错误", "疑似", "提示")


class Place(BaseModel):
    """Where a finding is: page and position (PDF) or line (text); table, row, column; the
    narrative sentence and the character span of the number in the document's running text."""

    page: int | None = None
    x: float | None = None
    y: float | None = None
    line: int | None = None
    table: str | None = Field(None, examples=["表一"])
    row: str | None = None
    column: str | None = None
    sentence: str | None = None
    span: tuple[int, int] | None = Field(None, description="数字在全文 (text flow) 中的字符位置 [起, 止)")
    text: str | None = Field(None, description="span 所指的文字")

    def describe(self) -> str:
        parts = []
        if self.page is not None:
            parts.append(f"第{self.page}页" + (f" (x={round(self.x)}, y={round(self.y)})" if self.x is not None
                                              and self.y is not None else ""))
        if self.line is not None:
            parts.append(f"第{self.line}行")
        for part in (self.table, self.row, self.column):
            if part:
                parts.append(part)
        return " ".join(parts) or "文件"


class PrintedCellOut(BaseModel):
    text: str
    page: int | None = None
    box: tuple[float, float, float, float] | None = Field(None, description="x0, top, x1, bottom (PDF 点)")
    line: int | None = None


class PrintedTableOut(BaseModel):
    """A table as the document prints it (with_text): its rows of cells, each with its place."""

    table: str = Field(examples=["表一"])
    title: str
    rows: list[list[PrintedCellOut]]


class Finding(BaseModel):
    rule: str = Field(examples=["narrative.change"])
    severity: Severity
    title: str = Field(description="规则名称", examples=["比上年增减率"])
    message: str
    place: Place
    stated: str | None = Field(None, description="文件写的")
    expected: str | None = Field(None, description="由表或历史得出的")
    difference: str | None = None
    rounding: bool | None = Field(None, description="差异能否由尾差解释 (不适用时为空)")
    explanation: str | None = Field(None, description="能由尾差解释时: 得出两者的精确金额")


class Rule(BaseModel):
    id: str
    severity: Severity
    name: str
    description: str


class RuleSet(BaseModel):
    version: int
    rules: dict[str, Rule]


class AuditReport(BaseModel):
    document: str
    sha256: str | None = None
    layout: str | None = Field(None, description="读取所用的布局")
    department: str | None = None
    fiscal_year: int | None = None
    rules_version: int
    findings: list[Finding]
    counts: dict[str, int] = Field(description="各严重程度的发现数")
    notes: list[str] = Field(default_factory=list, description="审校本身的说明 (读取了什么, 哪些规则未适用)")
    text: str | None = Field(None, description="文件的正文 (span 所指的全文); 请求 with_text 时才给出")
    tables: list[PrintedTableOut] | None = Field(None, description="文件印刷的各表及每格的位置; 请求 with_text 时才给出")


@cache
def rule_set(path: str | None = None) -> RuleSet:
    """The rules of projections/audit/rules.yaml (id, severity, name, description)."""
    file = Path(path) if path else projections_dir() / "audit" / "rules.yaml"
    data = yaml.load(file.read_text(encoding="utf-8"), Loader=SafeLoader)
    rules = {key: Rule(id=key, **value) for key, value in data["rules"].items()}
    return RuleSet(version=data["version"], rules=rules)
