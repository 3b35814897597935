"""One data remote added without `--default` is the default.

Regression: `git push` and `git mlv pull` used the only remote, but a clone's checkout, the hooks
and `git mlv status` asked only for a named default, so a clone stayed pointers with "no data
remote to fetch it from" while `git mlv pull` in the same clone fetched at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def _project(repo: Path, tmp_path: Path, remotes: list[str]) -> Path:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    for name in remotes:
        mlv("remote", "add", name, str(tmp_path / name), cwd=repo)
    write(repo / "a.bin", random_bytes(300_000, seed=3))
    commit_all(repo, "data")
    return origin


def test_the_only_remote_feeds_a_clone(repo: Path, tmp_path: Path) -> None:
    origin = _project(repo, tmp_path, ["store"])
    git("push", "-q", "origin", "main", cwd=repo)  # the pre-push hook sends the data
    for depth in ([], ["--depth", "1"]):
        clone = tmp_path / f"clone{len(depth)}"
        git("clone", "-q", *depth, f"file://{origin}", str(clone), cwd=tmp_path)
        assert (clone / "a.bin").read_bytes() == (repo / "a.bin").read_bytes()
        assert "Everything is in place and on remote 'store'" in out(mlv("status", cwd=clone))
    listed = json.loads(mlv("remote", "list", "--json", cwd=clone).stdout)
    assert [(r["name"], r["default"]) for r in listed] == [("store", True)]


def test_two_remotes_and_no_default_are_named(repo: Path, tmp_path: Path) -> None:
    origin = _project(repo, tmp_path, ["one", "two"])
    mlv("push", "one", cwd=repo)
    proc = git("push", "-q", "origin", "main", cwd=repo, check=False)
    assert proc.returncode == 1
    assert "no default data remote among one, two; name one, or choose the default: " \
           "`git mlv remote modify NAME default true`" in proc.stderr.decode(), proc.stderr
    git("-c", "mlv.pushFailOk=true", "push", "-q", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert (clone / "a.bin").read_bytes().startswith(b"version ")  # nowhere to fetch from
    text = out(mlv("status", cwd=clone))
    assert "no default data remote among one, two (`git mlv pull one` fetches from one)" in text, text

    mlv("remote", "modify", "one", "default", "true", cwd=clone)
    assert "core.remote" not in (repo / ".gitmlv").read_text()
    assert "remote = one" in (clone / ".gitmlv").read_text()
    mlv("pull", cwd=clone)
    assert (clone / "a.bin").read_bytes() == (repo / "a.bin").read_bytes()
    assert "Everything is in place and on remote 'one'" in out(mlv("status", cwd=clone))
    mlv("remote", "modify", "one", "default", "false", cwd=clone)
    assert "remote = one" not in (clone / ".gitmlv").read_text()
    bad = mlv("remote", "modify", "one", "default", "yes", cwd=clone, check=False)
    assert bad.returncode == 2 and "default takes true or false" in bad.stderr.decode()
