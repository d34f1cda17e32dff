"""The ledger's application service: commands that record events and queries that read the
read model. Entrypoints (CLI, HTTP) call only this."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from sqlalchemy import Engine, select, text

from ..domain.budget import Budget, RuleViolation, budget_id
from ..domain.postings import Line
from ..domain.rules import Violation, check_invariants
from ..eventstore import BudgetEvents, EventLog, LoggedEvent, Storage, configured_url
from ..explain import figures, narrative
from ..explain import final as final_explain
from ..explain.model import Explanation, Money
from ..ingest.importer import ImportPlan, plan_document
from ..readmodel import lineage, queries, schema
from ..readmodel.chain import ChainProjector, tables_digest
from ..readmodel.projector import Projector
from ..tables import formats
from ..tables.definitions import spread
from ..tables.layouts import Layout, layout
from ..tables.render import Context, RenderedTable, render
from . import commands, verify


class UnknownBudget(queries.NotFound):
    """No budget for that department and year."""


class ConcurrentChange(RuntimeError):
    """Someone else recorded on this budget meanwhile; nothing was recorded. Retry."""


@dataclass(frozen=True)
class Recorded:
    event_id: str
    position: int
    kind: str
    version: int  # the budget's version with this event


@dataclass
class ImportResult:
    department: str
    fiscal_year: int
    recorded: int
    already_imported: bool
    positions: tuple[int, int] | None
    plan: ImportPlan | None = None
    notes: list[str] = field(default_factory=list)


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


@dataclass(frozen=True)
class EventPage:
    items: list[LoggedEvent]
    next_after: int | None  # the cursor of the next page, if there is one
    last_position: int  # the highest position in the store


@dataclass(frozen=True)
class Status:
    store: str  # sqlite | postgresql
    position: int  # the event store's highest position
    projected: int  # how far the read model has folded
    budgets: int


class Ledger:
    """One ledger over one database."""

    def __init__(self, url: str | None = None):
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

    def verify(self) -> verify.Report:
        """Check the history for tampering (application/verify.py)."""
        return verify.verify(self)

    def close(self) -> None:
        self.engine.dispose()
        self.events.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- commands

    def import_document(self, data: bytes, name: str, progress=None) -> ImportResult:
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
                            provenance={"document": name, "sha256": plan.sha256})
        final = plan.phase == "final"
        budget.import_document(plan.sha256, name=name, tables=plan.tables, rounding=plan.rounding,
                               effective=plan.effective, reason="部门决算导入" if final else "部门预算公开导入",
                               **({"layout": plan.layout, "phase": plan.phase} if final else {}))
        for targets, project, unit in plan.projects:
            budget.register_project(
                project, unit=unit, category="项目支出",
                annual_amount=targets.annual_amount if targets else None,
                targets=targets.targets() if targets else {},
                effective=plan.effective, reason="项目支出绩效目标表",
                provenance={"document": name, "sha256": plan.sha256, "line": targets.line if targets else None},
            )
        for planned in plan.lines:
            if final:
                budget.record_final([planned.line], effective=plan.effective, reason="决算",
                                    provenance=planned.provenance)
            else:
                budget.appropriate([planned.line], effective=plan.effective, reason="年初预算",
                                   provenance=planned.provenance, native=False)
        for planned, reason in zip(plan.priors, plan.prior_reasons, strict=True):
            budget.state_prior_year([planned.line], effective=plan.effective, reason=reason,
                                    provenance=planned.provenance)
        if plan.procurement and final:
            for planned in plan.procurement:  # what the 决算 states: its budget, its procurement
                budget.record_final([planned.line], effective=plan.effective, reason="决算情况说明",
                                    provenance=planned.provenance)
        elif plan.procurement:
            budget.appropriate([p.line for p in plan.procurement], effective=plan.effective, reason="政府采购预算",
                               provenance=plan.procurement[0].provenance, native=False)
        violations = check_invariants(budget.balances)
        if violations:
            raise RuleViolation(violations)
        budget.publish("决算" if final else "年初预算", effective=plan.effective, reason=f"《{name}》",
                       **self._publication_anchor(budget, plan.layout if final else None))
        recordings = self.events.save(budget)
        self._catch_up(progress)
        positions = (recordings[0].notification.id, recordings[-1].notification.id) if recordings else None
        return ImportResult(plan.department, plan.fiscal_year, len(recordings), False, positions, plan,
                            notes=[*plan.notes, *plan.inconsistencies])

    def _load(self, department: str, fiscal_year: int, expected_version: int | None = None) -> Budget:
        """The budget as it stands; with an expected version (HTTP If-Match), refuse if it has
        moved on. A write landing between this load and the save is refused by the store."""
        try:
            budget = self.events.repository.get(budget_id(department, fiscal_year))
        except AggregateNotFoundError:
            raise UnknownBudget(f"没有预算: {department} {fiscal_year}年") from None
        if expected_version is not None and budget.version != expected_version:
            raise ConcurrentChange(f"{department} {fiscal_year}年预算已是版本 {budget.version}, 不是 If-Match 所指的版本 "
                                   f"{expected_version}; 未记录任何事件. 请重新读取后再提交")
        return budget

    def _save(self, budget: Budget, event_id: str, kind: str) -> Recorded:
        try:
            recordings = self.events.save(budget)
        except IntegrityError:
            raise ConcurrentChange(f"{budget.department} {budget.fiscal_year}年预算刚被他人修改, 未记录; 请重试") from None
        self._catch_up()
        return Recorded(event_id, recordings[-1].notification.id, kind, recordings[-1].notification.originator_version)

    def appropriate(self, department: str, fiscal_year: int, cmd: commands.Appropriate,
               expected_version: int | None = None) -> Recorded:
        budget = self._load(department, fiscal_year, expected_version)
        line = cmd.line.to_line(cmd.amount, list(budget.units))
        eid = budget.appropriate([line], effective=cmd.effective or date.today(), reason=cmd.reason,
                                 document_no=cmd.document_no)
        return self._save(budget, eid, "appropriation")

    def adjust(self, department: str, fiscal_year: int, cmd: commands.Adjust,
               expected_version: int | None = None) -> Recorded:
        budget = self._load(department, fiscal_year, expected_version)
        line = cmd.line.to_line(cmd.amount, list(budget.units))
        eid = budget.adjust([line], effective=cmd.effective or date.today(), reason=cmd.reason,
                            document_no=cmd.document_no)
        return self._save(budget, eid, "adjustment")

    def transfer(self, department: str, fiscal_year: int, cmd: commands.Transfer,
               expected_version: int | None = None) -> Recorded:
        budget = self._load(department, fiscal_year, expected_version)
        units = list(budget.units)
        eid = budget.transfer(cmd.from_line.to_line(cmd.amount, units), cmd.to_line.to_line(cmd.amount, units),
                              effective=cmd.effective or date.today(), reason=cmd.reason, document_no=cmd.document_no)
        return self._save(budget, eid, "transfer")

    def correct(self, department: str, fiscal_year: int, cmd: commands.Correct,
               expected_version: int | None = None) -> Recorded:
        budget = self._load(department, fiscal_year, expected_version)
        target = cmd.event.strip()
        if target.isdigit():
            event = self.log.at(int(target))
            if event is None or event.budget_id != str(budget.id):
                raise RuleViolation([Violation("known-event", f"本预算没有位置为 {target} 的事件")])
            target = event.event_id
        else:
            event = self.log.find(str(budget.id), target)
        # The lines of the event corrected, as recorded (the budget keeps no copy of them).
        lines = ([Line.from_dict(d) for d in event.detail["lines"]]
                 if event is not None and event.version <= budget.version and "lines" in event.detail else None)
        eid = budget.correct(target, lines, effective=cmd.effective or date.today(), reason=cmd.reason,
                             document_no=cmd.document_no)
        return self._save(budget, eid, "correction")

    def publish(self, department: str, fiscal_year: int, cmd: commands.Publish,
               expected_version: int | None = None) -> Recorded:
        budget = self._load(department, fiscal_year, expected_version)
        eid = budget.publish(cmd.name, effective=cmd.effective or date.today(), reason=cmd.reason,
                             **self._publication_anchor(budget))
        return self._save(budget, eid, "publication")

    def rebuild(self, progress=None) -> int:
        return self.projector.rebuild(progress)

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
            version = queries.version(conn, str(budget_id(department, fiscal_year)))
        if version is None:
            raise UnknownBudget(f"没有预算: {department} {fiscal_year}年")
        return int(version)

    def event_feed(self, after: int, limit: int, department: str | None = None, fiscal_year: int | None = None,
               point: queries.Point | None = None) -> EventPage:
        """A page of the event log after a position (read from the event store itself): of all
        budgets, or of one budget up to a point."""
        self._catch_up()
        if department is None or fiscal_year is None:
            rows = self.log.page(after, limit + 1)
        else:
            with self.engine.connect() as conn:
                budget = queries.find_budget(conn, department, fiscal_year)
                rows = queries.events_after(conn, self.log, budget, point or queries.Point(), after, limit + 1)
        more = len(rows) > limit
        items = rows[:limit]
        return EventPage(items, items[-1].position if more else None, self.log.last_position())

    def status(self) -> Status:
        """How far the read model has caught up with the event log (after catching it up)."""
        budgets = self.budgets()
        return Status(self.storage.kind, self.log.last_position(), self.projector.position(), len(budgets))

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

    def explain(self, department: str, fiscal_year: int, point: queries.Point | None = None) -> Explanation:
        """Year-over-year changes, shares and the rest of the narrative's figures, from events."""
        self._catch_up()
        point = point or queries.Point()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            rows = queries.postings(conn, self.log, budget, point)
            projects = queries.projects_detail(conn, budget, point)
            position = queries.last_position(conn, self.log, budget, point)
        sums: dict[Any, Decimal] = defaultdict(Decimal)
        for p in rows:
            sums[p.dims] += p.amount
        return figures.explain(department, fiscal_year, position, sums, budget.units, _prior_statements(rows),
                               projects)

    def explain_final(self, department: str, fiscal_year: int,
                      point: queries.Point | None = None) -> final_explain.FinalExplanation:
        """The 决算 narrative's figures from events: the year's totals against last year's, the
        general budget's spending against its 年初预算 (the ledger's own, as published under
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
        sums: dict[Any, Decimal] = defaultdict(Decimal)
        for p in rows:
            sums[p.dims] += p.amount
        return final_explain.explain_final(department, fiscal_year, position, sums, budget.units,
                                           _prior_statements(rows), recorded or None)

    def explain_final_text(self, department: str, fiscal_year: int, point: queries.Point | None = None) -> str:
        return final_explain.render(self.explain_final(department, fiscal_year, point))

    def explain_text(self, department: str, fiscal_year: int, point: queries.Point | None = None) -> str:
        return narrative.render(self.explain(department, fiscal_year, point))

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
            before = self._tables_of(conn, budget, a, events_a)
            after = self._tables_of(conn, budget, b, events_b)
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
                            next_offset=end if end < len(changed) else None)

    def leaf_sums(self, department: str, fiscal_year: int, point: queries.Point | None = None) -> dict[Any, Any]:
        self._catch_up()
        with self.engine.connect() as conn:
            budget = queries.find_budget(conn, department, fiscal_year)
            return queries.leaf_sums(conn, self.log, budget, point or queries.Point())
