"""Summaries and row diffs of the tables data scientists commit as their tools write them (helper C)."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.inspect import rowdiff, summarize, tables
from git_mlv.inspect.detect import detect

# Excel in Windows-1252 (Western Europe): "Qté" and "Année" in the header, ';' between fields
_EXCEL = "id;Qté;Année\r\n" + "".join(f"{i};{i * 2};caf\xe9 {i % 3}\r\n" for i in range(40))


def _lines(path: Path) -> list[str]:
    return summarize(str(path)).lines()


def test_windows1252_header_is_read_as_a_table(tmp_path: Path) -> None:
    """pyarrow decodes a CSV's header as UTF-8 and stopped on Excel's Windows-1252 one: the file
    was summarised as bytes with the note "'utf-8' codec can't decode byte 0xe9". Its names are
    now decoded with other bytes written \\xe9, as a summary writes bytes."""
    csv = tmp_path / "ventes.csv"
    csv.write_bytes(_EXCEL.encode("cp1252"))
    lines = _lines(csv)
    assert lines[:8] == ["format csv", f"size {csv.stat().st_size} ({csv.stat().st_size} B)", "rows 40",
                         "columns 3", "column id int64", "column Qt\\xe9 int64",
                         "column Ann\\xe9e binary", 'delimiter ";"']
    assert "Qt\\xe9 max 78" in lines and 'Ann\\xe9e top "caf\\\\xe9 0" 14' in lines
    tsv = tmp_path / "ventes.tsv"
    tsv.write_bytes(_EXCEL.replace(";", "\t").encode("cp1252"))
    assert _lines(tsv)[4:7] == ["column id int64", "column Qt\\xe9 int64", "column Ann\\xe9e binary"]
    alone = tmp_path / "vide.csv"  # an export of no rows: the header alone, no line end
    alone.write_bytes("Qté,Année".encode("cp1252"))
    assert _lines(alone)[2:6] == ["rows 0", "columns 2", "column Qt\\xe9 null", "column Ann\\xe9e null"]
    quoted = tmp_path / "q.csv"  # a quoted name holding a line end: its two lines are the header's
    quoted.write_bytes('"Qté\nunit",v\n1,2\n3,4\n'.encode("cp1252"))
    assert _lines(quoted)[2:6] == ["rows 2", "columns 2", 'column "Qt\\\\xe9\\nunit" int64', "column v int64"]
    utf8 = tmp_path / "u.csv"  # a UTF-8 header is pyarrow's to read, as before
    utf8.write_text("Qté,v\n1,2\n", encoding="utf-8")
    assert _lines(utf8)[4] == "column Qté int64"


def test_windows1252_header_in_parallel_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big CSV is read in byte ranges after its header: the names come from the header once, and
    the ranges are not cut short by a skipped line."""
    csv = tmp_path / "big.csv"
    csv.write_bytes(("id;Qté\n" + "".join(f"{i};{i % 7}\n" for i in range(20000))).encode("cp1252"))
    serial = _lines(csv)
    monkeypatch.setattr(tables, "PARALLEL_MIN", 1024)
    monkeypatch.setattr(tables.os, "cpu_count", lambda: 4)
    from git_mlv.inspect import csvparts

    ranges: list[int] = []
    real = csvparts._range_stats
    monkeypatch.setattr(csvparts, "_range_stats", lambda *a: ranges.append(1) or real(*a))
    assert _lines(csv) == serial
    assert len(ranges) == 4
    assert "rows 20000" in serial and "column Qt\\xe9 int64" in serial


