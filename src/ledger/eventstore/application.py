"""The eventsourcing Application that records every budget's events."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import EventStore, JSONTranscoder, Mapper, Recording, Transcoder

from .recordings import FastEventStore, FastMapper
from .transcoder import DateAsISO, FastJSONTranscoder, gc_paused


class BudgetEvents(Application):
    """The event store of all budgets (eventsourcing application)."""

    name = "BudgetLedger"

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

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording]:
        with gc_paused():  # a large save would otherwise run many collections (transcoder.py)
            return super().save(*objs, **kwargs)
