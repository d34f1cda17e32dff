"""Tamper evidence: hash chains over the recorded events, and `verify`.

Every recorded event gets a hash of its stored form (aggregate id, version, topic, state).
Two chains link these hashes: one per budget stream (in version order) and one global chain
over the notification log (in position order). The chain is written by its own projection
(tracking name "chain") as events are recorded; unlike the table projections it is never
cleared by a rebuild, because it is the evidence. Publication events carry the global chain
head and a digest of the rendered tables at the moment of publication, so the event store
itself anchors the chain.

`verify` recomputes everything from the stored events and reports the first problem of each
kind: an edited, deleted, inserted or reordered event, a publication whose recorded head or
table digest does not match, and any read-model row that disagrees with a fresh rebuild.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import orjson
from eventsourcing.application import Application
from sqlalchemy import BigInteger, Column, Engine, Index, Integer, String, Table, create_engine, insert, select, update

from .readmodel import formats, schema
from .readmodel.eventlog import leaf_dims, parse_balances
from .readmodel.queries import Point
from .storage import ENGINE_OPTIONS

GENESIS = "0" * 64
NAME = "chain"
PAGE = 5000

chain = Table(
    "ledger_chain",
    schema.metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("budget_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_hash", String(64), nullable=False),
    Column("budget_chain", String(64), nullable=False),
    Column("global_chain", String(64), nullable=False),
    Index("ix_ledger_chain_budget", "budget_id", "position"),  # each page looks up its budgets' heads
)


def event_hash(notification) -> str:
    digest = hashlib.sha256()
    digest.update(f"{notification.originator_id}|{notification.originator_version}|{notification.topic}|".encode())
    state = notification.state
    # A tampered row may no longer hold bytes (e.g. text written over a BLOB): hash what is there.
    digest.update(state if isinstance(state, (bytes, bytearray, memoryview)) else str(state).encode())
    return digest.hexdigest()


def link(previous: str, item: str, index: int) -> str:
    return hashlib.sha256(f"{previous}|{index}|{item}".encode()).hexdigest()


def tables_digest(tsv: str) -> str:
    return hashlib.sha256(tsv.encode("utf-8")).hexdigest()


class ChainProjector:
    """Appends the hashes of newly recorded events to ledger_chain."""

    def __init__(self, app: Application, engine: Engine):
        self.app, self.engine = app, engine

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(select(chain.c.position, chain.c.global_chain).order_by(chain.c.position.desc())
                               .limit(1)).first()
        return (int(row.position), row.global_chain) if row else (0, GENESIS)

    def budget_head(self, conn, budget_id: str) -> str:
        row = conn.execute(select(chain.c.budget_chain).where(chain.c.budget_id == budget_id)
                           .order_by(chain.c.position.desc()).limit(1)).first()
        return row.budget_chain if row else GENESIS

    def catch_up(self) -> int:
        done = 0
        while True:
            with self.engine.connect() as conn:
                start = conn.execute(select(schema.tracking.c.position).where(schema.tracking.c.name == NAME)).scalar()
            start = int(start or 0)
            notifications = self.app.recorder.select_notifications(start=start + 1, limit=PAGE)
            if not notifications:
                return done
            with self.engine.begin() as conn:
                if start == 0:
                    if conn.execute(select(schema.tracking).where(schema.tracking.c.name == NAME)).first():
                        continue
                    conn.execute(insert(schema.tracking).values(name=NAME, position=notifications[-1].id))
                elif conn.execute(update(schema.tracking).where(schema.tracking.c.name == NAME,
                                                                schema.tracking.c.position == start)
                                  .values(position=notifications[-1].id)).rowcount != 1:
                    continue
                row = conn.execute(select(chain.c.global_chain).order_by(chain.c.position.desc()).limit(1)).first()
                global_head = row.global_chain if row else GENESIS
                heads: dict[str, str] = {}
                rows = []
                for n in notifications:
                    bid = str(n.originator_id)
                    if bid not in heads:
                        heads[bid] = self.budget_head(conn, bid)
                    h = event_hash(n)
                    heads[bid] = link(heads[bid], h, n.originator_version)
                    global_head = link(global_head, h, n.id)
                    rows.append({"position": n.id, "budget_id": bid, "version": n.originator_version,
                                 "event_hash": h, "budget_chain": heads[bid], "global_chain": global_head})
                conn.execute(insert(chain), rows)
            done += len(notifications)
            if len(notifications) < PAGE:
                return done


@dataclass
class Report:
    events: int = 0
    publications: int = 0
    leaves: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(ledger) -> Report:  # ledger: application.Ledger (not imported: it imports us)
    """Recompute the chains, the publication anchors and the read model from the events."""
    report = Report()
    app, engine = ledger.events, ledger.engine
    with engine.connect() as conn:
        stored = {r.position: r for r in conn.execute(select(chain).order_by(chain.c.position))}
    global_head = GENESIS
    budget_heads: dict[str, tuple[str, int]] = {}
    seen: set[int] = set()
    first: dict[str, str] = {}
    start = 0
    publications = []
    while True:
        page = app.recorder.select_notifications(start=start + 1, limit=PAGE)
        for n in page:
            seen.add(n.id)
            report.events += 1
            h = event_hash(n)
            bid = str(n.originator_id)
            head, version = budget_heads.get(bid, (GENESIS, 0))
            if n.originator_version != version + 1 and "deleted" not in first:
                first["deleted"] = (f"位置 {n.id}: 预算 {bid} 的版本从 {version} 跳到 {n.originator_version}, "
                                    "中间的事件被删除")
            budget_heads[bid] = (link(head, h, n.originator_version), n.originator_version)
            global_head = link(global_head, h, n.id)
            row = stored.get(n.id)
            if row is None:
                # Every command chains its events right after recording them, so an event the
                # chain has never seen was written around the ledger.
                first.setdefault("inserted", f"位置 {n.id}: 事件不在哈希链上 (绕过本系统写入或插入)")
            elif row.event_hash != h:
                first.setdefault("edited", f"位置 {n.id}: 事件内容与记录时的哈希不符 (被修改或调换顺序)")
            elif row.global_chain != global_head and not first:
                first["chain"] = f"位置 {n.id}: 全局哈希链在此处断开"
            if n.topic.endswith("Budget.Published"):
                publications.append(n)
        if len(page) < PAGE:
            break
        start = page[-1].id
    missing = sorted(set(stored) - seen)
    if missing:
        first.setdefault("deleted", f"位置 {missing[0]}: 已上链的事件不在事件库中 (被删除)")
    report.problems += list(first.values())

    # Everything below is recomputed from the events, in a scratch read model.
    with tempfile.TemporaryDirectory() as tmp:
        scratch = create_engine(f"sqlite:///{Path(tmp) / 'verify.sqlite'}", **ENGINE_OPTIONS)
        try:
            schema.metadata.create_all(scratch)
            from .readmodel.projector import Projector

            Projector(ledger.events, scratch).rebuild()
        except Exception as exc:  # events that no longer decode cannot be projected
            report.problems.append(f"无法由事件重算读模型: {type(exc).__name__}: {str(exc)[:200]}")
            scratch.dispose()
            return report
        _check_publications(app, ledger.log, scratch, publications, stored, report)
        report.leaves, mismatch = _compare_read_model(scratch, engine)
        scratch.dispose()
    if mismatch:
        report.problems.append(mismatch)
    return report


def _check_publications(app, log, scratch: Engine, publications, stored, report: Report) -> None:
    for n in publications:
        report.publications += 1
        try:
            event = app.mapper.to_domain_event(n)
        except Exception as exc:  # a tampered event may not even decode
            report.problems.append(f"位置 {n.id}: 发布节点事件无法解码 ({type(exc).__name__})")
            continue
        anchor_at, anchor = event.chain_position, event.chain_head
        expected_head = stored[anchor_at].global_chain if anchor_at in stored else GENESIS
        if anchor != expected_head:
            report.problems.append(f"位置 {n.id}: 发布节点「{event.name}」记录的链头 (位置 {anchor_at}) 与哈希链不符")
        with scratch.connect() as conn:
            budget = conn.execute(select(schema.budgets).where(schema.budgets.c.budget_id == str(n.originator_id))).first()
        rendered = _tables_at(scratch, log, budget.department, budget.fiscal_year, n.id)
        if tables_digest(formats.to_tsv(rendered)) != event.tables_digest:
            report.problems.append(f"位置 {n.id}: 发布节点「{event.name}」的表格与发布时记录的摘要不符")


def _tables_at(engine: Engine, log, department: str, fiscal_year: int, position: int):
    """The tables as of a position, read without catching up (verify must not chain or
    project anything it is checking)."""
    from .readmodel import queries
    from .readmodel.definitions import load_tables
    from .readmodel.render import render

    point = Point(position=position)
    with engine.connect() as conn:
        budget = queries.find_budget(conn, department, fiscal_year)
        cells = queries.table_cells(conn, log, budget, point)
        ctx = queries.context(conn, budget, point)
    return [render(t, cells.get(t.number, {}), ctx) for t in load_tables()]


def _compare_read_model(scratch: Engine, engine: Engine) -> tuple[int, str | None]:
    """Compare the read model row by row with one rebuilt from the events; returns the number
    of leaves (balances) compared and the first difference."""
    leaves = 0
    for table in schema.PROJECTED:
        key = list(table.primary_key.columns) or list(table.columns)
        query = select(table).order_by(*key)
        with scratch.connect() as conn:
            expected = {tuple(r[: len(key)]): r for r in conn.execute(query)}
        with engine.connect() as conn:
            actual = {tuple(r[: len(key)]): r for r in conn.execute(query)}
        if table is schema.leaves:  # compared as balances, not as text
            expected = {k: (k, parse_balances(r.balances)) for k, r in expected.items()}
            actual = {k: (k, parse_balances(r.balances)) for k, r in actual.items()}
            leaves = sum(len(balances) for _k, balances in actual.values())
        for row_key in sorted(set(expected) | set(actual), key=str):
            want, got = expected.get(row_key), actual.get(row_key)
            if table is schema.leaves and want is not None and got is not None and want != got:
                leaf = min(k for k in set(want[1]) | set(got[1]) if want[1].get(k) != got[1].get(k))
                return leaves, (f"读模型 ledger_leaves 预算 {row_key[0]} 明细 {orjson.dumps(leaf_dims(leaf)).decode()}: 存的是 "
                                f"{got[1].get(leaf, '(无)')} 分, 由事件重算为 {want[1].get(leaf, '(无)')} 分")
            if _comparable(want) != _comparable(got):
                return leaves, (f"读模型 {table.name} {'/'.join(map(str, row_key))}: 存的是 {_shown(got)}, "
                                f"由事件重算为 {_shown(want)}")
    return leaves, None


def _comparable(row) -> tuple | None:
    """A row with its times in UTC (SQLite gives them back without a zone)."""
    if row is None:
        return None
    return tuple(v.replace(tzinfo=timezone.utc) if isinstance(v, datetime) and v.tzinfo is None else
                 v.astimezone(timezone.utc) if isinstance(v, datetime) else v for v in row)


def _shown(row) -> str:
    if row is None:
        return "(无此行)"
    return str(dict(row._mapping) if hasattr(row, "_mapping") else row)[:300]
