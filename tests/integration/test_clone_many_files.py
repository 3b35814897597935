"""A clone of many files fetched during checkout (git's delay) lands every byte.

Regression: the filter re-reads the pool on every miss while the background fetch writes packs; a
pack caught between its creation and its lock was once taken for a crash's leftover and deleted,
leaving hundreds of files as pointers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, sha256_file, write


@pytest.mark.slow
def test_clone_of_many_files_gets_every_byte(repo: Path, tmp_path: Path) -> None:
    want = {}
    git("config", "mlv.packSize", "4m", cwd=repo)  # the fetch writes many packs: many to race with
    for i in range(1200):
        p = write(repo / "data" / f"f{i:04d}.bin", random_bytes(20000 + 7 * i, seed=5000 + i))
        want[p.name] = sha256_file(p)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    commit_all(repo, "many")
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "main", cwd=repo)
    for n in range(2):
        clone = tmp_path / f"clone{n}"
        proc = git("clone", "-q", "--config", "mlv.packSize=4m", str(origin), str(clone), cwd=tmp_path)
        assert b"not here" not in proc.stderr, proc.stderr.decode()[-500:]
        got = {p.name: sha256_file(p) for p in (clone / "data").iterdir()}
        assert got == want
        assert git("status", "--porcelain", cwd=clone).stdout == b""
        # one pack per mlv.packSize (~29 MB of data here: 8 packs of 4 MiB), not one per batch
        packs = list((clone / ".git" / "mlv" / "packs").glob("*.pack"))
        assert len(packs) <= 10, len(packs)
