"""A stash entry dropped by mistake (`git stash drop`, `git stash clear`) is still a commit git
holds until its own gc prunes it, and git-stash(1) tells how to get it back (`git fsck
--unreachable`, then `git stash apply SHA`). `git mlv gc`, default settings, deleted its data at
once: the recovered files stayed pointers, their data gone. gc now keeps the data of stash
entries dropped (committed) in the last mlv.gcReflogDays days, as it keeps a recent reflog
entry's; `git -c mlv.gcReflogDays=0 mlv gc` lets it go, and other unreachable commits (a branch
deleted, its reflog expired) still go as before (test_maintenance)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, write


def test_gc_keeps_the_data_of_a_dropped_stash_entry(repo: Path) -> None:
    write(repo / "a.bin", random_bytes(30_000, seed=1))
    commit_all(repo, "v1")
    stashed = {}
    for n, args in ((1, ()), (2, ("-m", "my message"))):  # "WIP on main: ..." and "On main: ..."
        stashed[n] = random_bytes(60_000 + n, seed=1 + n)
        write(repo / "a.bin", stashed[n])
        git("stash", "push", "-q", *args, cwd=repo)
    dropped = git("rev-parse", "stash@{0}", "stash@{1}", cwd=repo).stdout.decode().split()
    git("stash", "clear", cwd=repo)

    mlv("gc", cwd=repo)
    for sha, n in zip(dropped, (2, 1)):
        git("stash", "apply", "-q", sha, cwd=repo)
        assert (repo / "a.bin").read_bytes() == stashed[n]
        git("checkout", "-q", "--", "a.bin", cwd=repo)

    git("-c", "mlv.gcReflogDays=0", "mlv", "gc", cwd=repo)
    git("stash", "apply", "-q", dropped[0], cwd=repo)
    assert (repo / "a.bin").read_bytes().startswith(b"version ")
