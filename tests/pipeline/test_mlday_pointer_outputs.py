"""A clone that has not pulled the data holds pointers. The docs say a file still in pointer form
counts as its data, but a directory's listing took each pointer file's size on disk (~130 bytes)
instead of its data's, so its oid never matched the lock: `repro` in a fresh clone reran (and,
with no data to read, failed) every stage that reads or writes a folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out

GEN = ("python -c \"import pathlib; d = pathlib.Path('feats'); d.mkdir(); "
       "[(d / f'{i}.bin').write_bytes(bytes([i]) * (1000 + i)) for i in range(5)]\"")
USE = "python -c \"import os; open('count.dat', 'w').write(str(len(os.listdir('feats'))))\""


def test_repro_in_a_clone_without_the_data_is_up_to_date(repo: Path, tmp_path: Path) -> None:
    mlv("run", "-n", "gen", "-o", "feats", GEN, cwd=repo)
    mlv("run", "-n", "use", "-d", "feats", "-o", "count.dat", USE, cwd=repo)
    commit_all(repo, "v1")
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)  # no data remote: pointers stay
    assert (clone / "feats" / "0.bin").read_bytes().startswith(b"version https://git-mlv.dev/spec/v1\n")
    text = out(mlv("repro", "--dry-run", cwd=clone))
    assert "Would run" not in text and "Stage 'gen' is up to date" in text, text
    assert "Stage 'use' is up to date" in text
    # and the real thing: nothing runs (feats holds pointers: gen's command would fail on them)
    assert "Everything is up to date." in out(mlv("repro", cwd=clone))
    assert git("status", "--porcelain", cwd=clone).stdout == b""
    # from the stat cache too: entries are trusted once the files are older than the racy window
    old = time.time() - 60
    for f in (clone / "feats").iterdir():
        os.utime(f, (old, old))
    for _ in range(2):  # the first fills the cache, the second reads it
        assert "Everything is up to date." in out(mlv("repro", cwd=clone))
