"""gc keeps the data of a commit git still holds though nothing names it: one made in a linked
worktree on a detached HEAD, the worktree then removed (`git worktree remove` deletes the only
reflog that named it; git keeps the commit until its gc.pruneExpire, two weeks). Before, gc dropped
its data and `git checkout SHA` gave pointer text."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def test_a_removed_worktrees_commit_keeps_its_data_until_git_would_prune_it(repo: Path,
                                                                           tmp_path: Path) -> None:
    write(repo / "base.bin", random_bytes(20_000, seed=1))
    commit_all(repo, "base")
    wt = tmp_path / "w"
    git("worktree", "add", "-q", "--detach", str(wt), cwd=repo)
    data = random_bytes(60_000, seed=2)
    write(wt / "model.bin", data)
    commit_all(wt, "made in the worktree")
    sha = git("rev-parse", "HEAD", cwd=wt).stdout.decode().strip()
    git("worktree", "remove", str(wt), cwd=repo)

    res = json.loads(out(mlv("gc", "--json", cwd=repo)))
    assert res["dead_objects"] == 0, res
    # the bytes as a checkout would write them (a checkout of SHA would add a reflog entry)
    assert git("cat-file", "--filters", f"{sha}:model.bin", cwd=repo).stdout == data
    # once git would prune the commit too (gc.pruneExpire=now, as `git gc --prune=now`), it goes
    res = json.loads(out(git("-c", "gc.pruneExpire=now", "mlv", "gc", "--json", cwd=repo)))
    assert res["dead_objects"] > 0 and res["freed_bytes"] > 40_000, res
    # and mlv.gcReflogDays=0 lets it go as it lets a reflog entry's data go
    git("worktree", "add", "-q", "--detach", str(wt), cwd=repo)
    write(wt / "again.bin", random_bytes(50_000, seed=4))
    commit_all(wt, "again")
    git("worktree", "remove", str(wt), cwd=repo)
    res = json.loads(out(git("-c", "mlv.gcReflogDays=0", "mlv", "gc", "--json", cwd=repo)))
    assert res["dead_objects"] > 0, res
