"""`git mlv remote rename OLD NEW`: a team renames its data remote.

There was no way to rename one: editing `.gitmlv` by hand left `core.remote` naming a remote that
was gone and this clone's settings (`mlv-remote.OLD.*`: endpoint, keys, trusted URL) and cached
indexes behind; `remote remove` + `remote add` dropped them too. rename moves all of it, and
after pulling a teammate's rename the same command carries the local settings over.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, sha256_file, write


def test_rename_keeps_settings_and_cache_and_a_teammate_follows(repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "data"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(40_000, seed=11))
    commit_all(repo, "one")
    git("push", "-q", "origin", "main", cwd=repo)
    bob = tmp_path / "bob"
    git("clone", "-q", str(origin), str(bob), cwd=tmp_path)
    # a local setting of bob's (set by hand: `remote modify` refuses an S3 setting on a folder remote)
    git("config", "mlv-remote.store.profile", "team", cwd=bob)

    git("config", "mlv-remote.store.profile", "mine", cwd=repo)
    text = out(mlv("remote", "rename", "store", "box", cwd=repo))
    assert "Renamed data remote store to box" in text and "commit .gitmlv" in text, text
    rows = json.loads(mlv("remote", "list", "--json", cwd=repo).stdout)
    assert [(r["name"], r["default"], r["options"]) for r in rows] == [("box", True, {"profile": "mine"})]
    cache = repo / ".git" / "mlv" / "remotes"
    assert (cache / "box").is_dir() and not (cache / "store").exists()  # nothing listed again
    assert "Everything is in place and on remote 'box'" in out(mlv("status", cwd=repo))

    write(repo / "b.bin", random_bytes(40_000, seed=12))
    commit_all(repo, "rename the data remote, and more data")
    proc = git("push", "-q", "origin", "main", cwd=repo)
    assert "to 'box'" in proc.stderr.decode() and "trust" not in proc.stderr.decode(), proc.stderr

    # bob pulls the rename: his setting for 'store' follows with the same command
    git("pull", "-q", "origin", "main", cwd=bob)
    assert sha256_file(bob / "b.bin") == sha256_file(repo / "b.bin")
    text = out(mlv("remote", "rename", "store", "box", cwd=bob))
    assert "Moved this clone's settings of data remote store to box" in text, text
    rows = json.loads(mlv("remote", "list", "--json", cwd=bob).stdout)
    assert [(r["name"], r["options"].get("profile")) for r in rows] == [("box", "team")], rows

    proc = mlv("remote", "rename", "box", "box", cwd=bob, check=False)
    assert proc.returncode == 2 and "already exists" in proc.stderr.decode()
