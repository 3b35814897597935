"""Packs through real git: every `git add` starts a pack, consolidation keeps them few, `gc`
consolidates fully, a midx of an unknown version is refused in one line."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, sha256_file, write


def test_adds_consolidate_and_gc_consolidates_fully(repo: Path) -> None:
    git("config", "mlv.autoPacks", "2", cwd=repo)
    want = {}
    for i in range(6):  # six git adds: six packs without consolidation
        p = write(repo / "data" / f"f{i}.bin", random_bytes(4_000 + 1_000 * i, seed=i))
        want[p] = sha256_file(p)
        commit_all(repo, f"c{i}")
    packs = repo / ".git" / "mlv" / "packs"
    assert len(list(packs.glob("*.pack"))) <= 3
    assert (packs / "pool.midx").exists()
    res = json.loads(out(mlv("gc", "--json", cwd=repo)))
    assert res["packs_after"] == 1 == len(list(packs.glob("*.pack")))  # all of it fits one pack
    assert out(mlv("fsck", cwd=repo)).strip().endswith("pool is healthy")
    for p, digest in want.items():
        p.unlink()
        git("checkout", "--", str(p.relative_to(repo)), cwd=repo)
        assert sha256_file(p) == digest


def test_a_midx_of_an_unknown_version_is_refused(repo: Path) -> None:
    git("config", "mlv.autoPacks", "2", cwd=repo)
    for i in range(3):
        write(repo / "data" / f"f{i}.bin", random_bytes(3_000, seed=i))
        commit_all(repo, f"c{i}")
    midx = repo / ".git" / "mlv" / "packs" / "pool.midx"
    data = bytearray(midx.read_bytes())
    struct.pack_into("<I", data, 8, 99)
    midx.write_bytes(bytes(data))
    proc = mlv("fsck", cwd=repo, check=False)
    err = proc.stderr.decode().strip()
    assert proc.returncode != 0 and "version 99" in err and "upgrade git-mlv" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
