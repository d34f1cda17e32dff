"""An audit report as text (for a person), CSV (for a spreadsheet) or JSON (the model)."""

from __future__ import annotations

import csv
import io

from ..tables.formats import safe_cell
from .model import SEVERITIES, AuditReport

COLUMNS = ("severity", "rule", "title", "page", "x", "y", "line", "table", "row", "column", "span", "text",
           "stated", "expected", "difference", "rounding", "explanation", "message", "sentence")
HEADINGS = ("严重程度", "规则", "规则名称", "页", "x", "y", "行", "表", "行名", "栏", "字符位置", "文字",
            "文件写的", "应为", "差异", "尾差可解释", "精确金额", "说明", "句子")


def to_text(report: AuditReport) -> str:
    head = [f"审校: {report.document}",
            f"  {report.department or '部门不详'} {report.fiscal_year or ''}年度 布局 {report.layout or '不详'}"
            f" (规则版本 {report.rules_version})",
            "  " + "  ".join(f"{s} {report.counts.get(s, 0)}" for s in SEVERITIES)]
    head += [f"  {note}" for note in report.notes]
    lines = []
    for f in report.findings:
        lines.append(f"{f.severity} [{f.rule}] {f.place.describe()}: {f.message}")
        if f.place.sentence:
            lines.append(f"    句子: {f.place.sentence[:160]}")
    return "\n".join(head + [""] + lines) + "\n"


def _value(finding, column: str) -> str:
    return safe_cell(_plain(finding, column))


def _plain(finding, column: str) -> str:
    if column in ("severity", "rule", "title", "stated", "expected", "difference", "explanation", "message"):
        value = getattr(finding, column)
    elif column == "rounding":
        value = {True: "是", False: "否", None: ""}[finding.rounding]
    elif column == "span":
        value = f"{finding.place.span[0]}-{finding.place.span[1]}" if finding.place.span else ""
    else:
        value = getattr(finding.place, column)
    return "" if value is None else str(value)


def to_csv(report: AuditReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADINGS)
    for f in report.findings:
        writer.writerow([_value(f, c) for c in COLUMNS])
    return out.getvalue()


def raw(finding, column: str) -> object:
    """A cell's value for XLSX: numbers as numbers, text as it is (text_only makes it safe)."""
    if column in ("page", "line", "x", "y"):
        return getattr(finding.place, column)
    return _plain(finding, column)