def test_windows1252_header_rows_by_key(tmp_path: Path) -> None:
    """`git mlv diff --key` reads the same names: the key and the changed column are found."""
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_bytes(_EXCEL.encode("cp1252"))
    new.write_bytes(_EXCEL.replace("\r\n7;14;", "\r\n7;15;").encode("cp1252"))
    r = rowdiff.row_diff(str(old), detect(str(old)), str(new), detect(str(new)), "id",
                         size=old.stat().st_size, limit=5, tmp_dir=str(tmp_path))
    assert (r.added, r.removed, r.changed, r.unchanged) == (0, 0, 1, 39)
    assert r.changed_rows == [{"id": 7, "changes": {"Qt\\xe9": [14, 15]}}]


def test_parquet_timestamps_in_their_columns_zone(tmp_path: Path) -> None:
    """A Parquet column typed timestamp[.., tz=Europe/Paris] showed its min and max in UTC under
    that type line, while the same table as Feather (and Arrow) showed Paris time: moving a dataset
    from Feather to Parquet showed changed values in `git diff`. A zone Python does not know keeps
    UTC, a readable time."""
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    stamps = [1700000000123456789, None, 1600000000000000000]
    for tz, unit, low in (("Europe/Paris", "ns", "2020-09-13 14:26:40+02:00"),
                          ("+05:30", "us", "2020-09-13 17:56:40+05:30"),
                          ("Mars/Olympus", "ms", "2020-09-13 12:26:40+00:00")):
        div = {"ns": 1, "us": 1000, "ms": 1000_000}[unit]
        values = [s if s is None else s // div for s in stamps]
        t = pa.table({"ts": pa.array(values, pa.timestamp(unit, tz=tz))})
        pq.write_table(t, tmp_path / "t.parquet")
        lines = [x for x in _lines(tmp_path / "t.parquet") if x.startswith("ts m")]
        assert lines[0] == f"ts min {low}", tz
        if tz != "Mars/Olympus":
            feather.write_feather(t, tmp_path / "t.feather")
            assert [x for x in _lines(tmp_path / "t.feather") if x.startswith("ts m")] == lines


def test_array_dtypes_show_records_and_text_lengths(tmp_path: Path) -> None:
    """A structured array was ``dtype |V12`` (its fields unseen) and a text array ``dtype str160``
    (numpy's name counts bits): a field renamed or retyped, or longer strings, showed only as a new
    sha256. They read as HDF5's compound types and numpy's codes now, in .npy, .npz and pickles
    (whose record dtypes are rebuilt from their type codes, nothing run)."""
    import pickle

    import numpy as np

    rec = np.zeros(2, dtype=[("id", "<i2"), ("pos", "<f4", (3,)), ("tag", "S2"), ("m", [("x", ">u8")])])
    np.save(tmp_path / "r.npy", rec)
    want = "compound(id <i2, pos <f4 [3], tag |S2, m compound(x >u8))"
    assert f"dtype {want}" in _lines(tmp_path / "r.npy")
    np.save(tmp_path / "u.npy", np.array(["héllo", "w"]))
    assert "dtype <U5" in _lines(tmp_path / "u.npy")
    np.savez(tmp_path / "z.npz", r=rec, t=np.array([b"ab"]), d=np.array(["2024-01-01"], "datetime64[D]"))
    assert [x for x in _lines(tmp_path / "z.npz") if x.startswith("array ")] == [
        "array d datetime64[D] [1]", f"array r {want} [2]", "array t |S2 [1]"]
    for protocol in (2, 5):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps({"r": rec, "f": np.arange(3.0)}, protocol=protocol))
        assert [x for x in _lines(path) if x.startswith("array ")] == [
            f"array r {want} [2]", "array f float64 [3]"], protocol


