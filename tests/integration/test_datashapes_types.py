"""Column types a data scientist's tables hold, in `git diff` (real git). A column of int64 ids past
2**53 (snowflake ids, hashes), of nanosecond timestamps (what pandas writes), of float16 values
(embeddings) or of durations made the whole table unreadable: `git diff` showed two sha256s and a
note ("Integer value ... not in range", "Nanosecond resolution temporal type ... is not safely
convertible", "Function 'min_max' has no kernel matching input types (halffloat)"), and a Parquet
float16 column's min and max were its raw bytes (``\\u0000<``)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.feather as pf
import pyarrow.parquet as pq

from tests.helpers import commit_all, git, out, write


def _diff(repo: Path) -> str:
    return out(git("diff", "HEAD~1", "HEAD", cwd=repo))


def test_big_ids_are_numbers_not_an_unreadable_file(repo: Path) -> None:
    write(repo / "data" / "tweets.csv", b"tweet_id,likes\n1529876543210987654,3\n")
    write(repo / "data" / "tweets.jsonl", b'{"tweet_id": 1529876543210987654}\n')
    commit_all(repo, "v1")
    write(repo / "data" / "tweets.csv", b"tweet_id,likes\n1529876543210987654,3\n1529876543210987699,5\n")
    write(repo / "data" / "tweets.jsonl", b'{"tweet_id": 1529876543210987654}\n{"tweet_id": 7}\n')
    commit_all(repo, "v2")
    d = _diff(repo)
    assert "note" not in d and "format binary" not in d, d
    assert "+tweet_id max 1529876543210987699\n" in d and " column tweet_id int64\n" in d
    assert "-tweet_id min 1529876543210987654\n+tweet_id min 7\n" in d  # the JSON Lines one
    assert "+likes mean 4\n" in d


def _ns_table(n: int) -> pa.Table:
    ts = [1700000000123456789 + i for i in range(n)]
    return pa.table({"ts": pa.array(ts, pa.timestamp("ns")),
                     "utc": pa.array(ts, pa.timestamp("ns", tz="UTC")),
                     "took": pa.array([1001 * (i + 1) for i in range(n)], pa.duration("ns")),
                     "secs": pa.array(list(range(n)), pa.duration("s")),
                     "emb": pa.array([0.5 * i for i in range(n)], pa.float16()),
                     "u": pa.array([2**64 - 1 - i for i in range(n)], pa.uint64())})


def test_nanoseconds_float16_and_durations_are_summarised(repo: Path) -> None:
    for n in (1, 2):
        (repo / "data").mkdir(exist_ok=True)
        pq.write_table(_ns_table(n), repo / "data" / "t.parquet")
        pf.write_feather(_ns_table(n), repo / "data" / "t.feather")
        write(repo / "data" / "t.csv", b"ts\n" + b"".join(b"2023-11-14T22:13:20.12345678%d\n" % (9 - i)
                                                          for i in range(n)))
        commit_all(repo, f"v{n}")
    d = _diff(repo)
    assert "note" not in d and "format binary" not in d, d
    csv, feather, parquet = d.split("diff --git ")[1:]
    for part in (feather, parquet):
        assert " ts min 2023-11-14 22:13:20.123456789\n" in part  # the minimum did not move
        assert "+ts max 2023-11-14 22:13:20.123456790\n" in part
        assert "+utc max 2023-11-14 22:13:20.123456790+00:00\n" in part
        assert "+emb max 0.5\n" in part and " emb min 0.0\n" in part
        assert "+u min 18446744073709551614\n" in part
    assert "+took max 0:00:00.000002002\n" in feather and "+secs max 0:00:01\n" in feather
    assert "+took max 2002\n" in parquet  # a duration is a plain int64 in Parquet
    # the CSV: pyarrow infers timestamp[ns] from nine fraction digits
    assert "b/data/t.csv" in csv and "b/data/t.parquet" in parquet
    assert " column ts timestamp[ns]\n" in csv and "+ts min 2023-11-14 22:13:20.123456788\n" in csv


def test_values_outside_pythons_years_and_a_damaged_npy_header(repo: Path) -> None:
    # found by fuzzing textconv: a date or timestamp outside years 1-9999 (a sentinel, a damaged
    # file) stopped git diff with "internal error: OverflowError" (Parquet: "date value out of
    # range", Arrow: "Python int too large to convert to C int"), and an .npy header cut inside
    # its shape with "internal error: TokenError: ('EOF in multi-line statement', (2, 0))"
    import struct

    far = pa.table({"ts": pa.array([0, 2**62], pa.timestamp("us")),
                    "d": pa.array([0, 2**31 - 1], pa.date32())})
    (repo / "data").mkdir()
    pq.write_table(far.slice(0, 1), repo / "data" / "f.parquet")
    pf.write_feather(far.slice(0, 1), repo / "data" / "f.feather")
    commit_all(repo, "v1")
    pq.write_table(far, repo / "data" / "f.parquet")
    pf.write_feather(far, repo / "data" / "f.feather")
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, "
    header += b" " * (118 - len(header)) + b"\n"
    write(repo / "data" / "x.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(16))
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    for ext in ("feather", "parquet"):
        part = d.split(f"b/data/f.{ext}\n", 1)[1].split("diff --git", 1)[0]
        assert " ts min 1970-01-01 00:00:00\n" in part
        assert "+ts max 4611686018427387904 (timestamp[us])\n" in part
        assert "+d max 2147483647 (date32[day])\n" in part
    assert "+note not a readable npy file: ('EOF in multi-line statement', (2, 0))\n" in d


def test_a_parquet_footer_with_a_wrong_chunk_type_is_a_note(repo: Path) -> None:
    # found by fuzzing: one byte of the footer turned a chunk's physical type to an unknown one,
    # and reading its statistics aborted the process (pyarrow throws a C++ ParquetException no one
    # catches: "terminate called after throwing ...", signal 6), so git diff died with it
    import io
    import struct

    buf = io.BytesIO()
    pq.write_table(pa.table({"x": [1, 2, 3]}), buf)
    (repo / "data").mkdir()
    (repo / "data" / "p.parquet").write_bytes(buf.getvalue())
    commit_all(repo, "v1")
    data = bytearray(buf.getvalue())
    footer = len(data) - 8 - struct.unpack("<I", data[-8:-4])[0]
    i = data.index(b"\x1c\x15\x04", footer)  # ColumnMetaData { type: INT64 } in thrift's compact form
    data[i + 2] = 0x11
    (repo / "data" / "p.parquet").write_bytes(bytes(data))
    commit_all(repo, "v2")
    d = out(git("diff", "HEAD~1", "HEAD", cwd=repo))
    assert "+note not a readable parquet file: column x: a UNKNOWN chunk in row group 0, where the " \
           "schema says INT64\n" in d
