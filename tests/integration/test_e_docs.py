"""What docs/ state, tried as a new user reads it (helper E). Strict xfails are defects of the code
against a deliberate statement of the docs, left for the lead with the fix proposed."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import mlv, out, write


def test_a_repeated_column_name_keeps_its_own_type(repo: Path) -> None:
    """docs/inspect.md: a CSV's summary has `column NAME TYPE` per column, a name the header
    repeats made unique (`x.1`), and numbers get min/max/mean. A spreadsheet export headed `x,x`
    with text in the first and integers in the second summarised both as `string` (pyarrow alone
    reads the second as int64), so `git diff` showed `x.1 top "2"` instead of its min and max."""
    path = write(repo / "mixed.csv", b"x,x\nfoo,2\nbar,3\n")
    lines = out(mlv("textconv", str(path), cwd=repo)).splitlines()
    assert [x for x in lines if x.startswith("column ")] == ["column x string", "column x.1 int64"]
    assert "x.1 min 2" in lines and "x.1 max 3" in lines
