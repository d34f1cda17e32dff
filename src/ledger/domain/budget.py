"""The Budget aggregate: one event stream per department and fiscal year.

Command methods check the rules first and only then trigger an event, so a refused
command records nothing. Event methods (decorated with @event) only change state: they
run again, unchanged, whenever the budget is replayed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate, event

from . import classification
from .postings import Line
from .rules import (
    LINE_KIND_WORDS,
    Violation,
    check_invariants,
    check_limits,
    check_line,
    check_native_line,
    line_kind,
    marginal_balances,
)

NAMESPACE = uuid.UUID("6f1c3c62-8c1e-4c59-9a57-3f3d1f0b7a10")


def budget_id(department: str, fiscal_year: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{department}/{fiscal_year}")


class RuleViolation(Exception):
    """A command that would break a budget rule. Nothing was recorded."""

    def __init__(self, violations: Sequence[Violation]):
        self.violations = list(violations)
        super().__init__("；".join(str(v) for v in self.violations))


Dims = tuple[tuple[str, str], ...]


class Budget(Aggregate):
    """A department's budget for one fiscal year, as the history of what was recorded."""

    # ------------------------------------------------------------------- events
    # Each kind of event, with its fields, is named once: here. The read side and the history
    # refer to these classes (EVENT_KINDS below), never to their names as text. The field
    # order is the stored order (eventsourcing writes an event's fields as they are declared).
    # Every event ends with `actor`, who recorded it (issue 20): "role:name" of the token over
    # HTTP, "cli:name" on the command line; None in events recorded before (and by code that
    # names no one), so that a store written before still loads.

    class Opened(Aggregate.Created):
        department: str
        fiscal_year: int
        units: list[dict[str, str]]
        effective: date
        reason: str
        provenance: dict[str, Any] | None
        actor: str | None = None  # who recorded it (see above)

    class Appropriated(Aggregate.Event):
        event_id: str
        lines: list[dict[str, Any]]
        effective: date
        reason: str
        provenance: dict[str, Any] | None
        document_no: str | None
        actor: str | None = None  # who recorded it (see above)

    class Adjusted(Aggregate.Event):
        event_id: str
        lines: list[dict[str, Any]]
        effective: date
        reason: str
        document_no: str | None
        actor: str | None = None  # who recorded it (see above)

    class Transferred(Aggregate.Event):
        event_id: str
        lines: list[dict[str, Any]]
        effective: date
        reason: str
        document_no: str | None
        actor: str | None = None  # who recorded it (see above)

    class Corrected(Aggregate.Event):
        event_id: str
        corrected_event_id: str
        lines: list[dict[str, Any]]
        effective: date
        reason: str
        document_no: str | None
        answers: str | None = None  # the audit finding it answers (「审校事件id#序号」); added with audits
        actor: str | None = None  # who recorded it (see above)

    class PriorYearFigureStated(Aggregate.Event):
        event_id: str
        lines: list[dict[str, Any]]
        effective: date
        reason: str
        provenance: dict[str, Any] | None
        actor: str | None = None  # who recorded it (see above)

    class ProjectRegistered(Aggregate.Event):
        event_id: str
        name: str
        unit: str
        category: str
        annual_amount: Decimal | None
        targets: dict[str, Any]
        effective: date
        reason: str
        provenance: dict[str, Any] | None
        actor: str | None = None  # who recorded it (see above)

    class DocumentImported(Aggregate.Event):
        event_id: str
        sha256: str
        name: str
        tables: dict[str, str]
        rounding: list[dict[str, Any]]
        effective: date
        reason: str
        # Added with layouts (issue 17); events recorded before have neither (read as the
        # 13-table 部门预算, phase budget).
        layout: str | None = None
        phase: str | None = None  # budget | final
        actor: str | None = None  # who recorded it (see above)

    class FinalAccountsRecorded(Aggregate.Event):
        """What a budget's year came to (决算数), and the budget the 决算 states beside it, as
        a 决算 document reports them."""

        event_id: str
        lines: list[dict[str, Any]]
        effective: date
        reason: str
        provenance: dict[str, Any] | None
        actor: str | None = None  # who recorded it (see above)

    class Published(Aggregate.Event):
        event_id: str
        name: str
        effective: date
        reason: str
        chain_position: int
        chain_head: str
        tables_digest: str
        layout: str | None = None  # whose tables the digest covers (None: the 13-table 部门预算)
        actor: str | None = None  # who recorded it (see above)
        # Signed (issue 21.2) when the ledger has a signing key (LEDGER_SIGNING_KEY): Ed25519
        # over the anchor above (application/checkpoints.publication_anchor), and the key's id.
        signature: str | None = None
        key_id: str | None = None

    class AuditRecorded(Aggregate.Event):
        """An audit (审校) of this budget or of a document of it: what was audited, under which
        version of the rules, and every finding (rule, severity, place, message ...)."""

        event_id: str
        document: str  # the document's name, or what the ledger wrote from its events
        sha256: str | None
        rules_version: int
        counts: dict[str, int]
        findings: list[dict[str, Any]]
        effective: date
        reason: str
        actor: str | None = None  # who recorded it (see above)

    @staticmethod
    def create_id(department: str, fiscal_year: int) -> uuid.UUID:
        return budget_id(department, fiscal_year)

    # ---------------------------------------------------------- effective dates

    def year_span(self) -> tuple[date, date]:
        """The fiscal year's first and last day (a Chinese fiscal year is the calendar year)."""
        return date(self.fiscal_year, 1, 1), date(self.fiscal_year, 12, 31)

    def default_effective(self, today: date) -> date:
        """The effective date of a command given without one: today while the fiscal year
        runs; for a year already over, its last day (12-31: what the year came to); for a
        year not yet begun, its first day (01-01)."""
        first, last = self.year_span()
        return min(max(today, first), last)

    def _check_effective(self, effective: date) -> None:
        first, last = self.year_span()
        if not first <= effective <= last:
            raise RuleViolation([Violation("effective-in-year", (
                f"生效日期 (effective) {effective.isoformat()} 不在 {self.fiscal_year} 预算年度内 "
                f"({first.isoformat()} 至 {last.isoformat()}); 请给出本年度内的日期"))])

    def correction_effective(self, effective: date | None) -> date | None:
        """The effective date a correction takes unless told otherwise: the reversed event's
        own (kept inside the fiscal year, for an event recorded before dates were checked), so
        that a point by effective date no longer counts the error."""
        if effective is None:
            return None
        first, last = self.year_span()
        return min(max(effective, first), last)

    @event(Opened)
    def __init__(
        self,
        department: str,
        fiscal_year: int,
        units: list[dict[str, str]],
        effective: date,
        reason: str,
        provenance: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> None:
        self.department = department
        self.fiscal_year = fiscal_year
        self.units = {u["name"]: u["category"] for u in units}
        self.balances: dict[Dims, Decimal] = defaultdict(Decimal)
        self.corrected: dict[str, str] = {}  # corrected event id → correcting event id
        self.projects: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, int] = {}  # sha256 → version that imported it
        self.phases: dict[str, str] = {}  # phase (budget | final) → sha256 of the document that imported it
        self.publications: dict[str, int] = {}  # name → version
        self.audits: dict[str, int] = {}  # audit event id → its number of findings

    # ----------------------------------------------------------------- commands

    def appropriate(self, lines: Sequence[Line], *, effective: date, reason: str,
                    provenance: dict[str, Any] | None = None, document_no: str | None = None,
                    native: bool = True, actor: str | None = None) -> str:
        self._check_effective(effective)
        self._check(lines, native=native)
        eid = _new_id()
        self._appropriated(eid, [line.to_dict() for line in lines], effective, reason,
                                  provenance, document_no, actor=actor)
        return eid

    def adjust(self, lines: Sequence[Line], *, effective: date, reason: str,
               document_no: str | None = None, actor: str | None = None) -> str:
        self._check_effective(effective)
        self._check(lines, native=True)
        eid = _new_id()
        self._adjusted(eid, [line.to_dict() for line in lines], effective, reason, document_no, actor=actor)
        return eid

    def transfer(self, source: Line, target: Line, *, effective: date, reason: str,
                 document_no: str | None = None, actor: str | None = None) -> str:
        self._check_effective(effective)
        if source.amount <= 0:
            raise RuleViolation([Violation("positive-transfer", "调剂金额必须为正数")])
        if source.dims == target.dims:
            raise RuleViolation([Violation("distinct-lines", "调剂的调出行与调入行相同")])
        if line_kind(source) != line_kind(target):
            # “三公”经费 and 政府采购 are figures of the spending, not money beside it: moving an
            # amount between them and a spending line would change one total and not the other.
            raise RuleViolation([Violation("same-kind-transfer", (
                f"调剂的调出行与调入行须同类: 调出行是{LINE_KIND_WORDS[line_kind(source)]}, "
                f"调入行是{LINE_KIND_WORDS[line_kind(target)]}; “三公”经费与政府采购是支出的一部分, "
                "支出变了请另以支出行调整"))])
        lines = [source.negated(), Line(target.dims, source.amount)]
        self._check(lines, native=True)
        eid = _new_id()
        self._transferred(eid, [line.to_dict() for line in lines], effective, reason, document_no, actor=actor)
        return eid

    def correct(self, event_id: str, lines: Sequence[Line] | None, *, effective: date | None = None,
                reversed_effective: date | None = None, reason: str, document_no: str | None = None,
                answers: str | None = None, actor: str | None = None) -> str:
        """Reverse an event of this budget: `lines` are its lines as recorded and
        `reversed_effective` its effective date (the caller reads them from the budget's history;
        lines None: no such event with lines in this budget). Without an effective date the
        correction takes the reversed event's (correction_effective). The budget keeps no copy
        of every event's lines, so that its state (and its snapshots, eventstore/snapshots.py)
        stays as large as its leaves, not its history."""
        if answers is not None:
            self._check_finding(answers)
        if not lines:
            raise RuleViolation([Violation("known-event", f"本预算没有可更正的事件 {event_id}")])
        if effective is None:
            effective = self.correction_effective(reversed_effective) or self.year_span()[1]
        self._check_effective(effective)
        if event_id in self.corrected:
            raise RuleViolation([Violation("correct-once", f"事件 {event_id} 已由 {self.corrected[event_id]} 更正")])
        if not reason.strip():
            raise RuleViolation([Violation("reason", "更正必须写明原因")])
        reversal = [line.negated() for line in lines]
        # Reversing a figure imported on one axis alone would leave the other axis standing:
        # a correction must keep the cross-axis rules too.
        self._check(reversal, native=False, invariants=True)
        eid = _new_id()
        self._corrected(eid, event_id, [line.to_dict() for line in reversal], effective,
                        reason, document_no, answers=answers, actor=actor)
        return eid

    def record_audit(self, document: str, *, sha256: str | None, rules_version: int, counts: dict[str, int],
                     findings: Sequence[dict[str, Any]], effective: date, reason: str,
                     actor: str | None = None) -> str:
        """Record an audit and its findings (each numbered from 1: 「审校事件id#1」 names the first)."""
        self._check_effective(effective)
        problems = [Violation("finding", f"第{i}处发现的严重程度应为 错误、疑似 或 提示")
                    for i, f in enumerate(findings, 1) if f.get("severity") not in ("错误", "疑似", "提示") or not f.get("rule")]
        if not document.strip():
            problems.append(Violation("audit-document", "审校必须写明审校了什么 (文件名)"))
        if problems:
            raise RuleViolation(problems)
        eid = _new_id()
        self._audit_recorded(eid, document, sha256, rules_version, dict(counts), [dict(f) for f in findings],
                             effective, reason, actor=actor)
        return eid

    def _check_finding(self, reference: str) -> None:
        audit, _, number = reference.partition("#")
        if audit not in self.audits:
            raise RuleViolation([Violation("known-finding", f"本预算没有审校事件 {audit} (发现写作 审校事件id#序号)")])
        if not number.isdigit() or not 1 <= int(number) <= self.audits[audit]:
            raise RuleViolation([Violation("known-finding",
                                           f"审校 {audit} 的发现为第1–{self.audits[audit]}处, 没有「{number}」")])

    def state_prior_year(self, lines: Sequence[Line], *, effective: date, reason: str,
                         provenance: dict[str, Any] | None = None, actor: str | None = None) -> str:
        self._check_effective(effective)
        for line in lines:
            if line.d.get("measure") != "prior_year":
                raise RuleViolation([Violation("prior-year", "上年数必须是 prior_year 口径")])
        eid = _new_id()
        self._prior_year_stated(eid, [line.to_dict() for line in lines], effective,
                                       reason, provenance, actor=actor)
        return eid

    def register_project(self, name: str, *, unit: str, category: str, annual_amount: Decimal,
                         targets: dict[str, Any], effective: date, reason: str,
                         provenance: dict[str, Any] | None = None, actor: str | None = None) -> str:
        self._check_effective(effective)
        if name in self.projects:
            raise RuleViolation([Violation("unique-project", f"项目「{name}」已登记")])
        if unit not in self.units:
            raise RuleViolation([Violation("known-unit", f"未知单位: {unit}")])
        eid = _new_id()
        self._project_registered(eid, name, unit, category, annual_amount, targets,
                                        effective, reason, provenance, actor=actor)
        return eid

    def import_document(self, sha256: str, *, name: str, tables: dict[str, str],
                        rounding: list[dict[str, Any]], effective: date, reason: str,
                        layout: str | None = None, phase: str | None = None,
                        actor: str | None = None) -> str:
        self._check_effective(effective)
        if sha256 in self.documents:
            raise RuleViolation([Violation("import-once", f"文件已导入 (版本 {self.documents[sha256]})")])
        if (phase or "budget") in self.phases:
            word = {"budget": "预算", "final": "决算"}.get(phase or "budget", phase)
            raise RuleViolation([Violation("one-document", (
                f"{self.department} {self.fiscal_year}年{word}已由另一份公开文件导入; "
                "其后的变化请以调整、调剂或更正记录"))])
        eid = _new_id()
        self._document_imported(eid, sha256, name, tables, rounding, effective, reason, layout, phase,
                                actor=actor)
        return eid

    def record_final(self, lines: Sequence[Line], *, effective: date, reason: str,
                     provenance: dict[str, Any] | None = None, actor: str | None = None) -> str:
        """Record 决算 figures (measure final) and the budget a 决算 states (budget_stated)."""
        self._check_effective(effective)
        for line in lines:
            if line.d.get("measure") not in ("final", "budget_stated"):
                raise RuleViolation([Violation("final-measure", "决算数必须是 final 或 budget_stated 口径")])
        self._check(lines, native=False)
        eid = _new_id()
        self._final_recorded(eid, [line.to_dict() for line in lines], effective, reason, provenance, actor=actor)
        return eid

    def publish(self, name: str, *, effective: date, reason: str, chain_position: int, chain_head: str,
                tables_digest: str, layout: str | None = None, actor: str | None = None,
                sign: Any = None) -> str:
        """A named checkpoint. It anchors the hash chain (its head when published) and the
        digest of the tables as published, so that later tampering is evident; `sign` (the
        anchor's fields → (signature, key id)) signs that anchor."""
        self._check_effective(effective)
        if not name.strip():
            raise RuleViolation([Violation("publication-name", "发布节点必须有名称")])
        if name in self.publications:
            raise RuleViolation([Violation("unique-publication", f"发布节点「{name}」已存在")])
        eid = _new_id()
        signed = {}
        if sign is not None:
            signed = dict(zip(("signature", "key_id"), sign({
                "budget": str(self.id), "name": name, "chain_position": chain_position, "chain_head": chain_head,
                "tables_digest": tables_digest, "layout": layout}), strict=True))
        self._published(eid, name, effective, reason, chain_position, chain_head, tables_digest,
                        **({"layout": layout} if layout else {}), actor=actor, **signed)
        return eid

    # ------------------------------------------------------------------- checks

    def _check(self, lines: Sequence[Line], *, native: bool, invariants: bool | None = None) -> None:
        if not lines:
            raise RuleViolation([Violation("empty", "没有预算行")])
        problems: list[Violation] = []
        for line in lines:
            problems += check_native_line(line) if native else check_line(line)
            unit = line.d.get("unit")
            if unit is not None and unit not in self.units:
                problems.append(Violation("known-unit", f"未知单位: {unit}"))
            project = line.d.get("project")
            if project is not None and project not in self.projects:
                problems.append(Violation("known-project", f"未登记的项目: {project}"))
        if problems:
            raise RuleViolation(problems)
        after = dict(self.balances)
        for line in lines:
            after[line.dims] = after.get(line.dims, Decimal(0)) + line.amount
        problems = marginal_balances(after, lines)
        if native if invariants is None else invariants:
            problems += check_invariants(after)
            problems += check_limits(self.balances, after, lines)
        if problems:
            raise RuleViolation(problems)

    # ------------------------------------------------------------ applying events

    def _post(self, event_id: str, lines: Iterable[dict[str, Any]]) -> None:
        for d in lines:
            line = Line.from_dict(d)
            self.balances[line.dims] += line.amount

    @event(Appropriated)
    def _appropriated(self, event_id: str, lines: list[dict[str, Any]], effective: date, reason: str,
                      provenance: dict[str, Any] | None, document_no: str | None,
                      actor: str | None = None) -> None:
        self._post(event_id, lines)

    @event(Adjusted)
    def _adjusted(self, event_id: str, lines: list[dict[str, Any]], effective: date, reason: str,
                  document_no: str | None, actor: str | None = None) -> None:
        self._post(event_id, lines)

    @event(Transferred)
    def _transferred(self, event_id: str, lines: list[dict[str, Any]], effective: date, reason: str,
                     document_no: str | None, actor: str | None = None) -> None:
        self._post(event_id, lines)

    @event(Corrected)
    def _corrected(self, event_id: str, corrected_event_id: str, lines: list[dict[str, Any]],
                   effective: date, reason: str, document_no: str | None, answers: str | None = None,
                   actor: str | None = None) -> None:
        self._post(event_id, lines)
        self.corrected[corrected_event_id] = event_id

    @event(PriorYearFigureStated)
    def _prior_year_stated(self, event_id: str, lines: list[dict[str, Any]], effective: date,
                           reason: str, provenance: dict[str, Any] | None, actor: str | None = None) -> None:
        self._post(event_id, lines)

    @event(ProjectRegistered)
    def _project_registered(self, event_id: str, name: str, unit: str, category: str,
                            annual_amount: Decimal, targets: dict[str, Any], effective: date,
                            reason: str, provenance: dict[str, Any] | None, actor: str | None = None) -> None:
        self.projects[name] = {"unit": unit, "category": category, "annual_amount": annual_amount}

    @event(DocumentImported)
    def _document_imported(self, event_id: str, sha256: str, name: str, tables: dict[str, str],
                           rounding: list[dict[str, Any]], effective: date, reason: str,
                           layout: str | None = None, phase: str | None = None,
                           actor: str | None = None) -> None:
        self.documents[sha256] = self.version
        self.phases[phase or "budget"] = sha256

    @event(FinalAccountsRecorded)
    def _final_recorded(self, event_id: str, lines: list[dict[str, Any]], effective: date, reason: str,
                        provenance: dict[str, Any] | None, actor: str | None = None) -> None:
        self._post(event_id, lines)

    @event(Published)
    def _published(self, event_id: str, name: str, effective: date, reason: str, chain_position: int,
                   chain_head: str, tables_digest: str, layout: str | None = None,
                   actor: str | None = None, signature: str | None = None, key_id: str | None = None) -> None:
        self.publications[name] = self.version

    @event(AuditRecorded)
    def _audit_recorded(self, event_id: str, document: str, sha256: str | None, rules_version: int,
                        counts: dict[str, int], findings: list[dict[str, Any]], effective: date, reason: str,
                        actor: str | None = None) -> None:
        if not hasattr(self, "audits"):  # a budget loaded from a snapshot taken before audits existed
            self.audits = {}
        self.audits[event_id] = len(findings)

    # -------------------------------------------------------------------- reads

    def agency_units(self) -> frozenset[str]:
        return classification.agency_units({"name": n, "category": c} for n, c in self.units.items())


