"""Audit a document: read what can be read, run every rule, collect the findings.

Nothing is recorded. A document that cannot be imported is still audited: what stops its
reading becomes findings (with their places), and the rules run on what was read."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ..ingest.errors import DocumentRejected, Problem
from ..tables.layouts import DEFAULT
from ..ingest.source import Document, Location, TextFlow
from .model import SEVERITIES, AuditReport, Finding, Place, PrintedCellOut, PrintedTableOut, rule_set

if TYPE_CHECKING:
    from ..ingest.final_narrative import FinalNarrative
    from ..ingest.importer import ImportPlan
    from ..ingest.narrative import PriorFigure
    from ..ingest.printed import ReadDocument
    from ..ingest.tables import ReadTable


@dataclass(frozen=True)
class PriorCheck:
    """A 上年数 a document states against last year's own figure in the ledger (the rule
    history.prior_year): both in 万元 as printed, where each comes from, and where the stated
    one stands (a span of the running text, or a text to find there)."""

    label: str
    stated: Decimal
    ledger: Decimal
    basis: str  # the ledger's: which budget, which point
    source: str  # the document's: 本年文件所列 …
    span: tuple[int, int] | None = None
    marker: str | None = None  # a pattern of the running text that marks it (when no span)


@dataclass
class Audited:
    """What the rules look at: the document as read, as far as it could be."""

    name: str
    sha256: str
    document: Document | None = None
    flow: TextFlow | None = None
    year: int | None = None
    phase: str | None = None  # budget | final
    read: ReadDocument | None = None
    tables: dict[int, ReadTable] = field(default_factory=dict)  # number → as printed (万元 values)
    problems: list[Problem] = field(default_factory=list)  # what reading found wrong
    plan: ImportPlan | None = None  # the import plan, when the document imports
    final: FinalNarrative | None = None
    priors: list[PriorFigure] = field(default_factory=list)  # a budget narrative's 比上年 sentences
    notes: list[str] = field(default_factory=list)
    department: str | None = None  # when known without reading tables
    # stated 上年数 against last year's own events, where the ledger holds last year: the rule
    # history.prior_year reads them (Ledger.audit_budget, Ledger.audit_document_in_ledger)
    prior_checks: list[PriorCheck] = field(default_factory=list)

    def place(self, start: int, end: int, **extra: object) -> Place:
        """The place of a span of the running text (page and position, or line)."""
        assert self.flow is not None
        found = self.flow.locate(start, end)
        at = found[0] if found else self.flow.location_at(start)
        return place_of(at, span=(start, end), text=self.flow.text[start:end], **extra)


def place_of(at: Location | None, **extra: object) -> Place:
    out = Place(**extra)
    if at is not None:
        out.page, out.line = at.page, at.line
        if at.box is not None:
            out.x, out.y = round(at.box.x0, 1), round(at.box.top, 1)
    return out


def finding(rule: str, message: str, place: Place, *, severity: str | None = None, **fields: object) -> Finding:
    spec = rule_set().rules[rule]
    return Finding(rule=rule, severity=severity or spec.severity, title=spec.name, message=message, place=place,
                   **fields)


def _seed_titles(document, year: int) -> bool:
    """Whether a text that says 部门预算公开 prints the seed's tables (not another layout's)."""
    from ..ingest.printed import choose_layout

    try:
        return choose_layout(document, year).id == DEFAULT
    except DocumentRejected:
        return True


def read_for_audit(data: bytes, name: str) -> Audited:
    """Read a document as far as it can be read; what stops reading goes into `problems`."""
    from ..ingest import document as text_layout
    from ..ingest.budget_layout import plan_budget_layout
    from ..ingest.final import plan_final
    from ..ingest.final_narrative import parse as parse_final
    from ..ingest.importer import plan_import
    from ..ingest.narrative import parse_narrative
    from ..ingest.printed import fiscal_year, read
    from ..ingest.source import read_source
    from ..ingest.tables import read_table

    audited = Audited(name=name, sha256=hashlib.sha256(data).hexdigest())
    try:
        audited.document = read_source(data, name)
    except DocumentRejected as exc:
        audited.problems.extend(exc.problems)
        return audited
    audited.flow = audited.document.flow()
    try:
        audited.year = fiscal_year(audited.document)[0]
    except DocumentRejected as exc:
        audited.problems.extend(exc.problems)
        return audited
    head = audited.flow.text[:4000]
    if audited.document.source == "text" and "部门预算公开" in head and _seed_titles(audited.document, audited.year):
        audited.phase = "budget"
        try:
            disclosure = text_layout.parse(data, name)
            audited.priors = parse_narrative(disclosure.lines, disclosure.narrative_start, []).priors
        except DocumentRejected as exc:
            audited.problems.extend(exc.problems)
            return audited
        try:
            audited.plan = plan_import(data, name)
        except DocumentRejected as exc:
            audited.problems.extend(exc.problems)
        audited.notes.append("按「部门预算公开 (13张表, 文本)」读取")
        return audited
    try:
        audited.read = read(audited.document, audited.problems)
    except DocumentRejected as exc:
        audited.problems.extend(exc.problems)
        return audited
    lay = audited.read.layout
    audited.phase = lay.phase
    audited.notes.extend(audited.read.notes)
    ctx = {"department": audited.read.department, "year": audited.year, "units": [audited.read.department]}
    table_problems: list[Problem] = []
    for number, printed in audited.read.tables.items():
        audited.tables[number] = read_table(printed, ctx, table_problems, lay.money)
    audited.problems.extend(table_problems)
    if lay.phase == "final":
        audited.final = parse_final(audited.read.flow)
        if not audited.problems:
            try:
                audited.plan = plan_final(audited.read, audited.sha256)
            except DocumentRejected as exc:
                audited.problems.extend(exc.problems)
    elif lay.id != DEFAULT:  # a budget layout of its own (the 9 tables in 元): the import's solve
        if not audited.problems:
            try:
                audited.plan = plan_budget_layout(audited.read, audited.sha256)
            except DocumentRejected as exc:
                audited.problems.extend(exc.problems)
        audited.notes.append(f"布局「{lay.name}」: 表间勾稽按导入的求解核对; 情况说明核对尚未实现")
    else:
        audited.notes.append(f"布局「{lay.name}」的表间勾稽与情况说明核对尚未实现; 只审校了文字规则")
    return audited


def audit_document(data: bytes, name: str, with_text: bool = False, *,
                   prior_checks: Callable[[Audited], list[PriorCheck]] | None = None) -> AuditReport:
    """Every finding of every rule on a document (nothing recorded); with_text: the running
    text the findings' spans point into, for showing them in place. `prior_checks`: what the
    ledger holds of the year before, against what the document as read states of it."""
    audited = read_for_audit(data, name)
    if prior_checks is not None:
        audited.prior_checks = prior_checks(audited)
    return _report(audited, with_text)


def audit_narrative(text: str, name: str, department: str, fiscal_year: int, *,
                    prior_checks: list[PriorCheck] | None = None) -> AuditReport:
    """The rules that read running text, on a 部门预算 narrative alone (one the ledger wrote
    from its events: an audit of a recorded budget whose tables the ledger itself rendered)."""
    from ..ingest.narrative import parse_narrative
    from ..ingest.textsource import read_text

    data = text.encode("utf-8")
    audited = Audited(name=name, sha256=hashlib.sha256(data).hexdigest(), year=fiscal_year, phase="budget")
    audited.document = read_text(data, name)
    audited.flow = audited.document.flow()
    audited.priors = parse_narrative(text.split("\n"), 1, []).priors
    audited.department = department
    audited.prior_checks = list(prior_checks or [])
    audited.notes.append("审校了由账本的事件写出的情况说明 (表由账本自己生成, 表间勾稽在记录时已检查)")
    return _report(audited, False)


def _report(audited: Audited, with_text: bool) -> AuditReport:
    from .checks import CHECKS

    findings: list[Finding] = []
    for check in CHECKS.values():
        findings.extend(check(audited))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.place.page or 0, f.place.line or 0,
                                 f.place.span[0] if f.place.span else 0, f.rule))
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    read = audited.read
    return AuditReport(
        document=audited.name, sha256=audited.sha256, layout=read.layout.id if read else (audited.plan.layout if audited.plan else None),
        department=read.department if read else (audited.plan.department if audited.plan else audited.department),
        fiscal_year=audited.year, rules_version=rule_set().version, findings=findings, counts=counts,
        notes=audited.notes, text=audited.flow.text if with_text and audited.flow is not None else None,
        tables=_printed_tables(audited) if with_text else None,
    )


def _printed_tables(audited: Audited) -> list[PrintedTableOut] | None:
    """The tables as printed, each cell with its place, for showing findings on them."""
    if audited.read is None:
        return None
    out = []
    for number in sorted(audited.read.tables):
        printed = audited.read.tables[number]
        rows = []
        for row in list(printed.header) + list(printed.rows):
            cells = []
            for i, text in enumerate(row.cells):
                own = row.cell_locations[i] if i < len(row.cell_locations) else None  # a cell's own place only
                box = (round(own.box.x0, 1), round(own.box.top, 1), round(own.box.x1, 1), round(own.box.bottom, 1)) \
                    if own is not None and own.box is not None and text else None
                page = own.page if own is not None else (row.location.page if row.location else None)
                cells.append(PrintedCellOut(text=text, page=page, box=box, line=row.line or None))
            rows.append(cells)
        out.append(PrintedTableOut(table=printed.definition.name, title=printed.definition.title_for(audited.year or 0),
                                   rows=rows))
    return out
