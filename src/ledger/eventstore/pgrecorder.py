"""eventsourcing's PostgreSQL application recorder, sending a save's events in binary.

eventsourcing (9.5) sends the events of a save as one array of a composite type in text
format: psycopg quotes and escapes every field of every event (the bytea state as hex, then
escaped again inside the record and the array) with Python regular expressions, and the
server parses all that back. This recorder runs the same INSERT ... SELECT ... FROM unnest(...)
with four arrays (ids, versions, topics, states) in binary format: same rows, same order,
same table lock, NOTIFY and notification ids; only the wire format differs. A save's
`side_write` row (sidewrite.py) is inserted after the events, in their transaction. Chosen by
`storage.Storage` through eventsourcing's APPLICATION_RECORDER_TOPIC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from .sidewrite import SideWrite


class _BinaryUnnestInsert(PostgresAggregateRecorder):
    """The aggregate recorder's INSERT, with the events as four binary arrays."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        # PostgresApplicationRecorder appends " RETURNING notification_id" after this.
        self.insert_events_statement = SQL(
            "    INSERT INTO {schema}.{table} AS t ("
            "    originator_id, originator_version, topic, state)"
            "    SELECT originator_id, originator_version, topic, state"
            "    FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
            "    AS e (originator_id, originator_version, topic, state)"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                              **_: Any) -> None:
        curs.execute(
            query=self.insert_events_statement,
            params=(
                [s.originator_id for s in stored_events],
                [s.originator_version for s in stored_events],
                [s.topic for s in stored_events],
                [s.state for s in stored_events],
            ),
        )


class PostgresBinaryInsertRecorder(PostgresApplicationRecorder, _BinaryUnnestInsert):
    """PostgresApplicationRecorder (lock, NOTIFY, notification ids) over the binary INSERT.

    Method order: PostgresApplicationRecorder, _BinaryUnnestInsert, PostgresAggregateRecorder,
    so the application recorder's `super()._insert_stored_events` is the binary one."""

    def _fetch_ids_after_insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        side_write: SideWrite | None = kwargs.get("side_write")
        if side_write is not None and ids:
            sql, params = side_write.statement("postgresql", ids, [s.originator_version for s in stored_events])
            with curs.connection.pipeline() as pipeline:  # the save's pipeline: a conflict raises here
                curs.execute(sql, params)  # type: ignore[call-overload]
                pipeline.sync()
        return ids