def _new_id() -> str:
    return str(uuid.uuid4())


# What each kind of event is called in the history, the API and the feed.
EVENT_KINDS: dict[type[Aggregate.Event], str] = {
    Budget.Opened: "budget_opened",
    Budget.Appropriated: "appropriation",
    Budget.Adjusted: "adjustment",
    Budget.Transferred: "transfer",
    Budget.Corrected: "correction",
    Budget.PriorYearFigureStated: "prior_year_figure",
    Budget.ProjectRegistered: "project_registered",
    Budget.DocumentImported: "document_imported",
    Budget.Published: "publication",
    Budget.FinalAccountsRecorded: "final_accounts",
    Budget.AuditRecorded: "audit",
}

# The events that post lines (amounts at points of the budget): those with a `lines` field.
LINE_EVENTS: frozenset[type[Aggregate.Event]] = frozenset(
    cls for cls in EVENT_KINDS if "lines" in {f.name for f in fields(cls)})


def declared(cls: type[Aggregate.Event], *names: str) -> tuple[str, ...]:
    """Names of fields that a reader of stored events reads, checked against the event class
    (when the reader's module is imported): a renamed field fails loudly, not silently."""
    known = {f.name for f in fields(cls)}
    missing = [name for name in names if name not in known]
    if missing:
        raise TypeError(f"{cls.__qualname__} has no field {', '.join(missing)}")
    return names


def event_class(name: str) -> type[Aggregate.Event] | None:
    """The event class of this name (the last part of a stored topic), or None."""
    return _BY_NAME.get(name)


_BY_NAME = {cls.__name__: cls for cls in EVENT_KINDS}
