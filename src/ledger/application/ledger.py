"""The ledger's application service: commands that record events and queries that read the
read model. Entrypoints (CLI, HTTP) call only this."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from sqlalchemy import Engine, select, text

from ..audit import Audited, AuditReport, PriorCheck, audit_document, audit_narrative
from ..domain import classification, crosswalk, names
from ..domain.money import to_wan
from ..domain.budget import Budget, RuleViolation, budget_id
from ..domain.postings import Line
from ..domain.rules import Violation, check_invariants
from ..eventstore import BudgetEvents, EventLog, LoggedEvent, Storage, configured_url
from ..eventstore.sidewrite import SideWrite
from ..explain import figures, narrative
from ..explain import final as final_explain
from ..explain.model import Explanation, Money
from ..ingest.final import PRIOR_FIGURES as FINAL_PRIOR_FIGURES
from ..ingest.importer import ImportPlan, plan_document
from ..readmodel import lineage, queries, schema, verifications
from ..readmodel.chain import ChainProjector, tables_digest
from ..readmodel.projector import Projector
from ..tables import formats
from ..tables.definitions import spread
from ..tables.layouts import Layout, layout
from ..tables.render import Context, RenderedTable, render
from . import checkpoints, commands, documents, series, verify


class UnknownBudget(queries.NotFound):
    """No budget for that department and year."""


class ConcurrentChange(RuntimeError):
    """Someone else recorded on this budget meanwhile; nothing was recorded. Retry."""


class BrokenChain(RuntimeError):
    """A rebuild refused: verify found the recorded events tampered with (the findings are in
    the report). Rebuilding would fold them into the read model as if they were the history."""

    def __init__(self, report: verify.Report):
        self.report = report
        super().__init__("事件的哈希链校验失败, 未重建读模型:\n" + "\n".join(f"  {p}" for p in report.chain_problems))


@dataclass(frozen=True)
class Rebuilt:
    events: int  # replayed
    report: verify.Report  # what verify found before the rebuild
    over_broken_chain: bool  # rebuilt although the chain was broken (--force)


class KeyClaim(Protocol):
    """What a write is saved with so that its idempotency key (and the response) is recorded
    in the same transaction as its events (http/idempotency.py, eventstore/sidewrite.py):
    given how the save's result is made from its notification ids and versions, the row."""

    def side_write(self, result_of: Callable[[Sequence[int], Sequence[int]], Any]) -> SideWrite: ...


def _save_options(claim: KeyClaim | None, result_of: Callable[[Sequence[int], Sequence[int]], Any]) -> dict[str, Any]:
    return {} if claim is None else {"side_write": claim.side_write(result_of)}


def _budget_ids(department: str, fiscal_year: int) -> list[Any]:
    """The ids a department's budget of a year may have: of its name as recorded now
    (domain/names.py fold: NFC, radicals folded), or as a budget recorded before had it."""
    folded = names.fold(department)
    return [budget_id(folded, fiscal_year)] + ([budget_id(department, fiscal_year)] if folded != department else [])


@dataclass(frozen=True)
class Recorded:
    event_id: str
    position: int
    kind: str
    version: int  # the budget's version with this event
    effective: date | None = None  # the effective date the event was recorded with
    effective_note: str | None = None  # why that date, when the command gave none


@dataclass
class ImportResult:
    department: str
    fiscal_year: int
    recorded: int
    already_imported: bool
    positions: tuple[int, int] | None
    plan: ImportPlan | None = None
    notes: list[str] = field(default_factory=list)
    version: int | None = None  # the budget's version after the import (None: nothing recorded)


def _prior_statements(rows: list[queries.PostingRow]) -> list[figures.PriorStatement]:
    """Last year's figures as stated (a statement a correction reversed is withdrawn, not a
    statement of zero). A figure read from a document keeps the reason the document states."""
    reversed_ = {r.corrected_event_id for r in rows if r.corrected_event_id}
    out = []
    for p in rows:
        d = dict(p.dims)
        if d.get("measure") != "prior_year" or p.kind == "correction" or p.event_id in reversed_:
            continue
        reason = (p.provenance or {}).get("stated_reason", p.reason)
        out.append(figures.PriorStatement(d["figure"], d.get("three_public"), p.amount, reason, p.position))
    return out


def _sums(rows: Sequence[queries.PostingRow]) -> dict[Any, Decimal]:
    """Σ of postings per distinct set of dimensions."""
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for p in rows:
        sums[p.dims] += p.amount
    return sums


def _prior_of(year: int, sums: dict[Any, Decimal], units: Sequence[dict[str, str]], basis: str,
              last: int | None, final: bool) -> figures.PriorYear:
    """A year's figures as the year after compares with them: its budget's (or its 决算's)."""
    if final:
        return figures.PriorYear(year, final_explain.compared_values(sums, units), basis, last,
                                 figures.by_code(sums, final_explain.GENERAL))
    return figures.PriorYear(year, figures.compared_values(sums, units), basis, last,
                             figures.by_code(sums, figures.GENERAL_CURRENT),
                             figures.by_code(sums, figures.ECONOMIC, "economic", 5))


def _comparison_checks(comparisons: Sequence[Any]) -> list[PriorCheck]:
    """A recorded budget's comparisons that read last year's own figures beside a stated one,
    as the audit checks them (marked in the written narrative by its note of disagreement)."""
    return [PriorCheck(c.label, Decimal(c.stated.wan), Decimal(c.prior.wan), c.prior_basis,
                       "本年文件所列" + (f", 事件位置 {c.stated_at}" if c.stated_at is not None else ""),
                       marker=re.escape(f"本年文件所列上年数为{narrative.wan(c.stated)}万元"))
            for c in comparisons if c.prior_source == "ledger" and c.stated is not None]


