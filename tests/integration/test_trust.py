"""Trust in the tracked .gitmlv (issue 8): a commit that changes a remote's URL must not silently
redirect everyone's pushes; fetch may read from it (verified by hash) but says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, origin_and_store, out, random_bytes, sha256_file, write


def _setup(repo: Path, tmp_path: Path) -> Path:
    origin = origin_and_store(repo, tmp_path)
    git("push", "-q", "origin", "main", cwd=repo)
    return origin


@pytest.mark.slow
def test_a_changed_tracked_url_is_announced_and_push_refuses_until_trusted(repo: Path, tmp_path: Path
                                                                          ) -> None:
    origin = _setup(repo, tmp_path)
    clone = tmp_path / "clone"
    res = git("clone", str(origin), str(clone), cwd=tmp_path)
    assert f"reading data from 'store' at {tmp_path / 'store'}".encode() in res.stderr  # clone says where
    assert sha256_file(clone / "f0.bin") == sha256_file(repo / "f0.bin")
    # someone commits a .gitmlv that sends data elsewhere
    evil = tmp_path / "evil"
    evil.mkdir()  # the other folder exists: what trust is about is where the data goes
    git("config", "-f", ".gitmlv", "remote.store.url", str(evil), cwd=repo)
    git("commit", "-q", "-am", "innocent-looking change", cwd=repo)
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    git("pull", "-q", cwd=clone)
    write(clone / "two.bin", random_bytes(30_000, seed=2))
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "two", cwd=clone)
    res = git("push", "origin", "main", cwd=clone, check=False)
    assert res.returncode != 0
    assert b"git mlv remote trust store" in res.stderr
    assert not (evil / "packs").exists()  # nothing went there
    res = mlv("push", cwd=clone, check=False)
    assert res.returncode == 7 and res.stderr.count(b"\n") == 1
    listing = out(mlv("remote", "list", cwd=clone))
    assert f"changed from {tmp_path / 'store'}" in listing
    # fetch reads from the new place, and says so
    res = mlv("fetch", cwd=clone, check=False)
    assert b"note: data remote 'store' is now" in res.stderr
    # the user accepts the change: push goes there now
    mlv("remote", "trust", "store", cwd=clone)
    git("push", "origin", "main", cwd=clone)
    assert list((evil / "packs").glob("*.idx"))


def test_a_local_url_is_the_users_own_choice(repo: Path, tmp_path: Path) -> None:
    _setup(repo, tmp_path)
    git("config", "mlv-remote.store.url", str(tmp_path / "mine"), cwd=repo)
    (tmp_path / "mine").mkdir()
    git("config", "-f", ".gitmlv", "remote.store.url", str(tmp_path / "other"), cwd=repo)
    mlv("push", cwd=repo)
    assert list((tmp_path / "mine" / "packs").glob("*.idx"))
    assert not (tmp_path / "other").exists()
