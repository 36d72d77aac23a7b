"""JSON row counting over arbitrary chunk boundaries: strings holding braces, brackets, escaped
quotes and backslashes, multi-byte characters, cut anywhere; checked against json.loads, on a fixed
body and on randomised ones."""

from __future__ import annotations

import json
import random

import pytest
from datagouv_sdk.export.files import _JsonRowCounter

ROWS = [
    {"__id": 1, "name": "Bravo, {with} [brackets]", "note": None},
    {"__id": 2, "name": 'Charlie "quoted" }', "note": "back\\slash\\"},
    {"__id": 3, "name": '\\"{', "note": "Écho accentué ]"},
    {"__id": 4, "name": "", "note": "x\ny"},
]
# PostgREST's layout, and api_tabular's closing newline
BODY = ("[" + ", \n ".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "]\n").encode()


def count(body: bytes, size: int) -> int:
    counter = _JsonRowCounter()
    for i in range(0, len(body), size):
        counter.feed(body[i : i + size])
    return counter.data_rows()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 4096])
def test_counts_rows_whatever_the_chunks(size: int) -> None:
    assert count(BODY, size) == len(json.loads(BODY)) == 4


@pytest.mark.parametrize("body", [b"[]\n", b"[\n]\n", b""])
def test_empty_exports(body: bytes) -> None:
    assert count(body, 1) == 0


def test_randomised_bodies() -> None:
    rng = random.Random(20261130)
    alphabet = '{}[]"\\,: éa\n\t/'
    for _ in range(200):
        rows = [
            {
                "".join(rng.choices(alphabet, k=rng.randint(0, 6))): "".join(
                    rng.choices(alphabet, k=rng.randint(0, 12))
                )
                for _ in range(rng.randint(0, 3))
            }
            for _ in range(rng.randint(0, 12))
        ]
        body = json.dumps(rows, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1])).encode()
        assert count(body, rng.randint(1, 40)) == len(rows), body
