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


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_nested_values_are_compared_by_content(tmp_path: Path) -> None:
    """Structs (JSON objects), lists and maps: a changed nested value is a changed row, an equal one
    (even with its fields in another order, or a map's entries) is not; nulls inside count."""
    n = 1500
    base = [{"id": i, "meta": {"a": i, "b": f"s{i}"}, "tags": [i, i + 1], "v": i / 2} for i in range(n)]
    new = [dict(r) for r in base]
    new[3] = dict(new[3], meta={"a": 5, "b": "s3"})  # a struct field changed
    new[7] = dict(new[7], tags=[7, 8, 9])  # a list grew
    new[9] = dict(new[9], tags=[9, 11])  # a list element changed
    new[11] = dict(new[11], meta=None)  # a struct emptied
    new[13] = dict(new[13], tags=[13, None])  # a null inside a list
    new[20] = {"id": 20, "tags": [20, 21], "v": 10.0, "meta": {"b": "s20", "a": 20}}  # fields reordered
    r = diff(_jsonl(tmp_path / "a.jsonl", base), _jsonl(tmp_path / "b.jsonl", new), "id", limit=10)
    assert (r.added, r.removed, r.changed, r.unchanged) == (0, 0, 5, n - 5)
    assert r.changed_rows == [
        {"id": 3, "changes": {"meta": [{"a": 3, "b": "s3"}, {"a": 5, "b": "s3"}]}},
        {"id": 7, "changes": {"tags": [[7, 8], [7, 8, 9]]}},
        {"id": 9, "changes": {"tags": [[9, 10], [9, 11]]}},
        {"id": 11, "changes": {"meta": [{"a": 11, "b": "s11"}, None]}},
        {"id": 13, "changes": {"tags": [[13, 14], [13, None]]}},
    ]
    # Parquet: structs of lists, maps (entry order is not content), fixed-size lists
    ids = list(range(n))
    mtype = pa.map_(pa.string(), pa.int64())
    old_t = pa.table({
        "id": ids,
        "s": pa.array([{"xs": [i, i], "name": f"n{i}"} for i in ids]),
        "m": pa.array([[("a", i), ("b", 1)] for i in ids], mtype),
        "f": pa.array([[float(i), math.nan] for i in ids], pa.list_(pa.float64(), 2)),
    })
    m = [[("a", i), ("b", 1)] for i in ids]
    m[100] = [("b", 1), ("a", 100)]  # same map, entries in another order
    m[200] = [("a", 200), ("b", 2)]  # a map value changed
    s = [{"xs": [i, i], "name": f"n{i}"} for i in ids]
    s[300] = {"xs": [300, -1], "name": "n300"}
    f = [[float(i), math.nan] for i in ids]
    f[400] = [400.0, 1.0]
    new_t = pa.table({"id": ids, "s": pa.array(s), "m": pa.array(m, mtype),
                      "f": pa.array(f, pa.list_(pa.float64(), 2))})
    pq.write_table(old_t, tmp_path / "a.parquet")
    pq.write_table(new_t, tmp_path / "b.parquet")
    r = diff(tmp_path / "a.parquet", tmp_path / "b.parquet", "id")
    assert (r.changed, r.unchanged) == (3, n - 3)
    assert [(x["id"], list(x["changes"])) for x in r.changed_rows] == [(200, ["m"]), (300, ["s"]),
                                                                      (400, ["f"])]
    assert r.changed_rows[0]["changes"]["m"] == [{"a": 200, "b": 1}, {"a": 200, "b": 2}]  # maps read as dicts


def test_a_nested_key_matches_rows_by_its_content(tmp_path: Path) -> None:
    """A struct key (a composite key written as a JSON object) matches rows by its canonical JSON
    text, whatever the order of its fields on either side."""
    n = 1500
    old = [{"k": {"user": i, "item": i % 7}, "v": i} for i in range(n)]
    new: list[dict[str, object]] = [{"k": {"item": i % 7, "user": i}, "v": i} for i in range(1, n)]
    new[0] = dict(new[0], v=-1)
    new.append({"k": {"item": 0, "user": 10_000}, "v": 0})
    r = diff(_jsonl(tmp_path / "a.jsonl", old), _jsonl(tmp_path / "b.jsonl", new), "k")
    assert (r.added, r.removed, r.changed, r.unchanged) == (1, 1, 1, n - 2)
    assert r.removed_rows[0]["k"] == '{"item": 0, "user": 0}'
    assert r.added_rows[0]["k"] == '{"item": 0, "user": 10000}'
    assert r.changed_rows == [{"k": '{"item": 1, "user": 1}', "changes": {"v": [1, -1]}}]


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


def test_a_partition_bigger_than_planned_is_split_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """Partitions are counted from the files' sizes, which can be a quarter of the Arrow form (one-digit
    values): a spilled partition bigger than PARTITION_BYTES is split again by the next bits of the
    key's hash before its join, and the result is the same."""
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text("id,name,v\n" + "".join(f"{i},k{i},{i % 10}\n" for i in range(4000)))
    new.write_text("id,name,v\n" + "".join(f"{i},k{i},{(i % 10) if i % 97 else 7}\n"
                                           for i in range(5, 4100)))
    monkeypatch.setattr(rowdiff, "PARTITION_BYTES", 16 << 10)
    splits: list[int] = []
    real_split = rowdiff._split
    monkeypatch.setattr(rowdiff, "_split", lambda *a: splits.append(a[2]) or real_split(*a))
    for key in ("id", "name"):
        planned = rowdiff.row_diff(str(old), detect(str(old)), str(new), detect(str(new)), key,
                                   size=1 << 30, tmp_dir=str(tmp_path))
        assert splits == [], key  # 1,024 partitions planned, none bigger than planned
        one = rowdiff.row_diff(str(old), detect(str(old)), str(new), detect(str(new)), key, size=1,
                               tmp_dir=str(tmp_path))  # one partition planned, ~100 KB a side
        assert len(splits) >= 2, key
        splits.clear()
        assert (one.added, one.removed, one.changed, one.unchanged) == (100, 5, 36, 3959), key
        assert vars(one) == vars(planned), key


def test_a_big_batch_is_partitioned_a_slice_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """An Arrow file written as one batch came to the partitioner whole, and each of its copies
    (combined, taken in partition order) was the whole batch: it is now buffered a slice of at most
    FLUSH_BYTES at a time, and the diff is the same."""
    import pyarrow.feather as feather

    n = 20_000
    old, new = tmp_path / "old.arrow", tmp_path / "new.arrow"
    feather.write_feather(pa.table({"id": range(n), "v": [i % 10 for i in range(n)]}), old, chunksize=n)
    feather.write_feather(pa.table({"id": range(n), "v": [7 if i == 9 else i % 10 for i in range(n)]}), new,
                          chunksize=n)
    monkeypatch.setattr(rowdiff, "FLUSH_ROWS", 1 << 20)
    monkeypatch.setattr(rowdiff, "FLUSH_BYTES", 40_000)  # the batch: 320,000 bytes
    flushed: list[int] = []
    real_flush = rowdiff._Partitioner._flush

    def flush(self: rowdiff._Partitioner) -> None:
        flushed.append(self.pending_bytes)
        real_flush(self)

    monkeypatch.setattr(rowdiff._Partitioner, "_flush", flush)
    result = diff(old, new, "id")
    assert (result.changed, result.unchanged) == (1, n - 1)
    assert max(flushed) <= 40_000 and len(flushed) >= 16, flushed
