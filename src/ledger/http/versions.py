"""Budget versions for HTTP: the ETag a read returns and the If-Match a write may carry.

The version is the Budget aggregate's version (its number of events, `Ledger.version`). A
write that names an expected version passes it to the command (Ledger._load checks it against the budget as
loaded for that very command); if another write lands between that load and the save, the
event store's optimistic concurrency refuses the save. Either way ConcurrentChange, 409: a
stale If-Match can never record.
"""

from __future__ import annotations

from .errors import InvalidField


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
