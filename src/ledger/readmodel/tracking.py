"""Where each projection has got to in the notification log (`ledger_tracking`).

A projection writes a page of events in one transaction together with its new position, and
only if its position is still where that page began: a crash, a retry or a second process
never counts an event twice.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from .schema import tracking


def position(conn: Connection, name: str) -> int:
    """The last position the projection has folded (0: none)."""
    value = conn.execute(select(tracking.c.position).where(tracking.c.name == name)).scalar()
    return int(value or 0)


def advance(conn: Connection, name: str, start: int, end: int) -> bool:
    """Move the projection from `start` to `end` in this transaction (compare-and-set); False
    when another writer moved it first (nothing is changed then)."""
    if start == 0:
        if conn.execute(select(tracking.c.position).where(tracking.c.name == name)).first() is not None:
            return False
        conn.execute(insert(tracking).values(name=name, position=end))
        return True
    moved = conn.execute(update(tracking).where(tracking.c.name == name, tracking.c.position == start)
                         .values(position=end))
    return moved.rowcount == 1
