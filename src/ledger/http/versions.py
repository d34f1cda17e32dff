"""Budget versions for HTTP: the ETag a read returns and the If-Match a write may carry.

The version is the Budget aggregate's version (its number of events). A write that names an
expected version passes it to the command (Ledger._load checks it against the budget as
loaded for that very command); if another write lands between that load and the save, the
event store's optimistic concurrency refuses the save. Either way ConcurrentChange, 409: a
stale If-Match can never record.
"""

from __future__ import annotations

from sqlalchemy import select

from ..application import Ledger, UnknownBudget
from ..domain.budget import budget_id
from ..readmodel import schema
from .errors import InvalidField


class HttpLedger(Ledger):
    """The ledger, with the version reads that ETags need."""

    def version(self, department: str, fiscal_year: int) -> int:
        """The budget's current version, from the caught-up read model (replaying the budget
        on every read cost ~40 ms a request)."""
        self._catch_up()
        bid = str(budget_id(department, fiscal_year))
        with self.engine.connect() as conn:
            version = conn.execute(select(schema.budgets.c.version).where(schema.budgets.c.budget_id == bid)).scalar()
        if version is None:
            raise UnknownBudget(f"没有预算: {department} {fiscal_year}年")
        return int(version)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match header names (None: no precondition)."""
    if value is None or value.strip() in ("", "*"):
        return None
    text = value.strip()
    if "," in text:
        raise InvalidField("header.If-Match", "只能给出一个版本, 如 \"90\"")
    text = text.removeprefix("W/").strip('"').strip()
    if not text.isdigit() or len(text) > 18:
        raise InvalidField("header.If-Match", f"应为预算版本 (ETag), 如 \"90\": {value!r}")
    return int(text)
