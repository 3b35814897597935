"""A long history of small commits, each `git add`-ed and pushed: packs and remote indexes stay few."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, random_bytes, sha256_file, write
from tests.remotes.test_faults import midx_pack_names


@pytest.mark.slow
def test_small_commits_each_pushed_leave_few_packs_and_indexes(repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("config", "mlv.autoPacks", "2", cwd=repo)  # 8 rounds run the consolidations of ~32 with 8
    want = {}
    for i in range(8):
        p = write(repo / "data" / f"d{i % 3}" / f"f{i}.bin", random_bytes(5_000 + 3_000 * i, seed=i))
        want[str(p.relative_to(repo))] = sha256_file(p)
        git("add", "-A", cwd=repo)  # one filter process, one pack
        git("commit", "-q", "-m", f"c{i}", cwd=repo)
        git("push", "-q", "origin", "main", cwd=repo)  # one remote index
    local = list((repo / ".git" / "mlv" / "packs").glob("*.pack"))
    remote = [p.name for p in (tmp_path / "store" / "packs").iterdir()]
    assert len(local) <= 4, len(local)
    named = {n[:-4] for n in remote if n.endswith(".idx")}
    store = tmp_path / "store" / "packs"
    named |= {p for n in remote if n.endswith(".midx") for p in midx_pack_names(store / n)}
    assert len([n for n in remote if n.endswith(".pack") and n[:-5] in named]) <= 3  # merged (8 pushed)
    assert len([n for n in remote if n.endswith((".idx", ".midx"))]) <= 4, remote
    assert out(mlv("fsck", cwd=repo)).strip().endswith("pool is healthy")
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert {p: sha256_file(clone / p) for p in want} == want
    assert out(git("status", "--porcelain", cwd=clone)) == ""
