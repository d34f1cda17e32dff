"""How the fold names a leaf and writes a budget's leaves, checked against the definitions
they replace for speed: leaves.leaf_text_of(stored dimensions) must give exactly
leaf_text(parsed dimensions), and balances_json must sort the leaves by their text."""

from __future__ import annotations

import json
import random

import orjson
import pytest

from ledger.devtools import synthetic
from ledger.domain.postings import DIMENSIONS
from ledger.readmodel import leaves
from ledger.readmodel.leaves import balances_json, leaf_text, leaf_text_of


def stored_dims(ledger) -> list[bytes]:
    """The dimensions of every line of a synthetic budget as the application stores them."""
    shape = synthetic.Shape(departments=2, years=(2024,), changes=40)
    texts = []
    for budget in synthetic.budgets(shape, anchor=synthetic.anchor_for(ledger)):
        for event in budget.pending_events:
            state = orjson.loads(ledger.events.mapper.to_stored_event(event).state)
            texts += [orjson.dumps(line["dims"]) for line in state.get("lines", ())]
    return texts


def test_stored_dimensions_are_named_as_leaf_text_names_them(ledger):
    texts = stored_dims(ledger)
    assert len(set(texts)) > 100
    for text in texts:
        leaves._read_dims(text)  # the fast way takes every one of them (no fallback)
        assert leaf_text_of(text) == leaf_text(orjson.loads(text))
    # also in another key order and with every character escaped
    rng = random.Random(5)
    for text in texts[:300]:
        dims = list(orjson.loads(text).items())
        rng.shuffle(dims)
        other = json.dumps(dict(dims), ensure_ascii=True).encode()
        assert other != text
        assert leaf_text_of(other) == leaf_text_of(text)


@pytest.mark.parametrize("text", [
    b"{}",
    b'{"measure":"budget"}',
    b'{"figure":"three_public"}',
    b'{"measure":"a","measure":"b"}',  # the last one wins, as in orjson
    b'{"measure":"a\\"b\\\\","code":"x\\u0001\\n/"}',
    b'{"measure":null,"code":"1"}',  # an explicit null: leaf_text says "None"
    b'{"measure":"budget","code":2050201}',  # a number: leaf_text says its str
    b'{"measure":"budget","code":["a"]}',
    b'{"measure":"budget","code":true}',
    b' { "measure" : "budget" } ',
])
def test_awkward_dimensions_are_named_alike(text):
    assert leaf_text_of(text) == leaf_text(orjson.loads(text))


def test_an_unknown_dimension_fails_alike():
    for text in (b'{"nonsense":"1"}', b'{"measure":"budget","nonsense":null}'):
        with pytest.raises(KeyError):
            leaf_text(orjson.loads(text))
        with pytest.raises(KeyError):
            leaf_text_of(text)


def test_every_code_point_is_named_alike():
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(points), 256):
        value = "".join(points[start:start + 256])
        for text in (orjson.dumps({"project": value, "measure": "m"}),
                     json.dumps({"code": value}, ensure_ascii=True).encode()):
            assert leaf_text_of(text) == leaf_text(orjson.loads(text))


def test_leaves_are_written_sorted_by_their_text():
    rng = random.Random(7)
    values = ["a", "b", "a,", "a]", "", "长治", "\"", "2050201", "20502"]
    texts = set()
    while len(texts) < 400:
        names = rng.sample(DIMENSIONS, rng.randint(0, 4))
        texts.add(leaf_text({name: rng.choice(values) for name in names}))
    pairs = [(text, rng.randint(-10**12, 10**12)) for text in texts]
    rng.shuffle(pairs)
    written = orjson.loads(balances_json(pairs))
    assert written["dimensions"] == list(DIMENSIONS)
    assert [orjson.dumps(values) for values, _fen in written["leaves"]] == sorted(texts)
    assert dict((orjson.dumps(values), fen) for values, fen in written["leaves"]) == dict(pairs)
