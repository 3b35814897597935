"""Sparse checkouts (issue 8): files outside the sparse checkout (skip-worktree) are never written,
never get their bit cleared, never have their data fetched, and status does not call them missing.

Real ``git sparse-checkout`` in cone mode (with and without a sparse index) and non-cone mode, in
a full clone narrowed afterwards, through checkouts, ``git pull`` and ``git mlv pull``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, out, random_bytes, sha256_file, write

MODES = {
    "cone": ["set", "--cone", "a"],
    "cone-sparse-index": ["set", "--cone", "--sparse-index", "a"],
    "no-cone": ["set", "--no-cone", "/a/*", "/top.bin", "/.gitattributes", "/.gitmlv"],
}


def hashes(root: Path, sub: str) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in (root / sub).rglob("*") if p.is_file()}


def skip_bits(root: Path) -> dict[str, bool]:
    """Path -> skip-worktree bit of every file of the index (a sparse index expanded)."""
    raw = out(git("ls-files", "-t", cwd=root))
    return {line[2:]: line[0] == "S" for line in raw.splitlines()}


def present(root: Path) -> dict[str, bool]:
    """Path -> data in the local pool, for the index's tracked files."""
    return {f["path"]: f["present"] for f in json.loads(out(mlv("ls-files", "--json", cwd=root)))}


@pytest.fixture
def setup(repo: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(the author's repo, a full clone of it) with data under a/ and b/ and one file at the top."""
    for d in ("a", "b"):
        for i in range(6):
            write(repo / d / f"f{i}.bin", random_bytes(3000 + i, seed=ord(d) * 100 + i))
    write(repo / "top.bin", random_bytes(2000, seed=77))
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    commit_all(repo, "v1")
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    git("push", "-q", "-u", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    return repo, clone


def commit_v2(repo: Path) -> None:
    """Change files inside (a/) and outside (b/) the sparse checkout, add one in each; push."""
    write(repo / "a" / "f0.bin", random_bytes(4000, seed=100))
    write(repo / "a" / "new.bin", random_bytes(4100, seed=101))
    write(repo / "b" / "f0.bin", random_bytes(4200, seed=102))
    write(repo / "b" / "new.bin", random_bytes(4300, seed=103))
    commit_all(repo, "v2")
    git("push", "-q", "origin", "main", cwd=repo)  # the pre-push hook uploads the data


def assert_sparse_kept(clone: Path, want_a: dict[str, str]) -> None:
    assert not (clone / "b").exists(), "a file outside the sparse checkout was written"
    bits = skip_bits(clone)
    assert bits and all(bits[p] for p in bits if p.startswith("b/")), bits
    assert not any(bits[p] for p in bits if p.startswith("a/")), bits
    assert hashes(clone, "a") == want_a
    assert git("status", "--porcelain", cwd=clone).stdout == b""
    st = out(mlv("status", cwd=clone))
    assert "b/" not in st, st
    assert "outside the sparse checkout" in st


@pytest.mark.parametrize("mode", MODES)
def test_sparse_checkout_is_respected(setup: tuple[Path, Path], mode: str) -> None:
    repo, clone = setup
    git("sparse-checkout", *MODES[mode], cwd=clone)
    v1_a = hashes(repo, "a")
    assert_sparse_kept(clone, v1_a)
    commit_v2(repo)
    v2_a = hashes(repo, "a")
    git("pull", "-q", "--ff-only", cwd=clone)  # post-merge
    assert_sparse_kept(clone, v2_a)
    here = present(clone)
    assert here["a/f0.bin"] and here["a/new.bin"]
    assert not here["b/f0.bin"] and not here["b/new.bin"], "data outside the sparse checkout was fetched"
    git("checkout", "-q", "HEAD~1", cwd=clone)  # post-checkout, both ways
    assert_sparse_kept(clone, v1_a)
    git("checkout", "-q", "main", cwd=clone)
    assert_sparse_kept(clone, v2_a)
    mlv("pull", cwd=clone)
    mlv("checkout", cwd=clone)
    assert_sparse_kept(clone, v2_a)
    assert not present(clone)["b/new.bin"]


def test_widening_the_sparse_checkout_brings_the_data(setup: tuple[Path, Path]) -> None:
    repo, clone = setup
    git("sparse-checkout", "set", "a", cwd=clone)
    commit_v2(repo)
    git("pull", "-q", "--ff-only", cwd=clone)
    git("sparse-checkout", "set", "a", "b", cwd=clone)  # git writes b/ through the filter, which fetches
    assert hashes(clone, "b") == hashes(repo, "b")
    assert git("status", "--porcelain", cwd=clone).stdout == b""
    assert "outside the sparse checkout" not in out(mlv("status", cwd=clone))
