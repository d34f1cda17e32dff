"""Tamper evidence: hash chains over the recorded events (a projection of its own).

Every recorded event gets a hash of its stored form (aggregate id, version, topic, state).
Two chains link these hashes: one per budget stream (in version order) and one global chain
over the notification log (in position order). The chain is written by its own projection
(tracking name "chain") as events are recorded; unlike the table projections it is never
cleared by a rebuild, because it is the evidence. Publication events carry the global chain
head and a digest of the rendered tables at the moment of publication, so the event store
itself anchors the chain.

`application.verify` recomputes the chains from the stored events and compares them.

All of this is in the store: whoever can write to it can edit an event and recompute the
hashes with this code. Signed checkpoints (`application.checkpoints`, kept in
`ledger_checkpoints` and, what matters, by auditors outside the store) are what such a forger
cannot recompute.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import BigInteger, Column, DateTime, Engine, Index, Integer, String, Table, Text, insert, select

from ..eventstore import EventLog
from . import schema, tracking

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

# Signed checkpoints made by `ledger checkpoint` (application/checkpoints.py), served by
# GET /api/checkpoints/latest. Like the chain, never cleared by a rebuild. A copy here is a
# convenience: the evidence is the copy an auditor keeps elsewhere.
checkpoints = Table(
    "ledger_checkpoints",
    schema.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("position", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("document", Text, nullable=False),  # the signed checkpoint as JSON
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

    def __init__(self, log: EventLog, engine: Engine):
        self.log, self.engine = log, engine

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
                start = tracking.position(conn, NAME)
            notifications = self.log.notifications(start, PAGE)
            if not notifications:
                return done
            with self.engine.begin() as conn:
                if not tracking.advance(conn, NAME, start, notifications[-1].id):
                    continue  # another process chained this page
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
