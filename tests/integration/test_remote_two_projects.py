"""`git mlv gc --remote` refuses on a data remote that another project pushes to as well.

Regression: two projects given the same folder (or bucket prefix) as their data remote, then
`gc --remote` in one of them: it kept what that project's refs reach and deleted the other
project's data. Pushes now record the pushing repository's root commits as `repos/<root>`
(docs/remotes.md, Layout), and gc refuses while the remote names a root this history lacks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import commit_all, git, mlv, one_error_line, origin_and_store, random_bytes, write


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _root(repo: Path) -> str:
    return git("rev-list", "--max-parents=0", "HEAD", cwd=repo).stdout.decode().strip()


def test_gc_remote_leaves_another_projects_data_alone(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    mlv("remote", "add", "store", str(store), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(40_000, seed=1))
    commit_all(repo, "project a")
    mlv("push", cwd=repo)
    assert _files(store / "repos") == [_root(repo)]

    other = tmp_path / "other"
    git("init", "-q", str(other), cwd=tmp_path)
    mlv("track", "*.bin", cwd=other)
    mlv("remote", "add", "store", str(store), "--default", cwd=other)
    write(other / "b.bin", random_bytes(50_000, seed=2))
    commit_all(other, "project b")
    mlv("push", cwd=other)
    assert _files(store / "repos") == sorted([_root(repo), _root(other)])

    before = _files(store)
    for args in (["gc", "--remote", "store"], ["gc", "--remote", "store", "--dry-run"]):
        err = one_error_line(mlv(*args, cwd=repo, check=False), 2)
        assert f"also serves another repository (root commit {_root(other)}" in err, err
        assert f"delete repos/{_root(other)} on the remote" in err, err
    assert _files(store) == before

    # the other project's data is still whole on the remote: without its pool, pull gets it back
    shutil.rmtree(other / ".git" / "mlv")
    (other / "b.bin").unlink()
    git("checkout", "--", "b.bin", cwd=other)  # a pointer (or fetched by the filter)
    mlv("pull", cwd=other)
    assert (other / "b.bin").read_bytes() == random_bytes(50_000, seed=2)

    # the other project's record removed (its data no longer wanted): gc goes on
    (store / "repos" / _root(other)).unlink()
    mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=repo)


def test_clones_of_one_project_share_the_record(repo: Path, tmp_path: Path) -> None:
    origin = origin_and_store(repo, tmp_path)
    git("push", "-q", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    write(clone / "c.bin", random_bytes(30_000, seed=3))
    commit_all(clone, "two")
    git("push", "-q", "origin", "main", cwd=clone)
    assert _files(tmp_path / "store" / "repos") == [_root(repo)]
    git("pull", "-q", "origin", "main", cwd=repo)
    mlv("gc", "--remote", "store", "--dry-run", cwd=repo)  # the same project: no refusal


def test_a_shallow_clone_is_still_this_project(repo: Path, tmp_path: Path) -> None:
    """A shallow clone (a CI job's `--depth 1`) records its shallow boundary as its root: a commit
    the full history has, so gc --remote from a full clone does not take it for another project."""
    origin = origin_and_store(repo, tmp_path)
    write(repo / "second.bin", random_bytes(30_000, seed=21))  # the shallow boundary: not the root
    commit_all(repo, "c1")
    git("push", "-q", "origin", "main", cwd=repo)
    shallow = tmp_path / "shallow"
    git("clone", "-q", "--depth", "1", f"file://{origin}", str(shallow), cwd=tmp_path)
    write(shallow / "s.bin", random_bytes(30_000, seed=22))
    commit_all(shallow, "from ci")
    git("push", "-q", "origin", "main", cwd=shallow)
    assert len(_files(tmp_path / "store" / "repos")) == 2  # the root, and the shallow boundary
    git("pull", "-q", "origin", "main", cwd=repo)
    mlv("gc", "--remote", "store", "--dry-run", cwd=repo)
