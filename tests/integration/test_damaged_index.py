"""A truncated `.git/index` (a copy cut short, a disk that filled while git wrote it elsewhere, a
crash on a file system without ordered writes): git reads an index without checking its checksum
(only `git fsck` does) and takes the zeros past the cut for entries, so `git mlv status` said
"Everything is in place" (exit 0) and `ls-files` listed what was left. Now status, ls-files and
checkout say in one line that the index is damaged and how to rebuild it, with git's exit code
for a fatal error (128), as `git status` does for an index shorter than its header.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, one_error_line, out, random_bytes, write


@pytest.mark.parametrize("keep", [0.0, 0.5, "last"], ids=["empty", "half", "one-byte-short"])
def test_a_truncated_index_is_named_not_taken_for_a_clean_worktree(repo: Path, keep: float | str) -> None:
    for i in range(6):
        write(repo / "data" / f"f{i}.bin", random_bytes(2_000, seed=i))
    commit_all(repo, "data")
    assert "Everything is in place" in out(mlv("status", cwd=repo))  # records HEAD as complete
    index = repo / ".git" / "index"
    raw = index.read_bytes()
    index.write_bytes(raw[:len(raw) - 1] if keep == "last" else raw[:int(len(raw) * float(keep))])

    for verb in ("status", "ls-files", "checkout"):
        err = one_error_line(mlv(verb, cwd=repo, check=False), 128)
        assert f"{index}: index file " in err, err
        assert ("smaller than expected" if keep == 0.0 else "corrupt") in err, err
        assert "&& git reset` rebuilds it from HEAD" in err, err

    # what the line says to do
    index.unlink()
    git("reset", "-q", cwd=repo)
    assert "6 file(s) tracked by git-mlv\nEverything is in place" in out(mlv("status", cwd=repo))
    assert len(out(mlv("ls-files", cwd=repo)).splitlines()) == 6
