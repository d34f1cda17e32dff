"""The JSON of the current tables, cached per process as bytes (issue 7: a table GET should
cost little more than a constant).

Rendering a budget's tables costs milliseconds (catch-up, every cell, rendering, a large
response model), yet the current tables change only when an event is recorded for that
budget. Each entry keeps the response bytes, the budget version they show and the store
position at which that version was last confirmed. Every request asks the event store for its
highest notification position: one indexed query, never skipped, because other workers and
the CLI write to the same store. If nothing was recorded since, the bytes are served; if
something was, the ledger catches up (in a worker thread), reads the budget's version again
and renders only if that version moved. Points in history and downloads do not come here.

The query is made in a worker thread and shared: requests that arrive while one read is under
way wait for the next read, which begins after they all arrived, so each still sees everything
recorded before it came, and fifty concurrent requests make a few queries, not fifty. A cached
answer thus takes no thread of its own (the route is async).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from ..application import Ledger
from .versions import etag

Key = tuple[str, int, int | None]  # department, fiscal year, table number (None: all)


@dataclass(frozen=True)
class Entry:
    position: int  # the store's highest position when `version` was last confirmed
    version: int
    etag: str
    body: bytes


class TableCache:
    """An LRU of at most `size` entries. Used only from the event loop, so it needs no lock."""

    def __init__(self, size: int = 256):
        self.size = size
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._running: asyncio.Task[int] | None = None  # the read of the store's position under way
        self._next: asyncio.Task[int] | None = None  # the read that begins when it is done

    def keys(self) -> list[Key]:
        """What is cached, least recently used first."""
        return list(self._entries)

    async def get(self, ledger: Ledger, key: Key, render: Callable[[], bytes]) -> Entry:
        # Read before catching up: the bytes then show at least the state at this position.
        if self._next is None:
            self._next = asyncio.ensure_future(self._read_position(ledger))
        position = await asyncio.shield(self._next)  # a request that goes away leaves the read to the others
        entry = self._entries.get(key)
        if entry is not None and entry.position == position:
            self._entries.move_to_end(key)
            return entry

        def refresh() -> Entry:
            version = ledger.version(key[0], key[1])  # catches up
            if entry is not None and entry.version == version:
                return Entry(position, version, entry.etag, entry.body)
            return Entry(position, version, etag(version), render())

        fresh = await run_in_threadpool(refresh)
        latest = self._entries.get(key)
        if latest is None or latest.position <= position:  # a slower request never puts back older bytes
            self._entries[key] = fresh
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return fresh

    async def _read_position(self, ledger: Ledger) -> int:
        if self._running is not None:
            await asyncio.wait([self._running])
        self._running, self._next = self._next, None  # from here on, who arrives waits for the next read
        try:
            return await run_in_threadpool(ledger.last_position)
        finally:
            self._running = None
