"""A data change `git diff` and `git log -p` must show (real git, textconv).

git diffs the two summaries textconv prints; when they are equal it prints nothing at all, not even
the file's header, while `git status` says modified and `git diff --stat` counts a changed line. A
table's summary is statistics: one value fixed in a Parquet file (inside its column's min and max:
the footer holds no more) or two CSV cells swapped leave every fact as it was, and the commit that
made the change showed an empty `git log -p` (found by helper Q: `git diff` printed 0 bytes after a
one-value fix of a Parquet file). A git-lfs user sees the oid move in that case.

Every summary now ends with the file's sha256 (ops/summarycache.py): a Parquet summary is read
from the footer alone, and a CSV summary's statistics do not move when two cells are swapped.
"""

from __future__ import annotations

import io
from pathlib import Path

from tests.helpers import commit_all, git, out, write


def _parquet(values: list[float]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    # plain, uncompressed doubles: a changed value keeps the file's size (the summary's size line)
    pq.write_table(pa.table({"id": list(range(len(values))), "v": values}), buf,
                   use_dictionary=False, compression="NONE")
    return buf.getvalue()


def test_one_value_fixed_in_a_parquet_file_shows_in_git_diff_and_log(repo: Path) -> None:
    values = [i / 100 for i in range(100)]
    write(repo / "data" / "t.parquet", _parquet(values))
    commit_all(repo, "v1")
    before = _parquet(values)
    values[10] = 0.5  # within the column's min and max: no footer statistic moves
    assert len(_parquet(values)) == len(before)
    write(repo / "data" / "t.parquet", _parquet(values))
    assert out(git("status", "--porcelain", cwd=repo)).strip() == "M data/t.parquet"
    assert "data/t.parquet" in out(git("diff", cwd=repo))
    commit_all(repo, "fix one value")
    assert "diff --git a/data/t.parquet" in out(git("log", "-p", "-1", cwd=repo))
    assert "data/t.parquet" in out(git("show", "HEAD", cwd=repo))


def test_two_csv_cells_swapped_show_in_git_diff(repo: Path) -> None:
    write(repo / "data" / "x.csv", b"id,label\n1,cat\n2,dog\n3,cat\n")
    commit_all(repo, "v1")
    write(repo / "data" / "x.csv", b"id,label\n1,dog\n2,cat\n3,cat\n")  # same statistics
    assert "data/x.csv" in out(git("diff", "HEAD", cwd=repo))
    commit_all(repo, "swap")
    assert "diff --git a/data/x.csv" in out(git("log", "-p", "-1", cwd=repo))