MAX_ACTOR = 200  # characters of the text that names who recorded an event


def _actor(actor: str | None) -> str | None:
    """Who records (an event's `actor`): printable text of at most MAX_ACTOR characters, or
    None (no one named). Refused otherwise, recording nothing."""
    if actor is None:
        return None
    text = actor.strip()
    bad = next((ch for ch in text if ord(ch) < 32 or ord(ch) == 127), None)
    if not text or len(text) > MAX_ACTOR or bad is not None:
        raise RuleViolation([Violation("actor", (
            f"记录人 (actor) 应为 1–{MAX_ACTOR} 个可打印字符, 不是 {actor[:40]!r}"))])
    return text


def _default_note(budget: Budget, kind: str, effective: date | None, today: date | None) -> str | None:
    """Why a command given without an effective date got the date it did (the rule is the
    domain's: Budget.default_effective, Budget.correction_effective)."""
    if effective is None:
        return None
    if kind == "correction":
        return f"未给生效日期, 取被更正事件的生效日期 {effective.isoformat()}"
    first, last = budget.year_span()
    if today is not None and today > last:
        return f"未给生效日期; {budget.fiscal_year}年度已结束, 取年度最后一天 {effective.isoformat()}"
    if today is not None and today < first:
        return f"未给生效日期; {budget.fiscal_year}年度尚未开始, 取年度第一天 {effective.isoformat()}"
    return f"未给生效日期, 取今天 {effective.isoformat()}"


@dataclass(frozen=True)
class EventPage:
    items: list[LoggedEvent]
    next_after: int | None  # the cursor of the next page, if there is one
    last_position: int  # the highest position in the store
    imports: list[queries.ImportSpan] = field(default_factory=list)  # of the budget (a budget's feed)

    def point_of(self, event: LoggedEvent) -> int:
        """The timeline point that shows an event: its position, or for an event inside an
        import the import's last position (an import is one point)."""
        span = next((s for s in self.imports if s.first <= event.position <= s.last), None)
        return span.last if span is not None else event.position


@dataclass(frozen=True)
class Status:
    store: str  # sqlite | postgresql
    position: int  # the event store's highest position
    projected: int  # how far the read model has folded
    budgets: int
    chain: verifications.ChainState | None = None  # as the last verify run found it


