"""The floor of a rebuild (benchmarks/): read and decode every event as the rebuild reads it,
folding and writing nothing. `rebuild/floor` in benchmarks/RESULTS.md is a rebuild's time over
this one's: what the fold and the writing add to reading the events."""

from __future__ import annotations

from collections import deque

from ..eventstore.eventlog import StoredRow
from ..eventstore.transcoder import gc_paused
from ..readmodel.projector import REBUILD_BATCH, Projector


def floor(projector: Projector, *, full: bool = False) -> int:
    """Read every event through the rebuild's query and batches and decode it as the rebuild
    does (the lines of an event with lines typed, any other state parsed); with `full`, parse
    every state in full instead (orjson), as a rebuild decoding whole events would. Returns the
    number of events."""
    count = 0
    decoder, decode_row, is_line = projector.decoder, projector.decode_row, projector._is_line
    with gc_paused(), projector.engine.begin() as conn:
        for rows in projector.log.all_rows(conn, REBUILD_BATCH, projector.page_size):
            count += len(rows)
            if full:
                deque(map(decode_row, rows), maxlen=0)
                continue
            for row in rows:
                topic, state = row[3], row[4]
                line = is_line.get(topic)
                if line is None:
                    line = projector._line_topic(topic)
                if not line:
                    decode_row(row)
                elif not decoder.plain_state or decoder.typed_lines(state) is None:
                    decoder.full_lines(StoredRow.of(*row))
    return count
