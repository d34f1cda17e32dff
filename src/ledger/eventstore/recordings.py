"""Stored events and recordings made faster, the objects unchanged; used by
`application.BudgetEvents`.

`FastMapper`, `FastEventStore`: eventsourcing's Mapper.to_stored_event and EventStore.put,
except that the stored events, notifications and recordings (frozen dataclasses) are made by
filling their __dict__ rather than by __init__, which sets each field with
object.__setattr__. Used only while the three classes are what this expects (fields, no
slots, no __post_init__); otherwise eventsourcing's own methods run.
Measured gain (issue 22, side by side on the same code): 12.5% fewer instructions per saved
event (callgrind, 6,072 synthetic events: 92,456 against 105,683), CPU time 32.8 against
38.2 µs per saved event (median of 4 alternating runs of 60,000 events on SQLite).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from eventsourcing.persistence import EventStore, Mapper, Notification, Recording, StoredEvent
from eventsourcing.utils import get_topic

_new = object.__new__


def _plain_dataclass(cls: type, names: tuple[str, ...]) -> bool:
    """Whether instances of a frozen dataclass can be made by filling their __dict__: no
    slots, no __post_init__, exactly these fields."""
    return (hasattr(_new(cls), "__dict__") and not hasattr(cls, "__post_init__")
            and tuple(f.name for f in fields(cls)) == names)


_STORED_FIELDS = ("originator_id", "originator_version", "topic", "state")
_FILL = (_plain_dataclass(StoredEvent, _STORED_FIELDS)
         and _plain_dataclass(Notification, (*_STORED_FIELDS, "id"))
         and _plain_dataclass(Recording, ("domain_event", "notification")))


class FastMapper(Mapper):
    """eventsourcing's Mapper; a stored event is made by filling its __dict__ instead of
    the frozen dataclass's __init__ (an object.__setattr__ per field): the same object."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not _FILL:
            return super().to_stored_event(domain_event)
        # Mapper.to_stored_event, but for the last step.
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        stored_state = self.transcoder.encode(event_state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        stored = _new(StoredEvent)
        stored.__dict__.update(originator_id=originator_id, originator_version=originator_version,
                               topic=get_topic(domain_event.__class__), state=stored_state)
        return stored


class FastEventStore(EventStore):
    """eventsourcing's EventStore; each recording and its notification made as FastMapper
    makes stored events."""

    def put(self, domain_events: Any, **kwargs: Any) -> list[Recording]:
        if not _FILL:
            return super().put(domain_events, **kwargs)
        # EventStore.put, but for how the recordings are made.
        stored_events = list(map(self.mapper.to_stored_event, domain_events))
        recordings = []
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        if notification_ids:
            for d, s, n_id in zip(domain_events, stored_events, notification_ids, strict=True):
                notification = _new(Notification)
                notification.__dict__.update(originator_id=s.originator_id, originator_version=s.originator_version,
                                             topic=s.topic, state=s.state, id=n_id)
                recording = _new(Recording)
                recording.__dict__.update(domain_event=d, notification=notification)
                recordings.append(recording)
        return recordings
