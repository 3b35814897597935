"""A Parquet, npy, npz or safetensors file cut short (a write killed half way) or not of its kind
at all lacks its magic bytes, and was summarised as a bare `format binary`: `git diff` gave no
hint that the file named as a table or tensors could not be read. The name now routes it to its
reader, whose refusal is the summary's `note` (docs/inspect.md: "summarised as bytes with a note
saying why")."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tests.helpers import commit_all, git, mlv, out, write


def _parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(100)), "x": [i / 3 for i in range(100)]}), buf)
    return buf.getvalue()


def _npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.arange(100.0))
    return buf.getvalue()


def _safetensors() -> bytes:
    header = b'{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}'
    return struct.pack("<Q", len(header)) + header + np.ones(4, np.float32).tobytes()


def test_cut_short_files_say_why_they_are_not_read(repo: Path) -> None:
    whole = {"t.parquet": _parquet(), "a.npy": _npy(), "m.safetensors": _safetensors()}
    for name, data in whole.items():
        write(repo / "data" / name, data)
    commit_all(repo, "v1")
    kinds = {}
    for name, data in whole.items():
        write(repo / "data" / name, data[:5] if name != "t.parquet" else data[:-10])
        text = out(mlv("textconv", f"data/{name}", cwd=repo))
        kinds[name] = text.splitlines()[0]
        assert text.startswith("format binary\n"), text
        assert f"\nnote not a readable {name.split('.')[1]} file: " in text, text
    diff = out(git("diff", "--", "data/t.parquet", cwd=repo))
    assert "\n-format parquet\n" in diff and "\n+note not a readable parquet file: " in diff
    # a file of another kind with such a name says so as well
    write(repo / "data" / "a.npy", b"id,x\n1,2\n")
    assert "\nnote not a readable npy file: " in out(mlv("textconv", "data/a.npy", cwd=repo))
    # magic still wins over the name
    write(repo / "data" / "a.npy", _parquet())
    assert out(mlv("textconv", "data/a.npy", cwd=repo)).startswith("format parquet\n")
