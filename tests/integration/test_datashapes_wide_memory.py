"""`git mlv diff --key` of a wide table (real git). Each side's rows were buffered 64Ki rows at a
time before partitioning, whatever a row's width: 64Ki rows of 11 columns are ~6 MB in Arrow form,
of 1,000 columns ~500 MB a side, and the buffer is copied twice on the way to the spill files.
An 83 MB CSV of 1,000 columns (30,000 rows, one row changed) peaked at 1.4 GB RSS; 0.4 GB now
that the buffer is also flushed at 16 MiB. Here 500 columns of 16,000 rows, 64 MB a side: 554 MB
before, 290 MB."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.helpers import commit_all, run

COLS, ROWS = 500, 16_000


def _wide(changed: int | None) -> bytes:
    # seven-digit values: about as many bytes in the CSV as in Arrow form (int64), 64 MB a side
    base = ",".join(str(1_000_000 + i) for i in range(COLS))
    other = base.replace("1000003", "4200003", 1)
    lines = [",".join(["id"] + [f"c{i}" for i in range(COLS)])]
    lines += [f"{r},{other if r == changed else base}" for r in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def _peak(repo: Path) -> tuple[str, float]:
    """`git mlv diff HEAD~1 HEAD --key id`: (its output, its peak RSS in MB)."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
             "sys.stdout.write(p.stdout.decode() + p.stderr.decode())\n"
             "print('maxrss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "sys.exit(p.returncode)\n")
    git_mlv = os.path.join(os.path.dirname(sys.executable), "git-mlv")
    res = run([sys.executable, "-c", probe, git_mlv, "diff", "HEAD~1", "HEAD", "--key", "id"], cwd=repo)
    text = res.stdout.decode()
    return text, int(text.rsplit("maxrss ", 1)[1]) / 1024


def test_a_wide_table_is_partitioned_in_bounded_memory(repo: Path) -> None:
    (repo / "data").mkdir()
    (repo / "data" / "wide.csv").write_bytes(_wide(None))
    commit_all(repo, "v1")
    (repo / "data" / "wide.csv").write_bytes(_wide(7))
    commit_all(repo, "v2")
    text, rss_mb = _peak(repo)
    assert "data/wide.csv by id: 0 added, 0 removed, 1 changed, 15999 unchanged" in text
    assert "changed  id=7: c3 1000003 -> 4200003" in text
    assert rss_mb <= 400, f"peak RSS {rss_mb:.0f} MB"


def _one_digit(changed: int | None) -> bytes:
    # one-digit values: 2 bytes a value in the CSV, 8 as int64: 16 MB a side on disk, 64 MB in Arrow
    base = ",".join(str(i % 10) for i in range(COLS))
    other = "7" + base[1:]
    lines = [",".join(["id"] + [f"c{i}" for i in range(COLS)])]
    lines += [f"{r},{other if r == changed else base}" for r in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def test_a_table_bigger_in_arrow_than_on_disk_is_joined_in_bounded_memory(repo: Path) -> None:
    """Partitions are counted from the file's size: this one's 16 MB made one partition of 64 MB a
    side in Arrow form, and its join (sorted copies, filtered copies) peaked at 500 MB RSS. A
    partition bigger than planned is now split again before its join: 306 MB (280 of it the
    streaming phase: two readers and their buffers)."""
    (repo / "data").mkdir()
    (repo / "data" / "wide.csv").write_bytes(_one_digit(None))
    commit_all(repo, "v1")
    (repo / "data" / "wide.csv").write_bytes(_one_digit(7))
    commit_all(repo, "v2")
    text, rss_mb = _peak(repo)
    assert "data/wide.csv by id: 0 added, 0 removed, 1 changed, 15999 unchanged" in text
    assert "changed  id=7: c0 0 -> 7" in text
    assert rss_mb <= 400, f"peak RSS {rss_mb:.0f} MB"


def test_a_wide_parquet_file_is_read_in_bounded_batches(repo: Path) -> None:
    """A Parquet file was read 64 Ki rows a batch whatever its width, and a batch went whole through
    the partitioner's copies: 40,000 rows of 500 one-digit int64 columns, 0.4 MB on disk and 160 MB
    in Arrow form, peaked at 1.2 GB a diff. Batches are now ~8 MiB (scan.batch_rows) and a big one is
    partitioned a slice at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 40_000
    table = pa.table({"id": np.arange(rows), **{f"c{i}": np.full(rows, i % 10) for i in range(COLS)}})
    (repo / "data").mkdir()
    pq.write_table(table, repo / "data" / "wide.parquet")
    commit_all(repo, "v1")
    changed = np.zeros(rows, dtype=np.int64)
    changed[7] = 7
    pq.write_table(table.set_column(1, "c0", pa.array(changed)), repo / "data" / "wide.parquet")
    commit_all(repo, "v2")
    text, rss_mb = _peak(repo)
    assert "data/wide.parquet by id: 0 added, 0 removed, 1 changed, 39999 unchanged" in text
    assert "changed  id=7: c0 0 -> 7" in text
    assert rss_mb <= 400, f"peak RSS {rss_mb:.0f} MB"
