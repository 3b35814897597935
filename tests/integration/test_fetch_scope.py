"""mlv.fetchInclude / mlv.fetchExclude with clone, checkout, fetch, pull and status (docs/fetch-scope.md).

Out-of-scope files whose data is not here stay pointers without a warning per file; data already
here is written whatever the scope; `git mlv status` counts the pointers left out on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import commit_all, git, mlv, out, random_bytes, sha256_file, write

FILES = {
    "data/train/a.bin": 1, "data/train/sub/b.bin": 2, "data/val/c.bin": 3, "models/last.ckpt": 4,
}


def is_pointer(path: Path) -> bool:
    return Pointer.try_parse(path.read_bytes()) is not None


@pytest.fixture
def origin(repo: Path, tmp_path: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """A pushed history: v1 (every file), v2 (train/a and val/c changed); the hashes of each."""
    mlv("track", "*.ckpt", cwd=repo)
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    states = {}
    for version, changed in (("v1", list(FILES)), ("v2", ["data/train/a.bin", "data/val/c.bin"])):
        for path in changed:
            write(repo / path, random_bytes(20_000 + FILES[path], seed=FILES[path] + 10 * len(states)))
        commit_all(repo, version)
        git("tag", version, cwd=repo)
        states[version] = {p: sha256_file(repo / p) for p in FILES}
    git("push", "-q", "origin", "main", "v1", "v2", cwd=repo)  # the pre-push hook sends the data
    return bare, states


def test_clone_with_scope_then_pull_widens_it(origin: tuple[Path, dict], tmp_path: Path) -> None:
    bare, states = origin
    clone = tmp_path / "clone"
    proc = git("-c", "mlv.fetchInclude=data/train", "-c", "mlv.fetchExclude=*.ckpt", "clone", "-q",
               str(bare), str(clone), cwd=tmp_path)
    assert b"is not here" not in proc.stderr and b"left as pointers" not in proc.stderr, proc.stderr
    for p in ("data/train/a.bin", "data/train/sub/b.bin"):
        assert sha256_file(clone / p) == states["v2"][p]
    assert is_pointer(clone / "data/val/c.bin") and is_pointer(clone / "models/last.ckpt")
    assert git("status", "--porcelain", cwd=clone).stdout == b""

    # `git -c` lasted for the clone only: status sees no scope, so the two pointers are missing data
    st = json.loads(out(mlv("status", "--json", "--no-remote", cwd=clone)))
    assert sorted(st["missing_data"]) == ["data/val/c.bin", "models/last.ckpt"]
    git("config", "mlv.fetchExclude", "*.ckpt", cwd=clone)
    st = json.loads(out(mlv("status", "--json", "--no-remote", cwd=clone)))
    assert st["missing_data"] == ["data/val/c.bin"] and st["out_of_scope"] == 1
    text = out(mlv("status", "--no-remote", cwd=clone))
    assert "1 file(s) left as pointers, out of the fetch scope" in text

    res = json.loads(out(mlv("pull", "--json", cwd=clone)))  # val comes, the checkpoint does not
    assert res["fetch"]["out_of_scope"] == 1 and res["missing"] == []
    assert sha256_file(clone / "data/val/c.bin") == states["v2"]["data/val/c.bin"]
    assert is_pointer(clone / "models/last.ckpt")

    mlv("pull", "-X", "", cwd=clone)  # -X "" clears mlv.fetchExclude for this command
    assert {p: sha256_file(clone / p) for p in FILES} == states["v2"]
    assert json.loads(out(mlv("status", "--json", "--no-remote", cwd=clone)))["out_of_scope"] == 0


@pytest.mark.slow
def test_checkout_across_commits_keeps_the_scope(origin: tuple[Path, dict], tmp_path: Path) -> None:
    bare, states = origin
    clone = tmp_path / "clone"
    git("clone", "-q", str(bare), str(clone), cwd=tmp_path)  # everything of v2 is here
    git("config", "mlv.fetchExclude", "data/val", cwd=clone)
    proc = git("checkout", "-q", "v1", cwd=clone)
    assert b"is not here" not in proc.stderr, proc.stderr
    # train/a's v1 version came from the remote; val/c's did not (out of scope, not here)
    assert sha256_file(clone / "data/train/a.bin") == states["v1"]["data/train/a.bin"]
    assert is_pointer(clone / "data/val/c.bin")
    assert json.loads(out(mlv("status", "--json", "--no-remote", cwd=clone)))["out_of_scope"] == 1
    git("checkout", "-q", "v2", cwd=clone)  # val/c's v2 data is here: written, scope or not
    assert {p: sha256_file(clone / p) for p in FILES} == states["v2"]

    # the clone recorded v2 complete (docs/formats.md#complete): without the record, every file
    # of v1 is looked at, which the counts below are about
    (clone / ".git" / "mlv" / "complete").unlink()
    res = json.loads(out(mlv("fetch", "--json", "v1", cwd=clone)))  # fetch obeys the config too
    assert res["out_of_scope"] == 1 and res["files"] == 3
    res = json.loads(out(mlv("fetch", "--json", "-X", "", "-I", "data/val/**", "v1", cwd=clone)))
    assert res["out_of_scope"] == 3 and res["files"] == 1 and res["fetched"] == 1
    git("checkout", "-q", "v1", cwd=clone)
    assert {p: sha256_file(clone / p) for p in FILES} == states["v1"]


def test_checkout_of_a_file_outside_the_scope_names_the_pull_that_fetches_it(
        origin: tuple[Path, dict], tmp_path: Path) -> None:
    """`git mlv checkout FILE` of a file mlv.fetchExclude leaves out said "run `git mlv pull`",
    which leaves it out again: it names `git mlv pull -I /FILE -X ''`, and that brings it."""
    bare, states = origin
    clone = tmp_path / "clone"
    git("-c", "mlv.fetchExclude=*.ckpt", "clone", "-q", str(bare), str(clone), cwd=tmp_path)
    git("config", "mlv.fetchExclude", "*.ckpt", cwd=clone)
    assert is_pointer(clone / "models/last.ckpt")
    proc = mlv("checkout", "models/last.ckpt", cwd=clone, check=False)
    said = out(proc)
    assert proc.returncode == 1, said
    assert "missing data: models/last.ckpt (outside the fetch scope: `git mlv pull -I " \
           "/models/last.ckpt -X ''`)" in said, said
    mlv("pull", "-I", "/models/last.ckpt", "-X", "", cwd=clone)
    assert sha256_file(clone / "models/last.ckpt") == states["v2"]["models/last.ckpt"]