def test_utf16_tables_are_read_as_text(tmp_path: Path) -> None:
    """Excel's "Unicode text" and PowerShell 5's `> data.csv` write UTF-16 with a byte-order mark:
    pyarrow reads only UTF-8 and saw one column of NUL bytes, so such a file was summarised as bytes
    ("Expected 2 columns, got 1: \\u0000") and `git mlv diff` could not read it. Its text is now
    transcoded as it streams, and the summary says `encoding utf-16`."""
    import gzip

    text = "id;Qté\r\n" + "".join(f"{i};{i % 4},5\r\n" for i in range(50))
    le, be = tmp_path / "le.csv", tmp_path / "be.tsv"
    le.write_bytes(text.encode("utf-16"))  # little-endian, with its BOM
    be.write_bytes(b"\xfe\xff" + text.replace(";", "\t").encode("utf-16-be"))
    utf8 = tmp_path / "u.csv"
    utf8.write_text(text, encoding="utf-8")
    plain = _lines(utf8)
    for path, kind in ((le, "csv"), (be, "tsv")):
        lines = _lines(path)
        assert lines[0] == f"format {kind}" and "encoding utf-16" in lines
        assert [x for x in lines if x.startswith(("rows", "column", "Qt"))] == \
            [x for x in plain if x.startswith(("rows", "column", "Qt"))]
    (tmp_path / "g.csv.gz").write_bytes(gzip.compress('a,b\n1,"x\ny"\n'.encode("utf-16")))
    assert 'b top "x\\ny" 1' in _lines(tmp_path / "g.csv.gz")
    (tmp_path / "h.csv").write_bytes("a,b".encode("utf-16"))  # a header alone, no line end
    assert _lines(tmp_path / "h.csv")[2:5] == ["rows 0", "columns 2", "column a null"]
    new = tmp_path / "new.csv"
    new.write_bytes(text.replace("\r\n7;3,5", "\r\n7;9,5").encode("utf-16"))
    r = rowdiff.row_diff(str(utf8), detect(str(utf8)), str(new), detect(str(new)), "id",
                         size=new.stat().st_size, limit=5, tmp_dir=str(tmp_path))
    assert (r.added, r.removed, r.changed, r.unchanged) == (0, 0, 1, 49)
    assert r.changed_rows == [{"id": 7, "changes": {"Qté": ["3,5", "9,5"]}}]


def test_repeated_column_names_are_told_apart(tmp_path: Path) -> None:
    """Two columns headed "a" (a spreadsheet's export) gave two blocks of "a nulls", "a min"... that
    no reader could tell apart; they are named as `git mlv diff --key` names them (pandas' rule)."""
    path = tmp_path / "dup.csv"
    path.write_text("a,a,a.1,a\n1,2,3,4\n5,6,7,8\n")
    lines = _lines(path)
    assert [x for x in lines if x.startswith("column ")] == [
        "column a int64", "column a.2 int64", "column a.1 int64", "column a.3 int64"]
    assert [x for x in lines if x.endswith(" max 8") or x.endswith(" max 6")] == ["a.2 max 6", "a.3 max 8"]


def test_feather_v1_is_a_table(tmp_path: Path) -> None:
    """pandas' to_feather wrote Feather V1 (FEA1 at both ends) before pyarrow 0.17: such a file
    was a bare sha256. It reads as a table now; a damaged one is a note from the forked reader
    (pyarrow dies on some: SIGSEGV), through `git mlv textconv` as git runs it."""
    import subprocess
    import sys
    import warnings

    import pyarrow as pa
    import pyarrow.feather as feather

    table = pa.table({"id": [1, 2, None], "name": ["x", "y", "x"]})
    path = tmp_path / "old.feather"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feather.write_feather(table, path, version=1)
    lines = _lines(path)
    assert lines[0] == "format feather-v1" and lines[2:6] == ["rows 3", "columns 2", "column id int64",
                                                              "column name string"]
    assert "id nulls 1" in lines and 'name top "x" 2' in lines
    damaged = tmp_path / "damaged.feather"
    damaged.write_bytes(path.read_bytes()[:100] + b"FEA1")
    exe = Path(sys.executable).with_name("git-mlv")
    p = subprocess.run([str(exe), "textconv", str(damaged)], capture_output=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().splitlines()
    assert out[0] == "format binary" and out[-1].startswith("note not a readable feather-v1 file"), out
