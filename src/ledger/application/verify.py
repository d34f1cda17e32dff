"""`verify`: is the history what was recorded?

It recomputes everything from the stored events and reports the first problem of each kind:
an edited, deleted, inserted or reordered event, a global or per-budget chain that disagrees
with the one recomputed, a gap in SQLite's positions (SQLite leaves none), a read model or
chain ahead of the event store (its last events deleted), a publication whose recorded head
or table digest does not match, and any read-model row that disagrees with a fresh rebuild.
Deliberately it does not catch up first: an event the chain has not seen is itself a finding.

What it cannot see on its own: everything it compares is in the store, so a forger who edits
or deletes the last events and recomputes the chain and the read model with this code (and
resets the tracking) leaves nothing to find. Against a signed checkpoint kept outside the
store (`checkpoint`, application/checkpoints.py) it also proves that the store still extends
that checkpoint.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Engine, create_engine, select

from ..domain.budget import Budget, declared
from ..eventstore import EventLog
from ..eventstore.eventlog import topic_class
from ..eventstore.storage import ENGINE_OPTIONS
from ..readmodel import queries, schema
from ..readmodel.chain import GENESIS, PAGE, chain, event_hash, link, tables_digest
from ..readmodel.leaves import leaf_dims, parse_balances
from ..readmodel.projector import Projector
from ..tables import formats
from ..tables.layouts import layout
from .checkpoints import Against

if TYPE_CHECKING:
    from .ledger import Ledger

_ANCHOR = declared(Budget.Published, "name", "chain_position", "chain_head", "tables_digest")
_SIGNED = declared(Budget.Published, "signature", "key_id", "layout")
_LAYOUT = declared(Budget.Published, "layout")  # absent from publications before layouts


@dataclass
class Report:
    events: int = 0
    publications: int = 0
    leaves: int = 0
    problems: list[str] = field(default_factory=list)
    # With a checkpoint: its position, time and key, and how many events came after it.
    checkpoint: dict[str, Any] | None = None
    # With a public key: the publications recorded without a signature (no LEDGER_SIGNING_KEY then).
    unsigned: list[str] = field(default_factory=list)
    read_model_problem: str | None = None  # the read model's difference (also in problems): a rebuild mends it

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def chain_problems(self) -> list[str]:
        """What is wrong with the recorded events themselves (chains, publications, decoding)."""
        return [p for p in self.problems if p != self.read_model_problem]

    @property
    def chain_ok(self) -> bool:
        return not self.chain_problems


def verify(ledger: Ledger, checkpoint: dict[str, Any] | None = None, public_key: Any = None) -> Report:
    """Recompute the chains, the publication anchors and the read model from the events (and
    compare them with a checkpoint whose signature was checked, if given)."""
    report = Report()
    log, engine = ledger.log, ledger.engine
    with engine.connect() as conn:
        tracked = {r.name: int(r.position) for r in conn.execute(select(schema.tracking))
                   if r.name != schema.LAYOUT_ROW}
        stored = {r.position: r for r in conn.execute(select(chain).order_by(chain.c.position))}
    against = Against(checkpoint) if checkpoint is not None else None
    gapless = ledger.storage.kind == "sqlite"  # rowids: each the largest + 1; PostgreSQL's sequence leaves gaps
    previous = 0
    global_head = GENESIS
    budget_heads: dict[str, tuple[str, int]] = {}
    seen: set[int] = set()
    first: dict[str, str] = {}
    start = 0
    publications = []
    while True:
        page = log.notifications(start, PAGE)
        for n in page:
            if gapless and n.id != previous + 1:
                first.setdefault("gap", f"位置 {previous + 1}–{n.id - 1}: 事件库的位置不连续 "
                                        "(SQLite 不留空位: 这些事件被删除)")
            previous = n.id
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
            if against is not None:
                against.event(n, h, budget_heads[bid][0], global_head)
            row = stored.get(n.id)
            if row is None:
                # Every command chains its events right after recording them, so an event the
                # chain has never seen was written around the ledger.
                first.setdefault("inserted", f"位置 {n.id}: 事件不在哈希链上 (绕过本系统写入或插入)")
            elif row.event_hash != h:
                first.setdefault("edited", f"位置 {n.id}: 事件内容与记录时的哈希不符 "
                                           "(被修改、调换顺序, 或删除后此位置记录了其他内容)")
            elif row.global_chain != global_head and not first:
                first["chain"] = f"位置 {n.id}: 全局哈希链在此处断开"
            elif row.budget_chain != budget_heads[bid][0] and not first:
                first["budget_chain"] = (f"位置 {n.id}: 预算 {bid} 的哈希链 (ledger_chain.budget_chain) "
                                         "与由事件重算的不符")
            if topic_class(n.topic) is Budget.Published:
                publications.append(n)
        if len(page) < PAGE:
            break
        start = page[-1].id
    missing = sorted(set(stored) - seen)
    if missing and missing[0] > previous:
        first.setdefault("deleted", f"事件库到位置 {previous} 为止, 哈希链已记录到位置 {missing[-1]}: "
                                    f"最后 {len(missing)} 个事件被删除")
    elif missing:
        first.setdefault("deleted", f"位置 {missing[0]}: 已上链的事件不在事件库中 (被删除)")
    ahead = sorted(name for name, position in tracked.items() if position > previous)
    if ahead:
        first.setdefault("ahead", f"读模型已处理到位置 {max(tracked[name] for name in ahead)} (投影 {'、'.join(ahead)}), "
                                  f"事件库却到位置 {previous} 为止: 最后的事件被删除")
    report.problems += list(first.values())
    if against is not None:
        report.problems += against.finish(previous)
        report.checkpoint = {"position": against.position, "created_at": checkpoint["created_at"],
                             "key_id": checkpoint["key_id"], "after": against.after}

    # Everything below is recomputed from the events, in a scratch read model.
    with tempfile.TemporaryDirectory() as tmp:
        scratch = create_engine(f"sqlite:///{Path(tmp) / 'verify.sqlite'}", **ENGINE_OPTIONS)
        try:
            schema.metadata.create_all(scratch)
            Projector(EventLog(log.app, scratch, same_database=False), scratch).rebuild()
        except Exception as exc:  # events that no longer decode cannot be projected
            report.problems.append(f"无法由事件重算读模型: {type(exc).__name__}: {str(exc)[:200]}")
            scratch.dispose()
            return report
        _check_publications(log, scratch, publications, stored, report, public_key)
        report.leaves, mismatch = _compare_read_model(scratch, engine)
        scratch.dispose()
    if mismatch:
        report.problems.append(mismatch)
        report.read_model_problem = mismatch
    return report


def _check_publications(log: EventLog, scratch: Engine, publications, stored, report: Report,
                        public_key: Any = None) -> None:
    from .checkpoints import check_publication

    for n in publications:
        report.publications += 1
        try:
            state = log.decoder.decode(n)
            name, anchor_at, anchor, digest = (state[field] for field in _ANCHOR)
            lay = layout(state.get(_LAYOUT[0]))
        except Exception as exc:  # a tampered event may not even decode
            report.problems.append(f"位置 {n.id}: 发布节点事件无法解码 ({type(exc).__name__})")
            continue
        if public_key is not None:
            signed = {field: state.get(field) for field in _SIGNED}
            if not signed.get("signature"):
                report.unsigned.append(f"位置 {n.id}: 发布节点「{name}」")
            else:
                wrong = check_publication({**signed, "name": name, "chain_position": anchor_at, "chain_head": anchor,
                                           "tables_digest": digest}, str(n.originator_id), public_key)
                if wrong:
                    report.problems.append(f"位置 {n.id}: 发布节点「{name}」的签名: {wrong}")
        expected_head = stored[anchor_at].global_chain if anchor_at in stored else GENESIS
        if anchor != expected_head:
            report.problems.append(f"位置 {n.id}: 发布节点「{name}」记录的链头 (位置 {anchor_at}) 与哈希链不符")
        # The tables as of the publication, read without catching up (verify must not chain or
        # project anything it is checking).
        with scratch.connect() as conn:
            budget = queries.budget_by_id(conn, str(n.originator_id))
            rendered = queries.rendered_tables(conn, log, budget, queries.Point(position=n.id), lay=lay)
        if tables_digest(formats.to_tsv(rendered)) != digest:
            report.problems.append(f"位置 {n.id}: 发布节点「{name}」的表格与发布时记录的摘要不符")


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
