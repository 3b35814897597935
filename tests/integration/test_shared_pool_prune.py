"""`git mlv prune` on a pool shared by clones keeps what every clone needs.

Before, prune refused in a clone with `mlv.pool`, and in the repository whose own `.git/mlv` another
clone's `mlv.pool` names (it has no mlv.pool of its own) it deleted what that clone's checkout
needed: the data was on the remote, so nothing was lost for good, but the other clone's files went
from its pool without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, origin_and_store, out, random_bytes, write

V1, V2 = random_bytes(60_000, seed=11), random_bytes(60_000, seed=12)


def _present(repo: Path) -> dict[str, bool]:
    return {f["path"]: f["present"] for f in json.loads(mlv("ls-files", "--json", cwd=repo).stdout)}


def _present_at(repo: Path, rev: str) -> dict[str, bool]:
    return {f["path"]: f["present"] for f in json.loads(mlv("ls-files", rev, "--json", cwd=repo).stdout)}


@pytest.mark.parametrize("shared_by", ["owner", "mlv.pool"])
def test_prune_keeps_the_checkout_of_another_clone(repo: Path, tmp_path: Path, shared_by: str) -> None:
    origin = origin_and_store(repo, tmp_path)
    write(repo / "model.bin", V1)
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    write(repo / "model.bin", V2)
    commit_all(repo, "v2")
    git("push", "-q", "origin", "main", "v1", cwd=repo)  # every version on the data remote
    other = tmp_path / "other"
    git("clone", "-q", str(origin), str(other), cwd=tmp_path)
    if shared_by == "owner":  # other's mlv.pool names repo's own .git/mlv
        pool = repo / ".git" / "mlv"
        git("config", "mlv.pool", str(pool), cwd=other)
        pruner = repo
    else:  # both name a pool of their own
        pool = tmp_path / "pool"
        for r in (repo, other):
            git("config", "mlv.pool", str(pool), cwd=r)
        mlv("pull", cwd=repo)
        pruner = repo
    git("checkout", "-q", "v1", cwd=other)  # other works on v1
    mlv("pull", cwd=other)
    assert (other / "model.bin").read_bytes() == V1 and _present(other)["model.bin"]

    text = out(mlv("prune", "--keep-days", "0", cwd=pruner))
    assert "Kept what 1 other clone(s) sharing the pool need" in text, text
    assert _present(other)["model.bin"], text  # v1 stays: other's HEAD needs it
    (other / "model.bin").unlink()
    git("checkout", "--", "model.bin", cwd=other)
    assert (other / "model.bin").read_bytes() == V1

    git("checkout", "-q", "main", cwd=other)  # nobody needs v1 now (other keeps recent refs'
    git("config", "mlv.pruneKeepDays", "0", cwd=other)  # files 7 days by its own setting): it goes
    text = out(mlv("prune", "--keep-days", "0", cwd=pruner))
    assert "Deleted 1 file version(s)" in text, text
    assert _present(other)["model.bin"]  # v2, main's
    assert not _present_at(other, "v1")["model.bin"]
    git("checkout", "-q", "v1", cwd=other)  # and comes back from the remote
    assert (other / "model.bin").read_bytes() == V1
