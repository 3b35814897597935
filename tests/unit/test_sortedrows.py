"""Sorted tables written a block at a time (core/sortedrows.py): the midx and the pointer cache."""

from __future__ import annotations

import numpy as np
import pytest

from git_mlv.core import sortedrows


def _reference(keys: np.ndarray) -> list[int]:
    """Rows in key order, first row of equal keys: the dict way."""
    first: dict[bytes, int] = {}
    for i, k in enumerate(keys.tolist()):
        first.setdefault(k, i)
    return [first[k] for k in sorted(first)]


@pytest.mark.parametrize("block", [1, 3, 7, sortedrows.BLOCK])
def test_first_in_order_keeps_the_first_row_of_equal_keys(monkeypatch: pytest.MonkeyPatch,
                                                          block: int) -> None:
    monkeypatch.setattr(sortedrows, "BLOCK", block)  # block edges fall on duplicates too
    rng = np.random.default_rng(5)
    # 3 sorted runs (as concatenated sorted files are) sharing keys; some keys end in zero bytes
    pool = [bytes(rng.integers(0, 256, 20, dtype=np.uint8)) for _ in range(40)] + [b"k" + bytes(19)]
    runs = [sorted(set(rng.choice(len(pool), 25).tolist())) for _ in range(3)]
    keys = np.array([pool[i] for run in runs for i in run], dtype="S20")
    order = sortedrows.first_in_order(keys)
    assert order.tolist() == _reference(keys)
    got = keys[order].tolist()
    assert got == sorted(set(got)) and len(got) == len({pool[i] for run in runs for i in run})


def test_first_in_order_of_nothing_and_one() -> None:
    assert sortedrows.first_in_order(np.zeros(0, dtype="S33")).tolist() == []
    assert sortedrows.first_in_order(np.array([b"x"], dtype="S33")).tolist() == [0]


def test_gathered_writes_each_column_in_order_then_lets_it_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sortedrows, "BLOCK", 4)
    keys = np.array([b"%02d" % (i * 7 % 10) for i in range(10)], dtype="S2")
    values = np.arange(10, dtype="<u4")
    order = sortedrows.first_in_order(keys)
    columns = [keys, values]
    pieces = sortedrows.gathered(columns, order)
    first = next(pieces)
    assert first == keys[order[:4]].tobytes() and len(columns) == 1  # the keys are being written
    rest = b"".join(pieces)
    assert first + rest == keys[order].tobytes() + values[order].tobytes()
    assert columns == []


def test_in_key_order_answers_in_the_callers_order_a_slice_at_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sortedrows, "SLICE", 4)
    keys = np.array([b"%03d" % ((i * 37) % 101) for i in range(30)], dtype="S33")
    seen: list[list[bytes]] = []
    after: list[int] = []

    def look(part: np.ndarray) -> list[bytes]:
        seen.append(part.tolist())
        return [k.upper() + b"!" for k in part.tolist()]

    got = sortedrows.in_key_order(keys, look, lambda: after.append(len(seen)))
    assert got == [k + b"!" for k in keys.tolist()]  # each answer at its key's place
    assert [len(s) for s in seen] == [4] * 7 + [2] and after == list(range(1, 9))  # pages after each
    flat = [k for s in seen for k in s]
    assert flat == sorted(flat)  # slices in key order: each falls in one band of a table
    assert sortedrows.in_key_order(keys[:3], look, lambda: after.append(-1)) == [
        k + b"!" for k in keys[:3].tolist()] and after[-1] == -1
