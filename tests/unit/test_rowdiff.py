"""The keyed row diff (inspect.rowdiff) in-process: many partitions, text and integer keys, nulls,
NaN, retyped columns, and keys that cannot match rows."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from git_mlv.inspect import rowdiff
from git_mlv.inspect.detect import detect


@pytest.fixture(autouse=True)
def tiny_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Partitions of 4 KiB and flushes of 100 rows, so small tables take the many-partition path."""
    monkeypatch.setattr(rowdiff, "PARTITION_BYTES", 4096)
    monkeypatch.setattr(rowdiff, "FLUSH_ROWS", 100)


def diff(old: Path, new: Path, key: str, limit: int = 5) -> rowdiff.RowDiff:
    size = max(old.stat().st_size, new.stat().st_size)
    assert rowdiff._partitions(size) > 4
    return rowdiff.row_diff(str(old), detect(str(old)), str(new), detect(str(new)), key, size=size,
                            limit=limit, tmp_dir=str(old.parent))


def test_text_keys_across_formats_and_partitions(tmp_path: Path) -> None:
    n = 3000
    old = tmp_path / "old.csv"
    old.write_text("name,score,note\n" + "".join(f"k{i:05d},{i / 4},n{i % 5}\n" for i in range(n)))
    rows = {f"k{i:05d}": (i / 4, f"n{i % 5}") for i in range(n)}
    rows["k00042"] = (99.0, "n2")  # score changed
    rows["k02999"] = (rows["k02999"][0], None)  # note emptied: null
    del rows["k00007"]
    rows["new-1"] = (1.0, "x")
    new = tmp_path / "new.parquet"  # the other side in another format: only the data counts
    names = list(rows)
    pq.write_table(pa.table({"name": names, "score": [rows[k][0] for k in names],
                             "note": [rows[k][1] for k in names]}), new, row_group_size=500)
    r = diff(old, new, "name")
    assert (r.added, r.removed, r.changed, r.unchanged) == (1, 1, 2, n - 3)
    assert [x["name"] for x in r.added_rows] == ["new-1"] and r.removed_rows[0]["name"] == "k00007"
    assert r.changed_rows == [{"name": "k00042", "changes": {"score": [10.5, 99.0]}},
                              {"name": "k02999", "changes": {"note": ["n4", None]}}]


def test_nan_equals_nan_and_retyped_columns_compare_as_text(tmp_path: Path) -> None:
    old = tmp_path / "a.parquet"
    new = tmp_path / "b.parquet"
    ids = list(range(2000))
    pq.write_table(pa.table({"id": ids, "v": [math.nan if i % 3 else float(i) for i in ids],
                             "c": [i % 10 for i in ids]}), old)
    pq.write_table(pa.table({"id": ids[::-1], "v": [math.nan if i % 3 else float(i) for i in ids[::-1]],
                             "c": [str(i % 10) for i in ids[::-1]]}), new)
    r = diff(old, new, "id")
    assert (r.added, r.removed, r.changed, r.unchanged) == (0, 0, 0, 2000)


def test_keys_that_cannot_match_rows_are_refused(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("id,v\n" + "".join(f"{i % 1500},{i}\n" for i in range(2000)))
    b = tmp_path / "b.csv"
    b.write_text("id,v\n" + "".join(f"{i},{i}\n" for i in range(2000)))
    with pytest.raises(rowdiff.KeyColumnError, match="not unique"):
        diff(a, b, "id")
    with pytest.raises(rowdiff.KeyColumnError, match="no column 'nope'"):
        diff(b, b, "nope")
    c = tmp_path / "c.csv"
    c.write_text("id,v\n" + "".join(f"{'' if i == 5 else i},{i}\n" for i in range(2000)))
    with pytest.raises(rowdiff.KeyColumnError, match="empty values"):
        diff(b, c, "id")


def test_semicolon_csv_rows_match_by_key(tmp_path: Path) -> None:
    """A ';' CSV (European Excel) against a ',' one: the delimiter of each side is sniffed, so the
    key column exists on both and only the real change shows."""
    n = 2000
    old = tmp_path / "eu.csv"
    old.write_text("id;name;price\n" + "".join(f"{i};n{i};{i}.5\n" for i in range(n)))
    new = tmp_path / "us.csv"
    new.write_text("id,name,price\n" + "".join(f"{i},\"n{i}\",{i + (i == 17)}.5\n" for i in range(n)))
    r = diff(old, new, "id")
    assert (r.added, r.removed, r.changed, r.unchanged) == (0, 0, 1, n - 1)
    assert r.changed_rows == [{"id": 17, "changes": {"price": [17.5, 18.5]}}]
