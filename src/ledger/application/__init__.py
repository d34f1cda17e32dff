"""The use cases: the only API the entrypoints (CLI, HTTP) call.

`Ledger` records commands (import, appropriate, adjust, transfer, correct, publish) as events
and answers queries (tables, explanations, lineage, diff, the event feed) from the read model
and the event log; `commands` holds the commands as validated values; `verify` checks the
history for tampering.
"""

from .ledger import BrokenChain, ConcurrentChange, EventPage, ImportResult, Ledger, Rebuilt, Recorded, Status, UnknownBudget

__all__ = ["BrokenChain", "ConcurrentChange", "EventPage", "ImportResult", "Ledger", "Rebuilt", "Recorded", "Status",
           "UnknownBudget"]
