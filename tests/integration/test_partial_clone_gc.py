"""`git mlv gc` in a partial clone (`git clone --filter=blob:none`): the walk of what to keep asked
git for the size of every pointer blob in history, and git fetched each one it did not have with
a `git fetch` of its own: one round trip to the git server per old version of a data file (25 for
30 versions here), and the history's pointers downloaded, which the user chose not to have. Those
blobs are now left out (their data cannot be here); what gc keeps and deletes is unchanged."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, random_bytes, write


def _missing(clone: Path) -> int:
    listing = git("rev-list", "--objects", "--all", "--missing=print", cwd=clone).stdout
    return sum(1 for line in listing.splitlines() if line.startswith(b"?"))


def _partial_clone(repo: Path, tmp_path: Path, commits: int, files: int, size: int) -> Path:
    """``commits`` commits cycling through ``files`` data files, pushed to a data remote and a
    bare origin that serves filters; a ``--filter=blob:none`` clone of it (old pointers not fetched)."""
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for i in range(commits):
        write(repo / "data" / f"f{i % files}.bin", random_bytes(size, seed=i))
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", f"c{i}", cwd=repo)
    mlv("push", "--all", cwd=repo)
    origin = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(repo), str(origin), cwd=tmp_path)
    git("config", "uploadpack.allowFilter", "true", cwd=origin)
    git("config", "uploadpack.allowAnySHA1InWant", "true", cwd=origin)
    clone = tmp_path / "clone"
    git("clone", "-q", "--filter=blob:none", f"file://{origin}", str(clone), cwd=tmp_path)
    return clone


def test_gc_in_a_partial_clone_fetches_no_old_pointers(repo: Path, tmp_path: Path) -> None:
    clone = _partial_clone(repo, tmp_path, commits=9, files=3, size=5_000)
    missing = _missing(clone)
    assert missing >= 6  # the old versions' pointers stayed on the server

    write(clone / "data" / "f0.bin", random_bytes(6_000, seed=99))  # a version made here
    git("commit", "-q", "-am", "here", cwd=clone)
    write(clone / "data" / "f0.bin", random_bytes(6_000, seed=98))
    git("commit", "-q", "-am", "here again", cwd=clone)  # the first is still in history
    assert "0 unreachable" in out(mlv("gc", cwd=clone))
    assert _missing(clone) == missing
    mlv("fsck", cwd=clone)
    git("checkout", "-q", "HEAD~1", cwd=clone)  # kept though HEAD moved on
    assert (clone / "data" / "f0.bin").read_bytes() == random_bytes(6_000, seed=99)
    git("checkout", "-q", "HEAD~3", cwd=clone)  # an old version: from the data remote
    assert (clone / "data" / "f0.bin").read_bytes() == random_bytes(5_000, seed=6)
    assert git("status", "--porcelain", cwd=clone).stdout == b""


def test_status_in_a_partial_clone_fetches_no_old_pointers(repo: Path, tmp_path: Path) -> None:
    """The first `git mlv status` walked the history for commits whose data is not on the remote,
    and git fetched every old pointer blob on the way, one `git fetch` each. Those are left out
    now (their data is not here to push); a version made here and not pushed is still named."""
    clone = _partial_clone(repo, tmp_path, commits=6, files=2, size=4_000)
    missing = _missing(clone)
    assert missing >= 4
    assert "Everything is in place and on remote 'store'" in out(mlv("status", cwd=clone))
    assert _missing(clone) == missing

    write(clone / "data" / "f0.bin", random_bytes(4_000, seed=77))
    git("commit", "-q", "-am", "made here", cwd=clone)
    text = out(mlv("status", cwd=clone))
    assert "Commits whose data is not all on remote 'store' (1 file(s);" in text and "made here" in text
    assert _missing(clone) == missing
    git("push", "-q", "origin", "main", cwd=clone)  # the push checks every pushed commit's data
    assert "Everything is in place and on remote 'store'" in out(mlv("status", cwd=clone))
