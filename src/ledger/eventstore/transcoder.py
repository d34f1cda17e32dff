"""Encoding events for the store, with the stored bytes unchanged; used by
`application.BudgetEvents`.

`FastJSONTranscoder`  eventsourcing's JSONTranscoder encodes each event with
    `json.JSONEncoder.encode`, which builds a new C encoder (and its Python closures) on
    every call, then calls back `_encode_obj` → `Transcoding.encode` for each Decimal, date,
    datetime and UUID. This one builds the same C encoder (`_json.make_encoder`) once,
    with the arguments `JSONEncoder.iterencode` passes it (separators `,` `:`,
    `ensure_ascii=False`, `allow_nan`, no key sorting) but no circular-reference check,
    and calls each registered transcoding's own `encode` for the
    `{"_type_": name, "_data_": ...}` tag.
    Same encoder, same tags, so the same bytes (tests/test_transcoding.py compares them
    on real and synthetic events). Decoding is JSONTranscoder's.

    A state made only of what events hold (dicts, lists, str, int, bool, None, Decimal,
    date, datetime) is encoded with orjson instead: for these types orjson writes what the
    C encoder writes (strings escaped alike, every code point compared in the tests;
    integers as digits), and it hands Decimal, date and datetime to the same tags (for
    DecimalAsStr, DatetimeAsISO and DateAsISO the method their encode calls, `str` or
    `isoformat`, is called directly). Anything else anywhere in the state (a float, a
    UUID, an enum, a subclass, a tuple, a non-string key, an integer beyond 64 bits, a
    tag whose data is not a string) sends the whole state to the C encoder, where orjson
    would write it differently or not at all. For synthetic events (benchmarks/) that is
    4.5 µs an event instead of 8.2, the type check (1.9 µs) included.

(The PostgreSQL insert has its own module, `pgrecorder`.)

`gc_paused`  a large save allocates a few objects per event (the state dict, tags, the
    stored event, its notification and recording), which sets off dozens of cyclic garbage
    collections, full ones included when the process holds a large heap. None of these
    objects is cyclic garbage, so the collector is paused for the save and runs as usual
    afterwards.
"""

from __future__ import annotations

import gc
import json.encoder
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
)

_c_make_encoder = json.encoder.c_make_encoder
_encode_basestring = json.encoder.encode_basestring  # what JSONEncoder uses when ensure_ascii=False

# Values orjson writes as the C encoder does (the first four) or hands to `default` (the
# others, with OPT_PASSTHROUGH_DATETIME: date and datetime; Decimal it does not know).
_ORJSON_TAGGED = (Decimal, date, datetime)
_ORJSON_LEAVES = frozenset({str, int, bool, type(None), *_ORJSON_TAGGED})
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


class DateAsISO(Transcoding):
    """A date as its ISO text (eventsourcing registers datetime, not date)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


# Transcodings whose encode is exactly the type's own method: the orjson path calls that
# method (C) instead of theirs (a Python frame per value).
_OWN_METHOD: dict[type, Callable[[Any], str]] = {
    DecimalAsStr: Decimal.__str__,
    DatetimeAsISO: datetime.isoformat,
    DateAsISO: date.isoformat,
}


def _str_data(encode: Callable[[Any], Any]) -> Callable[[Any], str]:
    """A transcoding's encode for the orjson path: its data must be a string."""

    def checked(o: Any) -> str:
        data = encode(o)
        if type(data) is not str:
            raise TypeError("a tag whose data is not a string")
        return data

    return checked


def _orjson_safe(container: dict[str, Any] | list[Any]) -> bool:
    """Whether everything in a dict or list is a dict, list or one of _ORJSON_LEAVES (dict
    keys are left to orjson, which refuses any but str)."""
    for value in container.values() if type(container) is dict else container:
        kind = type(value)
        if kind in _ORJSON_LEAVES:
            continue
        if (kind is dict or kind is list) and _orjson_safe(value):
            continue
        return False
    return True


class FastJSONTranscoder(JSONTranscoder):
    """JSONTranscoder with the same output, encoded without per-call set-up."""

    def __init__(self) -> None:
        super().__init__()
        self._tags: dict[type, tuple[str, Callable[[Any], Any]]] = {}
        encoder = self.encoder
        # The settings whose arguments JSONEncoder.iterencode gives the C encoder; checked so
        # that a change of eventsourcing's settings falls back to its own encoder, not to
        # other bytes.
        same_settings = (
            type(encoder) is json.JSONEncoder
            and encoder.indent is None
            and not encoder.ensure_ascii
            and encoder.allow_nan
            and not encoder.sort_keys
            and not encoder.skipkeys
            and (encoder.item_separator, encoder.key_separator) == (",", ":")
        )
        # No circular-reference marks (markers=None): they cost ~10% of the encoding, and
        # without them the encoder keeps no state between calls, so one serves all threads.
        # A circular state (which no event has) still fails, with RecursionError instead of
        # ValueError; every other input gives the same bytes or the same error.
        self._iterencode = (
            _c_make_encoder(None, self._tag, _encode_basestring, None, ":", ",", False, False, True)
            if same_settings and _c_make_encoder is not None else None
        )
        self._orjson_tags: dict[type, tuple[str, Callable[[Any], Any]]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._tags[transcoding.type] = (transcoding.name, transcoding.encode)
        if transcoding.type in _ORJSON_TAGGED:
            own = _OWN_METHOD.get(type(transcoding))
            self._orjson_tags[transcoding.type] = (
                transcoding.name, own if own is not None else _str_data(transcoding.encode))

    def encode(self, obj: Any) -> bytes:
        if self._iterencode is None or isinstance(obj, str):
            return super().encode(obj)
        if type(obj) is dict and _orjson_safe(obj):
            try:
                return orjson.dumps(obj, default=self._orjson_tag, option=_ORJSON_OPTIONS)
            except TypeError:  # a non-string key, an integer beyond 64 bits, a tag not as expected
                pass
        return "".join(self._iterencode(obj, 0)).encode("utf8")

    def _orjson_tag(self, o: Any) -> dict[str, Any]:
        name, encode = self._orjson_tags[type(o)]  # KeyError: not registered (a TypeError follows)
        return {"_type_": name, "_data_": encode(o)}

    def _tag(self, o: Any) -> dict[str, Any]:
        try:
            name, encode = self._tags[type(o)]
        except KeyError:
            return self._encode_obj(o)  # raises eventsourcing's own error
        return {"_type_": name, "_data_": encode(o)}


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_resume = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (for the whole process) while the block runs;
    nested and concurrent blocks resume it once, when the last one ends, and only if it
    was enabled when the first began."""
    global _gc_depth, _gc_resume
    with _gc_lock:
        if _gc_depth == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_resume:
                gc.enable()