class Ledger:
    """One ledger over one database."""

    def __init__(self, url: str | None = None, *, crosswalks: str | None = None):
        """`crosswalks`: the directory of classification crosswalks (else the setting
        LEDGER_CROSSWALKS, else only the packaged ones: domain/crosswalk.py)."""
        self.crosswalks = crosswalks
        self.storage = Storage.from_url(configured_url(url))
        self.engine: Engine = self.storage.engine()
        # Several processes may open a new database at once: PostgreSQL's CREATE TABLE IF NOT
        # EXISTS is not safe against itself, so table creation is serialised by a lock.
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(4242424242)"))
            self.events = BudgetEvents(env=self.storage.eventsourcing_env)
            schema.migrate(conn)
        self.log = EventLog(self.events, self.engine)
        self.projector = Projector(self.log, self.engine)
        self.chain = ChainProjector(self.log, self.engine)

    def _catch_up(self, progress=None) -> int:
        """Bring the hash chain and the read model up to the last recorded event."""
        self.chain.catch_up()
        return self.projector.catch_up(progress)

    def _publication_anchor(self, budget: Budget, layout_id: str | None = None) -> dict[str, Any]:
        """The chain head now, and the digest of a layout's tables (the 13-table 部门预算, or a
        决算's) as the budget stands (from its own state, so an import can publish in the same
        atomic save as its events)."""
        self._catch_up()
        position, head = self.chain.head()
        lay = layout(layout_id)
        cells = spread(budget.balances.items(), budget.agency_units(), lay.folder, lay.measures)
        ctx = Context(budget.department, budget.fiscal_year, list(budget.units),
                      [(name, p["unit"]) for name, p in budget.projects.items()])
        rendered = [render(t, cells.get(t.number, {}), ctx, lay.money, lay.id) for t in lay.tables]
        anchor = {"chain_position": position, "chain_head": head,
                  "tables_digest": tables_digest(formats.to_tsv(rendered))}
        return {**anchor, "layout": layout_id} if layout_id else anchor

    @staticmethod
    def audit_document(data: bytes, name: str, with_text: bool = False) -> AuditReport:
        """Audit a document (审校): its findings, each with rule, severity and place. Needs no
        store and records nothing."""
        return audit_document(data, name, with_text)

    def audit_document_in_ledger(self, data: bytes, name: str, with_text: bool = False) -> AuditReport:
        """audit_document, and where the ledger holds the budget of the year before the
        document's, each 上年数 the document states against that year's own figures (rule
        history.prior_year). Records nothing."""
        return audit_document(data, name, with_text, prior_checks=self._document_prior_checks)

    def _document_prior_checks(self, a: Audited) -> list[PriorCheck]:
        department = a.department or (a.read.department if a.read else None) or (a.plan.department if a.plan else None)
        if not department or not a.year:
            return []
        final = a.phase == "final"
        self._catch_up()
        with self.engine.connect() as conn:
            prior = self._prior_year(conn, department, a.year, queries.Point(), None, None,
                                     "final" if final else "budget")
        if prior is None:
            return []
        checks = []
        if final:
            for s in (a.final.statements if a.final else []):
                key = FINAL_PRIOR_FIGURES.get(s.figure)
                if key is None or s.prior_year != a.year - 1 or key not in prior.values:
                    continue
                stated = s.current_wan if s.prior_wan is None else s.prior_wan
                checks.append(PriorCheck(final_explain.COMPARED[key][0], stated, to_wan(prior.values[key]), prior.basis,
                                         "本年文件所列, 由增减额推得", span=(s.start, s.end)))
        else:
            text = a.flow.text if a.flow is not None else ""
            for p in a.priors:
                key = p.figure if p.item is None else f"three_public:{p.item}"
                if key not in prior.values:
                    continue
                label = figures.COMPARED[p.figure][0] if p.item is None else classification.THREE_PUBLIC_LABELS[p.item]
                at = text.find(p.sentence)
                checks.append(PriorCheck(label, p.prior_wan, to_wan(prior.values[key]), prior.basis,
                                         f"本年文件所列, 由增减额推得 (第{p.line}行)",
                                         span=(at, at + len(p.sentence)) if at >= 0 else None))
        return checks

    def audit_budget(self, department: str, fiscal_year: int) -> AuditReport:
        """Audit a recorded budget: the documents the ledger writes from its events (its 决算,
        tables and narrative; else its budget narrative) under every rule."""
        self._catch_up()
        layouts = self.layouts(department, fiscal_year)
        if "final-accounts" in layouts:
            text = documents.final_text(self, department, fiscal_year)
            checks = _comparison_checks(self.explain_final(department, fiscal_year).comparisons)
            return audit_document(text.encode(), f"{department}{fiscal_year}年度部门决算 (由账本的事件写出)",
                                  prior_checks=lambda _read: checks)
        explanation = self.explain(department, fiscal_year)
        return audit_narrative(narrative.render(explanation),
                               f"{department}{fiscal_year}年度部门预算情况说明 (由账本的事件写出)",
                               department, fiscal_year, prior_checks=_comparison_checks(explanation.comparisons))

    def record_audit(self, report: AuditReport, *, reason: str, department: str | None = None,
                     fiscal_year: int | None = None, expected_version: int | None = None,
                     actor: str | None = None, claim: KeyClaim | None = None) -> Recorded:
        """Store an audit in the history of the budget it is about (the document's department
        and year unless named): who ran which rules when, and every finding."""
        department = department or report.department
        fiscal_year = fiscal_year or report.fiscal_year
        if not department or not fiscal_year:
            raise RuleViolation([Violation("audit-budget", "审校的文件没有读出部门和年度; 请指明记入哪个预算")])
        budget = self._load(department, fiscal_year, expected_version)
        today = date.today()
        eid = budget.record_audit(report.document, sha256=report.sha256, rules_version=report.rules_version,
                                  counts=report.counts, findings=[f.model_dump(mode="json") for f in report.findings],
                                  effective=budget.default_effective(today), reason=reason, actor=_actor(actor))
        return self._save(budget, eid, "audit", None, today, claim=claim)

    def audit(self, department: str, fiscal_year: int, cmd: commands.RecordAudit,
              expected_version: int | None = None, *, actor: str | None = None,
              claim: KeyClaim | None = None) -> Recorded:
        """Audit a recorded budget and store the audit with its findings (an audit event)."""
        report = self.audit_budget(department, fiscal_year)
        return self.record_audit(report, reason=cmd.reason, department=department, fiscal_year=fiscal_year,
                                 expected_version=expected_version, actor=actor, claim=claim)

    def audits(self, department: str, fiscal_year: int) -> list[LoggedEvent]:
        """The audits recorded in a budget's history, in order."""
        self._catch_up()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
        return self.log.budget_events_of(budget.budget_id, Budget.AuditRecorded)

    def verify(self, checkpoint: dict[str, Any] | None = None, public_key: Any = None) -> verify.Report:
        """Check the history for tampering (application/verify.py), that it still extends a
        checkpoint (one that checkpoints.load has checked the signature of), and with a public
        key that every signed publication verifies. The result is kept for /api/health
        (readmodel/verifications.py)."""
        position = self.log.last_position()
        report = verify.verify(self, checkpoint, public_key)
        with self.engine.begin() as conn:
            verifications.record(conn, position, report.chain_ok, report.chain_problems)
        return report

    def chain_state(self) -> verifications.ChainState:
        """The chain's state as the last verify run found it (no verifying: cheap)."""
        with self.engine.connect() as conn:
            return verifications.state(conn)

    @staticmethod
    def _signer():
        """What signs publications: the key of LEDGER_SIGNING_KEY, if set (else None: unsigned)."""
        try:
            key = checkpoints.signing_key_from_env()
        except checkpoints.CheckpointError as exc:
            raise RuleViolation([Violation("signing-key", f"LEDGER_SIGNING_KEY: {exc}; 未记录任何事件")]) from None
        return checkpoints.publication_signer(key) if key is not None else None

    def checkpoint(self, private_key: Any) -> dict[str, Any]:
        """Sign and store a checkpoint of the chain (application/checkpoints.py)."""
        return checkpoints.make(self, private_key)

    def latest_checkpoint(self) -> str | None:
        """The latest stored checkpoint, as the JSON that was signed (None: none yet)."""
        return checkpoints.latest(self)

    def close(self) -> None:
        self.engine.dispose()
        self.events.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- commands

    def import_document(self, data: bytes, name: str, progress=None, *, actor: str | None = None,
                        claim: KeyClaim | None = None) -> ImportResult:
        """Import a document; every event it records names the importer (actor)."""
        actor = _actor(actor)
        plan = plan_document(data, name)
        bid = budget_id(plan.department, plan.fiscal_year)
        try:
            budget: Budget = self.events.repository.get(bid)
        except AggregateNotFoundError:
            budget = None  # type: ignore[assignment]
        if budget is not None and plan.sha256 in budget.documents:
            self._catch_up()
            with self.engine.connect() as conn:
                position = conn.execute(select(schema.documents.c.position).where(
                    schema.documents.c.sha256 == plan.sha256)).scalar()
            return ImportResult(plan.department, plan.fiscal_year, 0, True, None,
                                notes=[f"同一文件 (sha256 {plan.sha256[:12]}…) 已在位置 {position} 导入, 本次未记录任何事件"])
        if budget is None:
            budget = Budget(department=plan.department, fiscal_year=plan.fiscal_year, units=plan.units,
                            effective=plan.effective, reason=f"导入《{name}》",
                            provenance={"document": name, "sha256": plan.sha256}, actor=actor)
        final = plan.phase == "final"
        # The seed's layout records no layout (as before layouts existed); any other names its own.
        other = plan.layout != layout().id
        budget.import_document(plan.sha256, name=name, tables=plan.tables, rounding=plan.rounding,
                               effective=plan.effective, reason="部门决算导入" if final else "部门预算公开导入",
                               **({"layout": plan.layout, "phase": plan.phase} if other else {}), actor=actor)
        for targets, project, unit in plan.projects:
            budget.register_project(
                project, unit=unit, category="项目支出",
                annual_amount=targets.annual_amount if targets else None,
                targets=targets.targets() if targets else {},
                effective=plan.effective, reason="项目支出绩效目标表",
                provenance={"document": name, "sha256": plan.sha256, "line": targets.line if targets else None},
                actor=actor,
            )
        for planned in plan.lines:
            if final:
                budget.record_final([planned.line], effective=plan.effective, reason="决算",
                                    provenance=planned.provenance, actor=actor)
            else:
                budget.appropriate([planned.line], effective=plan.effective, reason="年初预算",
                                   provenance=planned.provenance, native=False, actor=actor)
        for planned, reason in zip(plan.priors, plan.prior_reasons, strict=True):
            budget.state_prior_year([planned.line], effective=plan.effective, reason=reason,
                                    provenance=planned.provenance, actor=actor)
        if plan.procurement and final:
            for planned in plan.procurement:  # what the 决算 states: its budget, its procurement
                budget.record_final([planned.line], effective=plan.effective, reason="决算情况说明",
                                    provenance=planned.provenance, actor=actor)
        elif plan.procurement:
            budget.appropriate([p.line for p in plan.procurement], effective=plan.effective, reason="政府采购预算",
                               provenance=plan.procurement[0].provenance, native=False, actor=actor)
        violations = check_invariants(budget.balances)
        if violations:
            raise RuleViolation(violations)
        budget.publish("决算" if final else "年初预算", effective=plan.effective, reason=f"《{name}》",
                       **self._publication_anchor(budget, plan.layout if other else None), actor=actor,
                       sign=self._signer())

        def result_of(ids: Sequence[int], versions: Sequence[int]) -> ImportResult:
            return ImportResult(plan.department, plan.fiscal_year, len(ids), False, (ids[0], ids[-1]) if ids else None,
                                plan, notes=[*plan.notes, *plan.inconsistencies],
                                version=versions[-1] if versions else None)

        recordings = self.events.save(budget, **_save_options(claim, result_of))
        self._catch_up(progress)
        return result_of([r.notification.id for r in recordings], [r.notification.originator_version for r in recordings])

    def _load(self, department: str, fiscal_year: int, expected_version: int | None = None) -> Budget:
        """The budget as it stands; with an expected version (HTTP If-Match), refuse if it has
        moved on. A write landing between this load and the save is refused by the store."""
        for bid in _budget_ids(department, fiscal_year):
            try:
                budget = self.events.repository.get(bid)
                break
            except AggregateNotFoundError:
                continue
        else:
            raise UnknownBudget(f"没有预算: {department} {fiscal_year}年")
        if expected_version is not None and budget.version != expected_version:
            raise ConcurrentChange(f"{department} {fiscal_year}年预算已是版本 {budget.version}, 不是 If-Match 所指的版本 "
                                   f"{expected_version}; 未记录任何事件. 请重新读取后再提交")
        return budget

    def _save(self, budget: Budget, event_id: str, kind: str, given: date | None = None,
              today: date | None = None, claim: KeyClaim | None = None) -> Recorded:
        effective = budget.pending_events[-1].effective if budget.pending_events else None
        note = None if given is not None else _default_note(budget, kind, effective, today)

        def result_of(ids: Sequence[int], versions: Sequence[int]) -> Recorded:
            return Recorded(event_id, ids[-1], kind, versions[-1], effective, note)

        try:
            recordings = self.events.save(budget, **_save_options(claim, result_of))
        except IntegrityError:
            raise ConcurrentChange(f"{budget.department} {budget.fiscal_year}年预算刚被他人修改, 未记录; 请重试") from None
        self._catch_up()
        return result_of([recordings[-1].notification.id], [recordings[-1].notification.originator_version])

    @staticmethod
    def _effective(budget: Budget, given: date | None) -> tuple[date, date]:
        """The effective date of a command (given, or the budget's default for today), and today."""
        today = date.today()
        return (given if given is not None else budget.default_effective(today)), today

    def appropriate(self, department: str, fiscal_year: int, cmd: commands.Appropriate,
               expected_version: int | None = None, *, actor: str | None = None,
               claim: KeyClaim | None = None) -> Recorded:
        actor = _actor(actor)
        budget = self._load(department, fiscal_year, expected_version)
        line = cmd.line.to_line(cmd.amount, list(budget.units))
        effective, today = self._effective(budget, cmd.effective)
        eid = budget.appropriate([line], effective=effective, reason=cmd.reason, document_no=cmd.document_no,
                                 actor=actor)
        return self._save(budget, eid, "appropriation", cmd.effective, today, claim=claim)

    def adjust(self, department: str, fiscal_year: int, cmd: commands.Adjust,
               expected_version: int | None = None, *, actor: str | None = None,
               claim: KeyClaim | None = None) -> Recorded:
        actor = _actor(actor)
        budget = self._load(department, fiscal_year, expected_version)
        line = cmd.line.to_line(cmd.amount, list(budget.units))
        effective, today = self._effective(budget, cmd.effective)
        eid = budget.adjust([line], effective=effective, reason=cmd.reason, document_no=cmd.document_no,
                            actor=actor)
        return self._save(budget, eid, "adjustment", cmd.effective, today, claim=claim)

    def transfer(self, department: str, fiscal_year: int, cmd: commands.Transfer,
               expected_version: int | None = None, *, actor: str | None = None,
               claim: KeyClaim | None = None) -> Recorded:
        actor = _actor(actor)
        budget = self._load(department, fiscal_year, expected_version)
        units = list(budget.units)
        effective, today = self._effective(budget, cmd.effective)
        eid = budget.transfer(cmd.from_line.to_line(cmd.amount, units), cmd.to_line.to_line(cmd.amount, units),
                              effective=effective, reason=cmd.reason, document_no=cmd.document_no, actor=actor)
        return self._save(budget, eid, "transfer", cmd.effective, today, claim=claim)

    def correct(self, department: str, fiscal_year: int, cmd: commands.Correct,
               expected_version: int | None = None, *, actor: str | None = None,
               claim: KeyClaim | None = None) -> Recorded:
        actor = _actor(actor)
        budget = self._load(department, fiscal_year, expected_version)
        target = cmd.event.strip()
        if target.isdigit():
            event = self.log.at(int(target))
            if event is None or event.budget_id != str(budget.id):
                raise RuleViolation([Violation("known-event", f"本预算没有位置为 {target} 的事件")])
            target = event.event_id
        else:
            event = self.log.find(str(budget.id), target)
        # The lines of the event corrected, as recorded (the budget keeps no copy of them), and
        # its effective date: without one of its own a correction takes it (domain).
        found = event is not None and event.version <= budget.version and "lines" in event.detail
        lines = [Line.from_dict(d) for d in event.detail["lines"]] if found else None
        eid = budget.correct(target, lines, effective=cmd.effective, reversed_effective=event.effective if found else None,
                             reason=cmd.reason, document_no=cmd.document_no, answers=cmd.answers, actor=actor)
        return self._save(budget, eid, "correction", cmd.effective, claim=claim)

    def publish(self, department: str, fiscal_year: int, cmd: commands.Publish,
               expected_version: int | None = None, *, actor: str | None = None,
               claim: KeyClaim | None = None) -> Recorded:
        actor = _actor(actor)
        budget = self._load(department, fiscal_year, expected_version)
        effective, today = self._effective(budget, cmd.effective)
        eid = budget.publish(cmd.name, effective=effective, reason=cmd.reason, **self._publication_anchor(budget),
                             actor=actor, sign=self._signer())
        return self._save(budget, eid, "publication", cmd.effective, today, claim=claim)

    def last_recorded(self, department: str, fiscal_year: int) -> LoggedEvent | None:
        """The budget's last recorded event (None: no such budget)."""
        self._catch_up()
        with self.engine.connect() as conn:
            last = conn.execute(select(schema.budgets.c.last_position).where(schema.budgets.c.budget_id.in_(
                [str(bid) for bid in _budget_ids(department, fiscal_year)]))).scalar()
        return self.log.at(int(last)) if last else None

    def rebuild(self, progress=None) -> int:
        """Clear the read model and replay every event, unchecked (`checked_rebuild` verifies first)."""
        return self.projector.rebuild(progress)

    def checked_rebuild(self, progress=None, *, force: bool = False) -> Rebuilt:
        """Verify, then rebuild. A broken chain (events edited, deleted, inserted; a publication
        that no longer matches) refuses the rebuild unless forced; a read model that merely
        disagrees with the events is what a rebuild mends, so it does not."""
        report = self.verify()
        if not report.chain_ok and not force:
            raise BrokenChain(report)
        return Rebuilt(self.rebuild(progress), report, not report.chain_ok)

    def catch_up(self) -> int:
        return self._catch_up()

    # ------------------------------------------------------------------ queries

    def budgets(self, point: queries.Point | None = None) -> list[queries.BudgetRow]:
        """The budgets in the ledger (as of a point: those opened by then)."""
        self._catch_up()
        with self.engine.connect() as conn:
            return queries.list_budgets(conn, point)

    def budget(self, department: str, fiscal_year: int, point: queries.Point | None = None) -> queries.BudgetDetail:
        """One budget as of a point: version, last position, publications, documents."""
        self._catch_up()
        with self.engine.connect() as conn:
            row = queries.find_budget(conn, department, fiscal_year)
            return queries.budget_detail(conn, self.log, row, point or queries.Point())

    def version(self, department: str, fiscal_year: int) -> int:
        """The budget's current version (what an If-Match names), from the caught-up read
        model (replaying the budget on every read cost ~40 ms a request)."""
        self._catch_up()
        with self.engine.connect() as conn:
            version = next((v for bid in _budget_ids(department, fiscal_year)
                            if (v := queries.version(conn, str(bid))) is not None), None)
        if version is None:
            raise UnknownBudget(f"没有预算: {department} {fiscal_year}年")
        return int(version)

    def event_feed(self, after: int, limit: int, department: str | None = None, fiscal_year: int | None = None,
               point: queries.Point | None = None) -> EventPage:
        """A page of the event log after a position (read from the event store itself): of all
        budgets, or of one budget up to a point."""
        self._catch_up()
        spans: list[queries.ImportSpan] = []
        if department is None or fiscal_year is None:
            rows = self.log.page(after, limit + 1)
        else:
            with self.engine.connect() as conn:
                budget = queries.find_budget(conn, department, fiscal_year)
                rows = queries.events_after(conn, self.log, budget, point or queries.Point(), after, limit + 1)
                spans = queries.import_spans(conn, budget)
        more = len(rows) > limit
        items = rows[:limit]
        return EventPage(items, items[-1].position if more else None, self.log.last_position(), spans)

    def status(self) -> Status:
        """How far the read model has caught up with the event log (after catching it up)."""
        budgets = self.budgets()
        return Status(self.storage.kind, self.log.last_position(), self.projector.position(), len(budgets),
                      self.chain_state())

    def last_position(self) -> int:
        """The highest position in the event store (one indexed query, no catch-up)."""
        return self.log.last_position()

    def tables(self, department: str, fiscal_year: int, *, number: int | None = None,
               point: queries.Point | None = None, layout_id: str | None = None) -> list[RenderedTable]:
        """The tables of a layout (the budget's own, or a layout named: e.g. final-accounts for
        its 决算), now or as of a point."""
        self._catch_up()
        lay = self._layout(layout_id)
        if number is not None:
            self._definition(number, lay)
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            return queries.rendered_tables(conn, self.log, budget, point or queries.Point(), number, lay)

    @staticmethod
    def _layout(layout_id: str | None) -> Layout:
        try:
            return layout(layout_id)
        except LookupError as exc:
            raise queries.NotFound(str(exc)) from None

    @staticmethod
    def _definition(number: int, lay: Layout | None = None):
        lay = lay or layout()
        definition = lay.table(number)
        if definition is None:
            raise queries.NotFound(f"没有表 {number} (1–{len(lay.tables)})")
        return definition

    def layouts(self, department: str, fiscal_year: int) -> list[str]:
        """The layouts a budget has tables in: those of its documents (or the default)."""
        self._catch_up()
        with self.engine.connect() as conn:
            return queries.layouts_of(conn, queries.find_budget(conn, department, fiscal_year))

    def _prior_year(self, conn, department: str, fiscal_year: int, point: queries.Point, position: int | None,
                    publication: str | None, measure: str) -> figures.PriorYear | None:
        """Last year's own figures, where the ledger holds last year's budget with postings of
        this measure (budget: its budget as adjusted; final: its 决算): as of the named
        publication of last year, else as the ledger stood at this year's point (now: its latest)."""
        try:
            prior = queries.find_budget(conn, department, fiscal_year - 1)
        except queries.NotFound:
            if publication is not None:
                raise queries.NotFound(f"没有上年预算: {department} {fiscal_year - 1}年, 无从读取其发布节点「{publication}」") from None
            return None
        if publication is not None:
            at, words = queries.Point(publication=publication), f"发布节点「{publication}」"
        elif point.is_now:
            at, words = queries.Point(), "最新"
        elif position is None:
            return None
        else:
            at, words = queries.Point(position=position), f"截至本年所取节点的位置 {position}"
        sums = queries.leaf_sums(conn, self.log, prior, at)
        if not any(amount for dims, amount in sums.items() if dict(dims).get("measure") == measure):
            return None
        last = queries.last_position(conn, self.log, prior, at)
        phase = "决算" if measure == "final" else "预算"
        basis = f"账本中{prior.fiscal_year}年度{phase}, {words}" + (f" (读到位置 {last})" if last is not None else "")
        return _prior_of(prior.fiscal_year, sums, prior.units, basis, last, measure == "final")

    def explain(self, department: str, fiscal_year: int, point: queries.Point | None = None, *,
                prior_publication: str | None = None, prior: figures.PriorYear | None = None,
                as_year: int | None = None) -> Explanation:
        """Year-over-year changes, shares and the rest of the narrative's figures, from events.

        Where the ledger holds last year's budget, last year's figures are its own (as of
        `prior_publication` of last year, else as the ledger stood at this year's point), and
        what this year's document states about last year stays beside them; else the
        statements. `prior` and `as_year` make the explanation of a next year from this year's
        postings and this year's own figures as last year's (devtools/nextyear.py)."""
        self._catch_up()
        point = point or queries.Point()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            rows = queries.postings(conn, self.log, budget, point)
            projects = queries.projects_detail(conn, budget, point)
            position = queries.last_position(conn, self.log, budget, point)
            if prior is None:
                prior = self._prior_year(conn, department, fiscal_year, point, position, prior_publication,
                                         "budget")
        sums = _sums(rows)
        year = as_year or fiscal_year
        stated = _prior_statements(rows) if as_year is None else []
        walk = economic = None
        if prior is not None:
            walk = crosswalk.crosswalk(prior.fiscal_year, year, self.crosswalks)
            economic = crosswalk.crosswalk(prior.fiscal_year, year, self.crosswalks, "economic")
        return figures.explain(department, year, position, sums, budget.units, stated, projects, prior, walk, economic)

    def prior_figures(self, department: str, fiscal_year: int, *, final: bool = False) -> figures.PriorYear:
        """A budget's figures as it stands (its budget, or with final=True its 决算), as the
        year after compares with them (its 上年数)."""
        self._catch_up()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            sums = queries.leaf_sums(conn, self.log, budget, queries.Point())
            last = queries.last_position(conn, self.log, budget, queries.Point())
        return _prior_of(fiscal_year, sums, budget.units,
                         f"账本中{fiscal_year}年度{'决算' if final else '预算'}, 最新 (读到位置 {last})", last, final)

    def explain_final(self, department: str, fiscal_year: int,
                      point: queries.Point | None = None, *,
                      prior_publication: str | None = None, prior: figures.PriorYear | None = None,
                      as_year: int | None = None) -> final_explain.FinalExplanation:
        """The 决算 narrative's figures from events: the year's totals against last year's (last
        year's own 决算 where the ledger holds it, else what this 决算 states), the general
        budget's spending against its 年初预算 (the ledger's own, as published under
        「年初预算」, where it holds one; else what the 决算 states), 三公, 机关运行经费, procurement."""
        self._catch_up()
        point = point or queries.Point()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            rows = queries.postings(conn, self.log, budget, point)
            position = queries.last_position(conn, self.log, budget, point)
            published = {p["name"] for p in queries.budget_detail(conn, self.log, budget, queries.Point()).publications}
            recorded = None
            if "年初预算" in published:
                recorded = {dims: amount for dims, amount in queries.leaf_sums(
                    conn, self.log, budget, queries.Point(publication="年初预算")).items()
                    if dict(dims).get("measure") == "budget"}
            if prior is None:
                prior = self._prior_year(conn, department, fiscal_year, point, position, prior_publication,
                                         "final")
        sums = _sums(rows)
        stated = _prior_statements(rows) if as_year is None else []
        return final_explain.explain_final(department, as_year or fiscal_year, position, sums, budget.units,
                                           stated, recorded or None, prior)

    def explain_final_text(self, department: str, fiscal_year: int, point: queries.Point | None = None, *,
                           prior_publication: str | None = None) -> str:
        return final_explain.render(self.explain_final(department, fiscal_year, point,
                                                       prior_publication=prior_publication))

    def explain_text(self, department: str, fiscal_year: int, point: queries.Point | None = None, *,
                     prior_publication: str | None = None) -> str:
        return narrative.render(self.explain(department, fiscal_year, point, prior_publication=prior_publication))

    def _tables_of(self, conn, budget: queries.BudgetRow, point: queries.Point,
                   included: list, number: int | None = None) -> list[RenderedTable]:
        """The tables at a point from the events already read for it (one replay, not two)."""
        return queries.render_tables(conn, budget, point, queries.sums_of(included), number)

    def history(self, department: str, fiscal_year: int, table: int, row: str, column: str,
                point: queries.Point | None = None, *, after: int = 0,
                limit: int | None = None) -> lineage.Lineage:
        """The events behind one cell; their contributions add up to the cell. With a limit,
        one page of them (those after position `after`), the total and count still of all."""
        self._catch_up()
        point = point or queries.Point()
        definition = self._definition(table)
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            included = queries.events(conn, self.log, budget, point)
            rendered = self._tables_of(conn, budget, point, included, number=table)[0]
        rows = queries.postings_of(included)
        row_key, col_key, row_label, col_label = lineage.find_cell(definition, rendered, row, column)
        amount = next((a for r in rendered.rows for k, c, a in r.amounts if (k, c) == (row_key, col_key)), Decimal(0))
        cell = (table, row_key, col_key)
        found = lineage.events_by_cell(rows, budget.agency_units, {cell}, after=after, keep=limit).get(
            cell, lineage.CellEvents())
        return lineage.Lineage(
            department=department, fiscal_year=fiscal_year, table=table, table_name=definition.name,
            title=rendered.title, row=row_key, row_label=row_label, column=col_key, column_label=col_label,
            amount=Money.of(amount), contributions=[lineage.contribution(first, net) for first, net in found.listed],
            total=Money.of(found.total), count=found.count,
            next_after=found.listed[-1][0].position if found.more else None,
        )

    def figure_history(self, department: str, fiscal_year: int, figure: str, point: queries.Point | None = None,
                       *, after: int = 0, limit: int | None = None) -> lineage.FigureLineage:
        """The events behind a figure of the explanation (figures.TOTALS: 政府采购, 三公经费 and
        its items, 机关运行经费 …, also those no table prints); they add up to it."""
        if figure not in figures.TOTALS:
            raise queries.NotFound(f"没有这个数「{figure}」; 可选: {', '.join(figures.TOTALS)}")
        self._catch_up()
        point = point or queries.Point()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            rows = queries.postings(conn, self.log, budget, point)
        agency = budget.agency_units
        found = lineage.figure_events(rows, figures.TOTALS[figure], agency, after=after, keep=limit)
        amount = figures.total(_sums(rows), figures.TOTALS[figure], agency)
        return lineage.FigureLineage(
            department=department, fiscal_year=fiscal_year, figure=figure, label=figures.TOTAL_LABELS[figure],
            amount=Money.of(amount), contributions=[lineage.contribution(first, net) for first, net in found.listed],
            total=Money.of(found.total), count=found.count,
            next_after=found.listed[-1][0].position if found.more else None)

    def diff(self, department: str, fiscal_year: int, a: queries.Point, b: queries.Point,
             labels: tuple[str, str] = ("", ""), *, offset: int = 0, limit: int | None = None,
             events_limit: int | None = None) -> lineage.Diff:
        """Every cell that differs between two points, with the events that made the difference.
        With a limit, one page of the changed cells (from `offset`); with an events limit, at
        most that many events per cell (events_count says how many there are)."""
        self._catch_up()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            events_a, events_b = queries.events_at(conn, self.log, budget, [a, b])
            sums_a, sums_b = queries.sums_of(events_a), queries.sums_of(events_b)
            before = queries.render_tables(conn, budget, a, sums_a)
            after = queries.render_tables(conn, budget, b, sums_b)
        # The events one point includes and the other does not made the difference (a stored
        # event has the same lines whichever point reads it).
        ids_a, ids_b = {e.event_id for e in events_a}, {e.event_id for e in events_b}
        moved_events = [e for e in events_b if e.event_id not in ids_a]
        moved_events += [e for e in events_a if e.event_id not in ids_b]
        moved = queries.postings_of(sorted(moved_events, key=lambda e: e.position))
        del events_a, events_b, moved_events
        changed = []  # (definition, key, before, after, labels)
        for definition, ta, tb in zip(layout().tables, before, after, strict=True):
            amounts_a = {(k, c): v for r in ta.rows for k, c, v in r.amounts}
            amounts_b = {(k, c): v for r in tb.rows for k, c, v in r.amounts}
            names = {**lineage.cell_labels(definition, ta), **lineage.cell_labels(definition, tb)}
            order = {key: i for i, key in enumerate(names)}
            for key in sorted(set(amounts_a) | set(amounts_b), key=lambda k: order.get(k, 0)):
                va, vb = amounts_a.get(key, Decimal(0)), amounts_b.get(key, Decimal(0))
                if va != vb:
                    changed.append((definition, key, va, vb, names.get(key, (key[0], key[1]))))
        page = changed[offset:] if limit is None else changed[offset:offset + limit]
        found = lineage.events_by_cell(moved, budget.agency_units, {(d.number, k[0], k[1]) for d, k, *_ in page},
                                       keep=events_limit)
        changes = []
        for definition, key, va, vb, (row_label, col_label) in page:
            events = found.get((definition.number, key[0], key[1]), lineage.CellEvents())
            changes.append(lineage.CellChange(
                table=definition.number, table_name=definition.name, row=key[0], row_label=row_label,
                column=key[1], column_label=col_label, before=Money.of(va), after=Money.of(vb),
                delta=Money.of(vb - va), events=[lineage.contribution(first, net) for first, net in events.listed],
                events_count=events.count,
            ))
        end = offset + len(page)
        return lineage.Diff(department=department, fiscal_year=fiscal_year, from_point=labels[0],
                            to_point=labels[1], changes=changes, total=len(changed),
                            next_offset=end if end < len(changed) else None,
                            figures=self._figure_changes(budget.agency_units, sums_a, sums_b, moved, events_limit))

    @staticmethod
    def _figure_changes(agency: frozenset[str], sums_a: dict[Any, Decimal], sums_b: dict[Any, Decimal],
                        moved: list[queries.PostingRow], keep: int | None) -> list[lineage.FigureChange]:
        out = []
        for key, where in figures.TOTALS.items():
            va, vb = figures.total(sums_a, where, agency), figures.total(sums_b, where, agency)
            if va == vb:
                continue
            found = lineage.figure_events(moved, where, agency, keep=keep)
            out.append(lineage.FigureChange(
                figure=key, label=figures.TOTAL_LABELS[key], before=Money.of(va), after=Money.of(vb),
                delta=Money.of(vb - va), events=[lineage.contribution(first, net) for first, net in found.listed],
                events_count=found.count))
        return out

    def series(self, department: str, *, figure: str | None = None, table: int | None = None,
               row: str | None = None, column: str | None = None, anchor: int | None = None) -> series.Series:
        """A figure of the explanation (figure=…) or a table cell (table, row, column) across
        the department's years and phases; a row named by a code follows it through the
        crosswalks from the year `anchor` (default: the last)."""
        if figure is not None:
            return series.figure_series(self, department, figure)
        if table is None or row is None or column is None:
            raise queries.NotFound("时间序列: 请给出 figure, 或 table、row、column")
        return series.cell_series(self, department, table, row, column, anchor)

    def leaf_sums(self, department: str, fiscal_year: int, point: queries.Point | None = None) -> dict[Any, Any]:
        self._catch_up()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            return queries.leaf_sums(conn, self.log, budget, point or queries.Point())
