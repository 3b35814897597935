"""`git mlv diff --key` over column types pyarrow cannot compare or Python cannot hold (real git).
A float16 column (embeddings) stopped the whole diff with "internal error: ArrowNotImplementedError:
Function 'not_equal' has no kernel matching input types (halffloat, halffloat)", exit 70, as did a
field that is null in every record of both sides (typed null); a changed nanosecond timestamp (what
pandas writes) with "internal error: ValueError: Nanosecond resolution temporal type ... is not
safely convertible", and so did a nanosecond timestamp as the key."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as pf
import pyarrow.parquet as pq

from tests.helpers import commit_all, mlv, out, write

T0 = 1700000000123456789  # 2023-11-14 22:13:20.123456789


def _table(emb: list[float], ts: list[int]) -> pa.Table:
    return pa.table({"ts": pa.array([T0 + i for i in range(len(ts))], pa.timestamp("ns")),
                     "id": list(range(len(ts))),
                     "emb": pa.array(emb, pa.float16()),
                     "seen": pa.array(ts, pa.timestamp("ns", tz="UTC"))})


def test_float16_nanoseconds_and_null_columns_are_compared(repo: Path) -> None:
    (repo / "data").mkdir()
    pq.write_table(_table([0.5, 1.0, 1.5], [T0, T0, T0]), repo / "data" / "e.parquet")
    write(repo / "data" / "log.jsonl", b'{"id": 1, "gone": null}\n{"id": 2, "gone": null}\n')
    commit_all(repo, "v1")
    pq.write_table(_table([0.5, 2.0, 1.5], [T0, T0, T0 + 1]), repo / "data" / "e.parquet")
    write(repo / "data" / "log.jsonl", b'{"id": 1, "gone": null}\n{"id": 3, "gone": null}\n')
    commit_all(repo, "v2")
    proc = mlv("diff", "HEAD~1", "HEAD", "--key", "id", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr
    text = out(proc)
    assert "data/e.parquet by id: 0 added, 0 removed, 2 changed, 1 unchanged" in text
    assert "changed  id=1: emb 1.0 -> 2.0" in text
    assert "changed  id=2: seen 2023-11-14 22:13:20.123456789+00:00 -> " \
           "2023-11-14 22:13:20.123456790+00:00" in text
    assert "data/log.jsonl by id: 1 added, 1 removed, 0 changed, 1 unchanged" in text
    # the key itself in nanoseconds, in --json: a key Python's datetime could not hold
    proc = mlv("diff", "HEAD~1", "HEAD", "--key", "ts", "--json", "data/e.parquet", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out(proc))["files"][0]["rows"]
    assert (rows["changed"], rows["unchanged"]) == (2, 1)
    assert [r["ts"] for r in rows["changed_rows"]] == ["2023-11-14 22:13:20.123456790",
                                                       "2023-11-14 22:13:20.123456791"]
    assert rows["changed_rows"][0]["changes"] == {"emb": [1.0, 2.0]}


def test_a_timestamp_written_in_another_unit_is_the_same_instant(repo: Path) -> None:
    # a pipeline that moved from pyarrow's milliseconds to pandas' nanoseconds changed no value;
    # compared as text ("00:00:00.001" against "00:00:00.001000") every row was added and removed
    (repo / "data").mkdir()
    pq.write_table(pa.table({"ts": pa.array([1, 2, 3], pa.timestamp("ms")), "v": [1, 2, 3],
                             "at": pa.array([5, 6, 7], pa.timestamp("s", tz="UTC"))}),
                   repo / "data" / "u.parquet")
    commit_all(repo, "v1")
    ns = [10**6, 2 * 10**6, 4 * 10**6]
    pq.write_table(pa.table({"ts": pa.array(ns, pa.timestamp("ns")), "v": [1, 5, 3],
                             "at": pa.array([5000, 6000, 7000], pa.timestamp("ms", tz="UTC"))}),
                   repo / "data" / "u.parquet")
    commit_all(repo, "v2")
    text = out(mlv("diff", "HEAD~1", "HEAD", "--key", "ts", cwd=repo))
    assert "data/u.parquet by ts: 1 added, 1 removed, 1 changed, 1 unchanged" in text
    assert "changed  ts=1970-01-01 00:00:00.002000: v 2 -> 5" in text
    text = out(mlv("diff", "HEAD~1", "HEAD", "--key", "v", cwd=repo))  # not keys: values
    assert "data/u.parquet by v: 1 added, 1 removed, 1 changed, 1 unchanged" in text
    assert "changed  v=3: ts 1970-01-01 00:00:00.003000 -> 1970-01-01 00:00:00.004000" in text


def test_keys_of_bytes_float16_and_intervals(repo: Path) -> None:
    # a key of bytes (a hash) was cast to text: "internal error: ArrowInvalid: Invalid UTF8 payload";
    # a float16 key: "internal error: ArrowNotImplementedError: halffloat"; an interval key:
    # "internal error: ArrowTypeError: Sorting not supported"; all exit 70
    (repo / "data").mkdir()

    def table(scale: int) -> pa.Table:
        return pa.table({"sha": pa.array([bytes([i, 0xFF]) for i in range(4)]),
                         "half": pa.array([0.5 * i for i in range(4)], pa.float16()),
                         "span": pa.array([pa.MonthDayNano([i, 0, 0]) for i in range(4)],
                                          pa.month_day_nano_interval()),
                         "v": [i * scale for i in range(4)]})

    pf.write_feather(table(1), repo / "data" / "h.feather")
    commit_all(repo, "v1")
    pf.write_feather(table(2), repo / "data" / "h.feather")
    commit_all(repo, "v2")
    for key in ("sha", "half"):
        proc = mlv("diff", "HEAD~1", "HEAD", "--key", key, cwd=repo, check=False)
        assert proc.returncode == 0, proc.stderr
        assert f"data/h.feather by {key}: 0 added, 0 removed, 3 changed, 1 unchanged" in out(proc)
    proc = mlv("diff", "HEAD~1", "HEAD", "--key", "span", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "data/h.feather: rows not compared: column 'span' (month_day_nano_interval) cannot be a key" \
        in out(proc)
