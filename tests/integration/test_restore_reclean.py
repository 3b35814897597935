"""`git mlv checkout` / `git mlv pull` write files from the pool, then have git record their stat
with `git update-index`, which sends each file through clean. A big one was cleaned anew (the
400 MB model: as long as the restore itself); that command now runs with MLV_RESTORED=1, and the
filter verifies the file against its entry's pointer instead (docs/formats.md#racy-clean).
Which answer the filter gave is read from MLV_CLEAN_TRACE, as in test_racy_clean.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TEST_CONFIG
from tests.helpers import clean_trace, commit_all, git, mlv, out, pool_size, random_bytes, write

PATH = "data/big.bin"
# 34 of the suite's largest chunks: above the verified answer's threshold (ops/racyclean.py)
SIZE = 34 * int(TEST_CONFIG["mlv.chunkMax"])


def test_restored_big_file_is_verified_not_cleaned_again(repo: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data, small = random_bytes(SIZE, seed=21), random_bytes(3_000, seed=22)
    write(repo / PATH, data)
    write(repo / "data" / "small.bin", small)
    commit_all(repo, "one")
    blob = out(git("ls-files", "-s", PATH, cwd=repo)).split()[1]
    # both files left as their pointers, as a clone that skipped the data has them
    for p in (PATH, "data/small.bin"):
        (repo / p).write_bytes(git("cat-file", "blob", f"HEAD:{p}", cwd=repo).stdout)
    size = pool_size(repo)
    trace = tmp_path / "clean-trace"
    monkeypatch.setenv("MLV_CLEAN_TRACE", str(trace))
    mlv("checkout", cwd=repo)
    assert (repo / PATH).read_bytes() == data and (repo / "data" / "small.bin").read_bytes() == small
    # verified (git may ask twice: a racily clean entry is checked again as the index is written);
    # before, no check ran at all and the file was cut, hashed and looked up anew. The small file
    # is below the check's threshold.
    assert set(clean_trace(trace)) == {f"verified\t{PATH}"}
    # git recorded the restored files' stat: nothing to show, nothing new stored
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    assert out(git("diff", "--stat", cwd=repo)) == ""
    assert out(git("ls-files", "-s", PATH, cwd=repo)).split()[1] == blob and pool_size(repo) == size


def test_a_changed_file_under_mlv_restored_is_still_cleaned_as_it_is(repo: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """MLV_RESTORED only chooses what to compare against: set by hand, with a file changed in its
    middle (same size), the new bytes are committed, not the old pointer."""
    data = random_bytes(SIZE, seed=23)
    write(repo / PATH, data)
    commit_all(repo, "one")
    changed = bytearray(data)
    changed[SIZE // 2] ^= 0x01
    write(repo / PATH, bytes(changed))
    trace = tmp_path / "clean-trace"
    monkeypatch.setenv("MLV_CLEAN_TRACE", str(trace))
    monkeypatch.setenv("MLV_RESTORED", "1")
    commit_all(repo, "two")
    assert f"differs\t{PATH}" in clean_trace(trace)
    monkeypatch.delenv("MLV_RESTORED")
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    (repo / PATH).unlink()
    git("checkout", "HEAD~1", "--", PATH, cwd=repo)
    assert (repo / PATH).read_bytes() == data
    git("checkout", "HEAD", "--", PATH, cwd=repo)
    assert (repo / PATH).read_bytes() == bytes(changed)
