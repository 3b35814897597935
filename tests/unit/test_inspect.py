"""Summaries of data files (git_mlv/inspect): exact text for small files of every format, made here
with pyarrow, numpy, Pillow and the safetensors header format."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from git_mlv.inspect import summarize
from git_mlv.inspect.detect import detect

TABLE = pa.table({
    "id": pa.array([1, 2, 3, 4], pa.int64()),
    "x": pa.array([0.5, 1.5, None, 3.0]),
    "cat": pa.array(["a", "b", "a", None]),
    "ok": pa.array([True, False, True, True]),
})
CSV = "id,x,cat,ok\n1,0.5,a,true\n2,1.5,b,false\n3,,a,true\n4,3.0,,true\n"

SCHEMA = """rows 4
columns 4
column id int64
column x double
column cat string
column ok bool
"""
STATS = """id nulls 0
id min 1
id max 4
id mean 2.5
x nulls 1
x min 0.5
x max 3.0
x mean 1.6666667
cat nulls 1
cat distinct 2
cat top "a" 2
cat top "b" 1
ok nulls 0
ok true 3
ok false 1
"""


def text(path: Path, name: str | None = None) -> str:
    return summarize(str(path), name).text()


def size(path: Path) -> str:
    n = path.stat().st_size
    return f"size {n} ({n} B)\n" if n < 1024 else f"size {n} ({n / 1024:.1f} KiB)\n"


def test_csv_and_its_compressed_and_tsv_forms(tmp_path: Path) -> None:
    plain = tmp_path / "t.csv"
    plain.write_text(CSV)
    assert text(plain) == "format csv\n" + size(plain) + SCHEMA + STATS
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(CSV.encode()))
    assert text(gz) == "format csv (gzip)\n" + size(gz) + SCHEMA + STATS
    tsv = tmp_path / "t.tsv"
    tsv.write_text(CSV.replace(",", "\t"))
    assert text(tsv) == "format tsv\n" + size(tsv) + SCHEMA + STATS


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in TABLE.to_pylist()))
    assert text(path) == "format jsonl\n" + size(path) + SCHEMA + STATS


def test_feather(tmp_path: Path) -> None:
    path = tmp_path / "t.feather"
    feather.write_feather(TABLE, path)
    assert text(path) == "format arrow\n" + size(path) + SCHEMA + "record batches 1\n" + STATS


def test_parquet_from_the_footer(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path, row_group_size=2, compression="zstd")
    assert text(path) == (
        "format parquet\n" + size(path) + SCHEMA + "row groups 2\ncompression zstd\n"
        f"created by parquet-cpp-arrow version {pa.__version__}\n"
        "id nulls 0\nid min 1\nid max 4\nx nulls 1\nx min 0.5\nx max 3.0\n"
        "cat nulls 1\ncat min a\ncat max b\nok nulls 0\nok min false\nok max true\n"
    )


def test_parquet_reads_only_the_footer(tmp_path: Path) -> None:
    """Damaging every data page changes nothing: the summary never reads them."""
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"v": np.arange(100_000, dtype=np.int64)}), path, compression="none")
    before = text(path)
    data = bytearray(path.read_bytes())
    footer_len = struct.unpack("<I", data[-8:-4])[0]
    for i in range(8, len(data) - footer_len - 8):
        data[i] = 0
    path.write_bytes(bytes(data))
    assert text(path) == before


def test_widened_column_type_is_read_again(tmp_path: Path) -> None:
    """Type inference sees ints in the first block; a float far later widens the column."""
    from git_mlv.inspect import tables

    path = tmp_path / "late.csv"
    rows = "".join(f"{i},{i % 7}\n" for i in range(200_000))
    path.write_text("n,v\n" + rows + "200000,2.5\n")
    assert path.stat().st_size > tables.BLOCK_SIZE
    out = text(path)
    assert "column v double\n" in out and "rows 200001\n" in out and "v max 6.0\n" in out


def test_npy(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    np.save(path, np.arange(12, dtype=np.float32).reshape(3, 4))
    sha = __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    assert text(path) == (
        "format npy\n" + size(path) + "dtype float32\nshape [3, 4]\nelements 12\n"
        f"min 0.0\nmax 11.0\nmean 5.5\nstd 3.4520525\nsha256 {sha}\n"
    )


def test_npy_nans_are_counted_not_averaged(tmp_path: Path) -> None:
    path = tmp_path / "n.npy"
    np.save(path, np.array([1.0, np.nan, 3.0]))
    out = text(path)
    assert "mean 2\n" in out and "nan 1\n" in out


def test_npz(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez_compressed(path, w=np.ones((2, 3)), b=np.array([1, 2, 3], dtype=np.int64))
    import zipfile

    crc = {i.filename: f"{i.CRC:08x}" for i in zipfile.ZipFile(path).infolist()}
    assert text(path) == (
        "format npz\n" + size(path) + "arrays 2\narray b int64 [3]\narray w float64 [2, 3]\n"
        f"b min 1\nb max 3\nb mean 2\nb std 0.81649658\nb crc32 {crc['b.npy']}\n"
        f"w min 1.0\nw max 1.0\nw mean 1\nw std 0\nw crc32 {crc['w.npy']}\n"
    )


def safetensors_bytes(tensors: dict[str, np.ndarray], dtypes: dict[str, str], meta: dict[str, str]) -> bytes:
    """The safetensors format: u64 header length, JSON header, tensor bytes back to back."""
    header: dict[str, object] = {"__metadata__": meta}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        raw = arr.tobytes()
        header[name] = {"dtype": dtypes[name], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def test_safetensors(tmp_path: Path) -> None:
    import hashlib

    w = np.array([[1, 2], [3, 4]], dtype=np.float32)
    b = np.array([5, 6], dtype=np.int64)
    # bfloat16 = the top half of float32: 1.0 and -2.0 exactly
    h = (np.array([1.0, -2.0], dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes({"w": w, "b": b, "h": h}, {"w": "F32", "b": "I64", "h": "BF16"},
                                       {"format": "pt"}))

    def d(a: np.ndarray) -> str:
        return hashlib.sha256(a.tobytes()).hexdigest()[:16]

    assert text(path) == (
        "format safetensors\n" + size(path) + "tensors 3\nparameters 8\nmetadata format pt\n"
        "tensor b I64 [2]\ntensor h BF16 [2]\ntensor w F32 [2, 2]\n"
        f"b min 5\nb max 6\nb mean 5.5\nb std 0.5\nb sha256 {d(b)}\n"
        f"h min -2.0\nh max 1.0\nh mean -0.5\nh std 1.5\nh sha256 {d(h)}\n"
        f"w min 1.0\nw max 4.0\nw mean 2.5\nw std 1.118034\nw sha256 {d(w)}\n"
    )


def png_bytes(width: int, height: int, color_type: int, bits: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, bits, color_type, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b""))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


def test_png(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "i.png"
    path.write_bytes(png_bytes(640, 480, 6))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert text(path) == f"format png\n{size(path)}width 640\nheight 480\nmode RGBA\nsha256 {sha}\n"


@pytest.mark.parametrize("fmt,mode,ext", [
    ("JPEG", "RGB", "jpg"), ("JPEG", "L", "jpg"), ("GIF", "P", "gif"), ("BMP", "RGB", "bmp"),
    ("WEBP", "RGB", "webp"), ("PNG", "LA", "png"),
])
def test_images_made_by_pillow(tmp_path: Path, fmt: str, mode: str, ext: str) -> None:
    """Our header parsers read what a real encoder writes (Pillow is only a test dependency)."""
    from PIL import Image

    path = tmp_path / f"i.{ext}"
    Image.new(mode, (37, 21)).save(path, fmt)
    lines = text(path).splitlines()
    assert lines[2:5] == ["width 37", "height 21", f"mode {mode}"]


def test_unknown_bytes_and_broken_files_fall_back_to_size_and_sha256(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "weights.bin"
    path.write_bytes(bytes(range(256)) * 10)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert text(path) == f"format binary\nsize 2560 (2.5 KiB)\nsha256 {sha}\n"
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    lines = text(bad).splitlines()
    assert lines[0] == "format binary" and lines[3].startswith("note not a readable parquet file: ")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    assert "note not a readable csv file: " in text(ragged)


def test_pointer_says_the_data_is_not_here(tmp_path: Path) -> None:
    oid = "ab" * 32
    path = tmp_path / "x.csv"
    path.write_text(f"version https://git-mlv.dev/spec/v1\noid sha256:{oid}\nsize 12345\n")
    assert text(path) == (f"format pointer\nsize 12345 (12.1 KiB)\nsha256 {oid}\n"
                          "note data not in the local pool: `git mlv pull` gets the checked-out files, "
                          "`git mlv fetch --all` every revision's\n")


def test_magic_wins_over_the_name(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    pq.write_table(TABLE, path)
    assert detect(str(path)).name == "parquet"
    assert detect(str(path), "x.csv").name == "parquet"


def test_string_values_are_escaped_once_as_json_would(tmp_path: Path) -> None:
    """A newline in a value prints as \\n inside the quotes (one level: a literal backslash-n prints
    as \\\\n, so the two can be told apart), and non-ASCII stays readable beside a control character."""
    path = tmp_path / "t.csv"
    path.write_bytes('id,t,u\n1,"multi\nline",back\\nslash\n2,"tab\there",x\n3,"é\x01x",x\n'.encode())
    out = text(path)
    assert 't top "multi\\nline" 1\n' in out
    assert 't top "tab\\there" 1\n' in out
    assert 't top "é\\u0001x" 1\n' in out
    assert 'u top "back\\\\nslash" 1\n' in out
    for line in out.splitlines():
        if " top " in line:  # each quoted value is a JSON string
            value = json.loads(line.split(" top ", 1)[1].rsplit(" ", 1)[0])
            assert value in ("multi\nline", "tab\there", "é\x01x", "back\\nslash", "x")
    from git_mlv.inspect.fmt import quoted
    from git_mlv.inspect.fmt import text as fmt_text

    # cut at 60 characters of the value, never inside an escape
    assert quoted("\n" * 70) == '"' + "\\n" * 60 + '..."'
    assert fmt_text("a\tb") == "a\\tb" and fmt_text("plain é") == "plain é"
    assert fmt_text("zero\u200bwidth") == "zero\\u200bwidth"


SEMI_CSV = "id;x;cat;ok\n1;0,5;a;true\n2;1,5;b;false\n3;;a;true\n4;3,0;;true\n"


def test_semicolon_csv_is_read_with_its_delimiter(tmp_path: Path) -> None:
    """European Excel writes ';' between fields (and ',' in decimals): sniffed from the head, so the
    columns are the real ones (decimal commas stay text: pyarrow has no decimal-comma parsing)."""
    path = tmp_path / "eu.csv"
    path.write_text(SEMI_CSV.replace("0,5", "0.5").replace("1,5", "1.5").replace("3,0", "3.0"))
    assert text(path) == "format csv\n" + size(path) + SCHEMA + 'delimiter ";"\n' + STATS
    gz = tmp_path / "eu.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert 'delimiter ";"\n' in text(gz) and "column x double\n" in text(gz)
    decimal_commas = tmp_path / "dc.csv"
    decimal_commas.write_text(SEMI_CSV)
    out = text(decimal_commas)
    assert "columns 4\n" in out and "column x string\n" in out and 'x top "0,5" 1\n' in out
    for sep, shown in (("\t", '"\\t"'), ("|", '"|"')):
        other = tmp_path / "o.csv"
        other.write_text(CSV.replace(",", sep))
        assert text(other) == "format csv\n" + size(other) + SCHEMA + f"delimiter {shown}\n" + STATS


def test_comma_csv_with_semicolons_in_its_text_stays_comma(tmp_path: Path) -> None:
    from git_mlv.inspect.dialect import sniff_delimiter

    path = tmp_path / "c.csv"
    path.write_text('id,note,v\n1,"a; b; c",2\n2,x;y,3\n3,"quoted, with; both",4\n4,plain,5\n')
    out = text(path)
    assert "columns 3\n" in out and "delimiter" not in out and "rows 4\n" in out
    assert sniff_delimiter(b"a;b;c\n1;2;3\n") == ";"
    assert sniff_delimiter(b"a,b;c\n1,2;3\n") == ","  # both consistent: the comma, as before
    assert sniff_delimiter(b"name;desc\n\"a, b\";x\n\"multi\nline, here\";y\n") == ";"
    assert sniff_delimiter(b"only\n1\n2\n") == ","
    assert sniff_delimiter(b"") == ","
    # a head cut inside a line: the partial last line is not counted
    assert sniff_delimiter(b"a;b\n1;2\n3;4\n5,6,7,8", complete=False) == ";"


def test_parquet_zero_bounds_have_no_sign(tmp_path: Path) -> None:
    """Parquet writers store a zero minimum as -0.0 (PARQUET-1222): a column of 0.0, 0.5, 1.0 read
    "min -0.0", which is not in the data."""
    path = tmp_path / "z.parquet"
    pq.write_table(pa.table({"v": pa.array([0.0, 0.5, 1.0]), "n": pa.array([-2.0, -1.0, 0.0])}), path)
    lines = text(path).splitlines()
    assert "v min 0.0" in lines and "v max 1.0" in lines
    assert "n min -2.0" in lines and "n max 0.0" in lines
    assert not any("-0.0" in line for line in lines)


def test_lines_longer_than_a_block_are_still_tables(tmp_path: Path) -> None:
    """A JSON Lines record holding a long text, a CSV row with a long value, a CSV header of many
    columns: each line longer than pyarrow's read block made the summary "format binary ... note
    not a readable csv file: straddling object straddles two block boundaries" (or "Empty CSV
    file or block", or the whole long value quoted in the note), for files both readers take."""
    from git_mlv.inspect import tables

    long = "x" * (3 * tables.BLOCK_SIZE)
    record = tmp_path / "long.jsonl"
    record.write_text(json.dumps({"id": 1, "v": long}) + "\n" + json.dumps({"id": 2, "v": "y"}) + "\n")
    out = text(record)
    assert out.startswith("format jsonl\n") and "rows 2\ncolumns 2\n" in out and "id max 2\n" in out
    row = tmp_path / "row.csv"
    row.write_text("a,b\n1,2\n3," + long + "\n4,5\n")
    out = text(row)
    assert out.startswith("format csv\n") and "rows 3\n" in out and "column b string\n" in out, out[:300]
    n = tables.BLOCK_SIZE // 200  # a header longer than a block: long names, not 131,072 columns
    names = [f"c{i}".ljust(250, "_") for i in range(n)]  # (those took ~20 s to summarise)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(names) + "\n" + ",".join("1" for _ in range(n)) + "\n")
    assert len(names[0]) * n > tables.BLOCK_SIZE
    out = text(wide)
    assert out.startswith("format csv\n") and f"rows 1\ncolumns {n}\ncolumn {names[0]} int64\n" in out, \
        out[:300]
    assert max(map(len, out.splitlines())) < 300  # long values are cut in a summary, never quoted whole
