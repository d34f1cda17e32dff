"""The event store: the only package that knows eventsourcing's tables and stored bytes.

`application.BudgetEvents` is the eventsourcing Application of all budgets (its transcoder
in `transcoder.py`, its stored events in `recordings.py`, its recorders in `pgrecorder.py` and
`sqliterecorder.py`, its snapshots of budgets in `snapshots.py`); `storage.Storage` turns the
one database URL into eventsourcing's settings and a SQLAlchemy engine; `eventlog.EventLog`
reads the stored events back (a budget's stream, pages of the notification log, the rows of
a rebuild) for the read side and the history, decoded into plain values.
"""

from .application import BudgetEvents
from .eventlog import EventLog, LoggedEvent
from .storage import Storage, StorageError, configured_url

__all__ = ["BudgetEvents", "EventLog", "LoggedEvent", "Storage", "StorageError", "configured_url"]
