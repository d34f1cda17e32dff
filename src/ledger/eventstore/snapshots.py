"""Snapshots of a Budget, so that a write loads a recent snapshot and the events after it
instead of replaying the whole history (issue 21, item 4); used by `application.BudgetEvents`.

A snapshot is the aggregate's state at a version, stored by eventsourcing in a table of its
own (`stored_snapshots` on SQLite, `budgetledger_snapshots` on PostgreSQL), never in the
events table: the events' bytes and notification positions are unchanged, and the
notification log, the hash chain, rebuild and verify never see a snapshot. A snapshot is
only a cache of a replay: deleting every snapshot loses nothing (the next loads replay the
events, and the next writes take snapshots again).

The state is the aggregate's attributes as the transcoder writes them (dicts, lists,
strings, integers, Decimals, dates, datetimes: the orjson path of transcoder.py), except the
balances, whose keys are tuples of (dimension, value) pairs: they are written as a list of
`[[[dimension, value], ...], amount]`. A snapshot also records FORMAT and the names of the
attributes it holds: a snapshot whose format or attributes differ from what a Budget has now
(an attribute added or removed since it was taken) is stale, and the load replays the
events instead (`StaleSnapshot`). Change FORMAT when an attribute changes its meaning.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic, resolve_topic

from ..domain.budget import Budget

FORMAT = 1
_FORMAT_KEY = "snapshot_format"
_NOT_STATE = ("_id", "_version", "_pending_events")


class StaleSnapshot(Exception):
    """A snapshot taken by code whose Budget held other attributes: not used."""


@cache
def _attributes() -> tuple[str, ...]:
    """The attributes a Budget holds now (of a budget opened in memory, never saved)."""
    probe = Budget(department="", fiscal_year=0, units=[], effective=date(2000, 1, 1), reason="")
    return tuple(sorted(k for k in vars(probe) if k not in _NOT_STATE))


class BudgetSnapshot(Snapshot):
    """eventsourcing's Snapshot of a Budget, with the balances in a form JSON can hold."""

    @classmethod
    def take(cls, aggregate: Any) -> BudgetSnapshot:
        if not isinstance(aggregate, Budget):
            raise TypeError(f"not a Budget: {type(aggregate)}")
        state = {k: v for k, v in vars(aggregate).items() if k not in _NOT_STATE}
        state["balances"] = [[[list(pair) for pair in dims], amount] for dims, amount in aggregate.balances.items()]
        state[_FORMAT_KEY] = [FORMAT, sorted(k for k in state if k != _FORMAT_KEY)]
        return cls(  # type: ignore[call-arg]
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state,
        )

    def mutate(self, _: None) -> Budget:
        state = dict(self.state)
        if state.pop(_FORMAT_KEY, None) != [FORMAT, list(_attributes())] or sorted(state) != list(_attributes()):
            raise StaleSnapshot(f"snapshot of {self.originator_id} at version {self.originator_version}")
        cls = resolve_topic(self.topic)
        if cls is not Budget:
            raise StaleSnapshot(f"snapshot of a {self.topic}")
        balances: defaultdict[tuple[tuple[str, str], ...], Decimal] = defaultdict(Decimal)
        for dims, amount in state["balances"]:
            balances[tuple((name, value) for name, value in dims)] = amount
        state["balances"] = balances
        state["_id"] = self.originator_id
        state["_version"] = self.originator_version
        state["_pending_events"] = []
        budget = object.__new__(Budget)
        object.__setattr__(budget, "__dict__", state)
        return budget
