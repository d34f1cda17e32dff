"""The read model's leaves: a budget's balances per distinct set of dimensions, as
`ledger_leaves` stores them (one JSON document per budget), and the text that names a leaf.

A leaf's text is its dimensions' values in the fixed order (domain.postings.DIMENSIONS),
null where absent, trailing nulls left off, as compact JSON; the fold keys leaves by it and
the stored document lists the leaves sorted by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import orjson

from ..domain.postings import DIMENSIONS

_DIMENSION_ORDER = {name: i for i, name in enumerate(DIMENSIONS)}


def leaf_text(dims: dict[str, Any]) -> bytes:
    """A leaf's identity, as the read model stores and merges it: its dimensions' values (as
    canonical gives them) in the fixed order, null where absent, trailing nulls left off, as
    compact JSON. KeyError for an unknown dimension."""
    values: list[str | None] = [None] * len(DIMENSIONS)
    for name, value in dims.items():
        values[_DIMENSION_ORDER[name]] = str(value)
    while values and values[-1] is None:
        values.pop()
    return orjson.dumps(values)


# A line's dimensions read straight into their fixed order and written as an array, for
# leaf_text_of: a value must be a string, so anything else (a number, an explicit null) and an
# unknown dimension fail here and take leaf_text's way (str(value), KeyError).
_Dims = msgspec.defstruct("_Dims", [(name, str, None) for name in DIMENSIONS], forbid_unknown_fields=True, gc=False)
_read_dims = msgspec.json.Decoder(_Dims).decode
_write_values = msgspec.json.Encoder().encode
_values_of = msgspec.structs.astuple


def leaf_text_of(dims_json: bytes) -> bytes:
    """leaf_text of a line's dimensions given as their stored JSON text (as the fold keys a
    leaf), the same bytes as leaf_text(orjson.loads(dims_json)) in a third of the time: msgspec
    reads them into their fixed order and writes their values (a tuple) as an array; the trailing nulls
    are cut after the last '"' (every value is a string, and that quote closes the last)."""
    try:
        values = _write_values(_values_of(_read_dims(dims_json)))
    except msgspec.DecodeError:  # (ValidationError is one)
        return bytes(memoryview(leaf_text(orjson.loads(dims_json))))  # a copy without orjson's spare buffer
    end = values.rfind(b'"')
    return values[:end + 1] + b"]" if end > 0 else b"[]"


def leaf_dims(text: bytes) -> dict[str, str]:
    """A leaf's dimensions from its text."""
    return {name: value for name, value in zip(DIMENSIONS, orjson.loads(text)) if value is not None}


_NAMES_JSON = orjson.dumps(list(DIMENSIONS))


def balances_json(balances: Iterable[tuple[bytes, int]]) -> bytes:
    """A budget's leaves as stored in ledger_leaves (given as (leaf text, 分) pairs, each leaf
    once): {"dimensions": [names], "leaves": [[[values], 分], ...]}, sorted by leaf text.
    (The formatted pairs are sorted: no leaf text is the start of another, each being a whole
    JSON array, so "[text," sorts as the text.)"""
    return (b'{"dimensions":' + _NAMES_JSON + b',"leaves":['
            + b",".join(sorted(map(b"[%s,%d]".__mod__, balances))) + b"]}")


def stored_leaves(stored: str | bytes) -> Iterator[tuple[tuple[tuple[str, str], ...], int]]:
    """ledger_leaves.balances as (canonical dimensions, 分) of each leaf."""
    data = orjson.loads(stored)
    names = data["dimensions"]
    ordered = names == list(DIMENSIONS)
    for values, amount in data["leaves"]:
        pairs = [(name, value) for name, value in zip(names, values) if value is not None]
        if not ordered:
            pairs.sort(key=lambda item: _DIMENSION_ORDER[item[0]])
        yield tuple(pairs), amount


def parse_balances(stored: str | bytes) -> dict[bytes, int]:
    """ledger_leaves.balances back as {leaf text: 分}."""
    data = orjson.loads(stored)
    if data["dimensions"] == list(DIMENSIONS):
        return {orjson.dumps(values): amount for values, amount in data["leaves"]}
    return {leaf_text(dict(dims)): amount for dims, amount in stored_leaves(stored)}
