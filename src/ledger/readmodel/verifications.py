"""The results of `verify` runs, kept so that /api/health can report the chain's state
without verifying (a full verify replays every event: far too slow for a polled endpoint).

One row per run: when, up to which position, whether the chain (events, hash chains,
publication anchors) held, and its findings. Like ledger_chain it is evidence, not a
projection: a rebuild never clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    Table,
    insert,
    select,
)

from . import schema

verifications = Table(
    "ledger_verifications",
    schema.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("verified_at", DateTime(timezone=True), nullable=False),
    Column("position", BigInteger, nullable=False),  # the store's last position when the run began
    Column("chain_ok", Boolean, nullable=False),
    Column("problems", JSON, nullable=False),  # the chain's findings (the read model's are not kept)
)


@dataclass(frozen=True)
class ChainState:
    state: str  # ok | broken | unverified
    verified_at: datetime | None = None  # the last verify run
    verified_position: int | None = None  # the store's last position when it began
    broken_since: datetime | None = None  # the first run of the present broken streak
    problems: tuple[str, ...] = ()


def record(conn: Connection, position: int, chain_ok: bool, problems: list[str]) -> None:
    conn.execute(insert(verifications).values(verified_at=datetime.now(UTC), position=position,
                                              chain_ok=chain_ok, problems=list(problems)))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # SQLite gives no zone back


def state(conn: Connection) -> ChainState:
    """The chain's state as the last verify run found it (two indexed reads)."""
    v = verifications.c
    last = conn.execute(select(verifications).order_by(v.id.desc()).limit(1)).first()
    if last is None:
        return ChainState("unverified")
    if last.chain_ok:
        return ChainState("ok", _utc(last.verified_at), int(last.position))
    last_ok = conn.execute(select(v.id).where(v.chain_ok.is_(True)).order_by(v.id.desc()).limit(1)).scalar()
    since = conn.execute(select(v.verified_at).where(v.id > (last_ok or 0)).order_by(v.id).limit(1)).scalar()
    return ChainState("broken", _utc(last.verified_at), int(last.position), _utc(since), tuple(last.problems))
