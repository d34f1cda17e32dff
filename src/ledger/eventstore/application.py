"""The eventsourcing Application that records every budget's events."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProjectorFunction, Repository
from eventsourcing.persistence import EventStore, JSONTranscoder, Mapper, Recording, Transcoder
from eventsourcing.utils import TopicError

from ..domain.budget import Budget
from .recordings import FastEventStore, FastMapper
from .snapshots import BudgetSnapshot, StaleSnapshot
from .transcoder import DateAsISO, FastJSONTranscoder, gc_paused

log = logging.getLogger(__name__)


class BudgetRepository(Repository):
    """eventsourcing's Repository: a budget is its latest snapshot (snapshots.py) and the
    events after it; a stale snapshot, or one that cannot be read, is passed over for a replay
    of every event. Notes the version each budget was loaded from (`based_on`), so that a save
    knows when to take the next snapshot."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Budget id → version of the latest snapshot this process read or took (a hint: a
        # stale hint costs one snapshot more or later, nothing else).
        self.based_on: dict[UUID, int] = {}

    def _reconstruct_aggregate(self, aggregate_id: Any, version: int | None,
                               projector_func: ProjectorFunction) -> Any:
        aggregate = self._from_snapshot(aggregate_id, version)
        gt = aggregate.version if aggregate is not None else None
        events: Iterable[Any] = self.event_store.get(originator_id=aggregate_id, gt=gt, lte=version)
        aggregate = projector_func(aggregate, events)
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} version {version!r} not found.")
        if version is None:
            self.based_on[aggregate_id] = gt or 0
        return aggregate

    def _from_snapshot(self, aggregate_id: Any, version: int | None) -> Any:
        if self.snapshot_store is None:
            return None
        try:
            found = list(self.snapshot_store.get(originator_id=aggregate_id, desc=True, limit=1, lte=version))
            return found[0].mutate(None) if found else None
        except (StaleSnapshot, TopicError) as exc:
            log.info("snapshot not used (%s): replaying the events", exc)
            return None
        except Exception as exc:  # noqa: BLE001 - a damaged snapshot (a cache) must not stop a write
            log.warning("snapshot of %s unreadable (%s): replaying the events", aggregate_id, exc)
            return None


class BudgetEvents(Application):
    """The event store of all budgets (eventsourcing application).

    Snapshots (snapshots.py): after a save, a budget whose version is `snapshot_interval` or
    more past the snapshot it was loaded from (or past its start, for a budget without one) is
    snapshotted as it stands, so that a load reads at most that many events after a snapshot.
    eventsourcing's own rule (a snapshot when a version is a multiple of the interval, taken
    by reloading the budget) is not used: a budget recorded before snapshots existed would
    replay its whole history on every write until its version next reached a multiple."""

    name = "BudgetLedger"
    is_snapshotting_enabled = True  # the snapshot store and its table (not snapshotting_intervals)
    snapshot_interval = 100

    def construct_transcoder(self) -> Transcoder:
        """eventsourcing's JSON transcoding, byte for byte, encoded faster (transcoder.py),
        unless TRANSCODER_TOPIC names another."""
        if self.env.get(self.factory.TRANSCODER_TOPIC):
            return super().construct_transcoder()
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def construct_mapper(self) -> Mapper:
        """eventsourcing's Mapper (stored events made faster: recordings.py), unless
        MAPPER_TOPIC names another."""
        if self.env.get(self.factory.MAPPER_TOPIC):
            return super().construct_mapper()
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=FastMapper)

    def construct_event_store(self) -> EventStore:
        """eventsourcing's EventStore, recordings made faster (recordings.py)."""
        return FastEventStore(mapper=self.mapper, recorder=self.recorder)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_repository(self) -> BudgetRepository:
        base = super().construct_repository()
        return BudgetRepository(
            event_store=base.event_store, snapshot_store=base.snapshot_store, cache_maxsize=None,
            fastforward=base.fastforward, fastforward_skipping=base.fastforward_skipping,
            deepcopy_from_cache=base.deepcopy_from_cache,
        ) if base.cache is None else base  # an aggregate cache (AGGREGATE_CACHE_MAXSIZE): eventsourcing's own

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording]:
        with gc_paused():  # a large save would otherwise run many collections (transcoder.py)
            recordings = super().save(*objs, **kwargs)
        for obj in objs:
            if isinstance(obj, Budget):
                self._maybe_snapshot(obj)
        return recordings

    def _maybe_snapshot(self, budget: Budget) -> None:
        """Snapshot a saved budget if it has gone `snapshot_interval` events past its last
        snapshot. The events are recorded already: a snapshot that cannot be written (taken
        meanwhile by another process, the database gone) is logged and left, never raised."""
        repository = self.repository
        if self.snapshots is None or not isinstance(repository, BudgetRepository):
            return
        if budget.pending_events or budget.version - repository.based_on.get(budget.id, 0) < self.snapshot_interval:
            return
        try:
            with gc_paused():
                self.snapshots.put([BudgetSnapshot.take(budget)])
        except Exception as exc:  # noqa: BLE001 - an optimisation must not fail a recorded write
            log.warning("snapshot of %s at version %s not written: %s", budget.id, budget.version, exc)
        repository.based_on[budget.id] = budget.version
