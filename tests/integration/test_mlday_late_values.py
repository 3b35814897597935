"""A CSV column empty all through the first block (512 KiB) and numeric later, as a sparse
feature or a score filled in for recent rows: pyarrow types it null, the first value widened it
straight to string, and the summary gave `distinct`/`top` text facts instead of min/max/mean."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import mlv, out, write


def test_a_column_empty_in_the_first_block_is_numeric_when_its_values_are(repo: Path) -> None:
    rows = "".join(f"{i},,\n" for i in range(200_000))
    write(repo / "data" / "late.csv", f"id,score,label\n{rows}200000,0.5,cat\n200001,2,dog\n".encode())
    text = out(mlv("textconv", "data/late.csv", cwd=repo))
    assert "\ncolumn score double\ncolumn label string\n" in text, text
    assert "\nscore min 0.5\nscore max 2.0\nscore mean 1.25\n" in text
    rows = "".join(f"{i},\n" for i in range(200_000))
    write(repo / "data" / "late.csv", f"id,score\n{rows}200000,7\n".encode())
    text = out(mlv("textconv", "data/late.csv", cwd=repo))
    assert "\ncolumn score int64\n" in text and "\nscore max 7\n" in text, text
