"""`git mlv remote remove` of a clone's only data remote, then `remote add` of the same name.

Regression: with no remote left in `.gitmlv`, the fallback for commits that name none (the
`.gitmlv` of origin/HEAD) took the removed remote back: `remote list` still showed it, `git push`
uploaded to it (and trusted it again), and `remote add NAME URL` said "data remote 'NAME' already
exists". `remote remove` now records the removal in .git/config (mlv.removedRemote), which
that fallback respects and `remote add` clears.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, sha256_file, write


def _names(clone: Path) -> list[str]:
    return sorted(r["name"] for r in json.loads(mlv("remote", "list", "--json", cwd=clone).stdout))


def test_remove_then_add_the_same_name_elsewhere(repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "box", str(tmp_path / "old"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, seed=5))
    commit_all(repo, "one")
    git("push", "-q", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert _names(clone) == ["box"]

    mlv("remote", "remove", "box", cwd=clone)
    assert _names(clone) == []
    proc = mlv("push", cwd=clone, check=False)
    assert proc.returncode != 0 and "no default data remote" in proc.stderr.decode(), proc

    new = tmp_path / "new"
    mlv("remote", "add", "box", str(new), "--default", cwd=clone)
    assert _names(clone) == ["box"]
    commit_all(clone, "data remote moved")
    git("push", "-q", "origin", "main", cwd=clone)  # the pre-push hook sends the data to the new place
    old_packs = sorted(p.name for p in (tmp_path / "old" / "packs").iterdir())
    assert any(p.name.endswith(".idx") or p.name.endswith(".midx") for p in (new / "packs").iterdir())

    # a clone of the new commit reads from the new place; the old place got nothing more
    other = tmp_path / "other"
    git("clone", "-q", str(origin), str(other), cwd=tmp_path)
    assert sha256_file(other / "a.bin") == sha256_file(repo / "a.bin")
    assert sorted(p.name for p in (tmp_path / "old" / "packs").iterdir()) == old_packs
    assert "remote = box" in (other / ".gitmlv").read_text()


def test_a_removed_remote_stays_removed_after_commit_and_push(repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "box", str(tmp_path / "old"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, seed=6))
    commit_all(repo, "one")
    git("push", "-q", "origin", "main", cwd=repo)
    mlv("remote", "remove", "box", cwd=repo)
    assert _names(repo) == []
    commit_all(repo, "no data remote any more")
    git("-c", "mlv.pushFailOk=true", "push", "-q", "origin", "main", cwd=repo)
    assert _names(repo) == []  # the push did not bring it back
