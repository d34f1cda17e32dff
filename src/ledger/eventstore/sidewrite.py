"""A row written in the same database transaction as a save's events.

`BudgetEvents.save(budget, side_write=row)` passes the row through eventsourcing's save
keyword arguments to our recorders (sqliterecorder.py, pgrecorder.py), which insert it with
the transaction's own cursor once the events have their notification ids: the events and the
row are committed together or not at all. The HTTP idempotency keys use it (a key, its
token and its response), so that no crash can leave events recorded without their key, nor a
key claimed without its events.

The row's values are made from the save's notification ids and versions (the response names
the position and version), by `values`; the row is inserted as it is, so it must fit the
table (a conflicting primary key fails the whole save, events included).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .storage import json_text


@dataclass
class SideWrite:
    table: str
    values: Callable[[Sequence[int], Sequence[int]], dict[str, Any]]  # (notification ids, versions) -> row
    json_columns: frozenset[str] = field(default_factory=frozenset)

    def statement(self, dialect: str, positions: Sequence[int], versions: Sequence[int]) -> tuple[str, list[Any]]:
        """The INSERT for one store ("sqlite": qmark parameters, SQLAlchemy's text form of a
        time; "postgresql": psycopg's %s, JSON cast)."""
        row = self.values(positions, versions)
        names, marks, params = [], [], []
        for name, value in row.items():
            names.append(name)
            if name in self.json_columns and value is not None:
                value = json_text(value)
                marks.append("?" if dialect == "sqlite" else "CAST(%s AS json)")
            else:
                marks.append("?" if dialect == "sqlite" else "%s")
            if dialect == "sqlite" and isinstance(value, datetime):
                # How SQLAlchemy's DateTime stores a time in SQLite (UTC, no offset).
                value = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            params.append(value)
        quoted = ", ".join(f'"{n}"' for n in names)
        return f'INSERT INTO "{self.table}" ({quoted}) VALUES ({", ".join(marks)})', params
