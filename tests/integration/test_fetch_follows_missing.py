"""`git mlv fetch` and `git mlv pull` keep only the files whose data is missing (ops/fetchplan.py).

A clone has the data of 243 files; the next commit adds 3 new contents at 4 paths (one content
at two paths far apart in the walk). With walk batches of 50 entries the fetch is handed those 3
ids and 4 paths, not every tracked file (before: every file's id and paths, ~1 KB a file: 134 MB
for `git mlv fetch` with nothing to fetch at 100,000 files), the counts the user reads are those
of every tracked file as before, and the fetched files come back byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from git_mlv.gitio import walk
from git_mlv.ops import sync_fetch
from git_mlv.ops.context import Workspace
from git_mlv.ops.scope import FetchScope
from tests.helpers import commit_all, git, mlv, out, random_bytes, sha256_file, write

OLD = {f"data/d{d:02d}/f{i:03d}.bin": random_bytes(300, seed=100 * d + i)
       for d in range(8) for i in range(30)}
OLD["data/a/dup.bin"] = OLD["data/d07/f029.bin"]  # one content at two paths, batches apart
OLD["data/d01/dup.bin"] = OLD["data/d00/f000.bin"]
OLD["data/d01/zz.bin"] = random_bytes(300, seed=9999)
NEW = {"data/a/new1.bin": random_bytes(500, seed=1), "data/d03/new2.bin": random_bytes(500, seed=2),
       "data/z/new3.bin": random_bytes(500, seed=3)}
NEW["data/zz/new1copy.bin"] = NEW["data/a/new1.bin"]
VERSIONS = len(set(OLD.values()) | set(NEW.values()))  # distinct file versions at the new commit


@pytest.fixture
def clone(repo: Path, tmp_path: Path) -> Path:
    """A clone with every file of the first commit; origin has a second one adding NEW."""
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for path, data in OLD.items():
        write(repo / path, data)
    commit_all(repo, "old")
    git("push", "-q", "origin", "main", cwd=repo)
    git("clone", "-q", str(bare), str(tmp_path / "clone"), cwd=tmp_path)
    for path, data in NEW.items():
        write(repo / path, data)
    commit_all(repo, "new")
    git("push", "-q", "origin", "main", cwd=repo)
    c = tmp_path / "clone"
    git("fetch", "-q", "origin", cwd=c)
    # the clone recorded its HEAD complete (docs/formats.md#complete); these tests are about a
    # fetch that reads every file, as one without a record does
    (c / ".git" / "mlv" / "complete").unlink()
    return c


def handed_to_fetch(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what each call of ``_fetch_oids_into`` is given (and let it fetch)."""
    calls: list[dict[str, Any]] = []
    real = sync_fetch._fetch_oids_into

    def spy(ws: Workspace, pool: Any, remote: Any, oids: set[str], paths: dict[str, list[str]],
            *args: Any, **kw: Any) -> sync_fetch.FetchResult:
        calls.append({"oids": len(oids), "paths": sorted(p for ps in paths.values() for p in ps),
                      "sizes": len(kw.get("sizes") or {})})
        return real(ws, pool, remote, oids, paths, *args, **kw)

    monkeypatch.setattr(sync_fetch, "_fetch_oids_into", spy)
    monkeypatch.setattr(walk, "_BATCH", 50)
    return calls


def test_fetch_keeps_only_the_missing_files(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = handed_to_fetch(monkeypatch)
    with Workspace.discover(str(clone)) as ws:
        res = sync_fetch.fetch(ws, revs=["origin/main"])
    assert calls == [{"oids": 3, "paths": sorted(NEW), "sizes": 3}]
    assert (res.files, res.fetched, res.out_of_scope, res.failed) == (VERSIONS, 3, 0, {})
    # the data is in the pool now: the checkout fetches nothing and writes the same bytes; the
    # fetch recorded origin/main complete, so a fetch again looks at nothing (ops/complete.py)
    p = mlv("fetch", "origin/main", cwd=clone)
    tip = git("rev-parse", "origin/main", cwd=clone).stdout.decode().strip()
    assert out(p) == (f"Fetched 0 of 0 file(s), 0 B from store (looked only at files changed since "
                      f"{tip[:12]}, whose data is all here)\n")
    git("merge", "-q", "--ff-only", "origin/main", cwd=clone)
    for path, data in {**OLD, **NEW}.items():
        assert (clone / path).read_bytes() == data, path


def test_fetch_counts_the_scope_as_before(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = handed_to_fetch(monkeypatch)
    scope = FetchScope(exclude=["data/d01", "data/zz"])
    with Workspace.discover(str(clone)) as ws:
        res = sync_fetch.fetch(ws, revs=["origin/main"], scope=scope)
    # new1's content is in scope at data/a: fetched; its copy out of scope, in a later batch, is
    # not named in its messages (the walk keeps no path of a file out of scope)
    assert calls == [{"oids": 3, "paths": sorted(set(NEW) - {"data/zz/new1copy.bin"}), "sizes": 3}]
    # data/d01: 30 files and zz.bin out of scope; dup.bin's content is in scope at data/d00
    assert (res.files, res.fetched, res.out_of_scope) == (VERSIONS - 31, 3, 31)


def test_pull_keeps_only_the_missing_files(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the new files stay pointers: out of scope for this checkout
    git("-c", "mlv.fetchExclude=new*", "merge", "-q", "--ff-only", "origin/main", cwd=clone)
    assert all((clone / p).read_bytes() != d for p, d in NEW.items())
    calls = handed_to_fetch(monkeypatch)
    with Workspace.discover(str(clone)) as ws:
        res = sync_fetch.pull(ws)
    assert calls == [{"oids": 3, "paths": sorted(NEW), "sizes": 3}]
    assert (res.fetch.files, res.fetch.fetched, sorted(res.restored), res.missing) \
        == (VERSIONS, 3, sorted(NEW), [])
    for path, data in {**OLD, **NEW}.items():
        assert (clone / path).read_bytes() == data, path
    assert sha256_file(clone / "data/zz/new1copy.bin") == sha256_file(clone / "data/a/new1.bin")
    assert out(git("status", "--porcelain", cwd=clone)) == ""


def test_push_of_a_revision_keeps_only_the_files_not_here(clone: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`git mlv push REMOTE REV` with nothing verified there: the push is handed every file's id
    as a packed array, and paths only for the files whose data is not here (the ones it names)."""
    from git_mlv.ops import sync

    git("-c", "mlv.fetchExclude=new*", "merge", "-q", "--ff-only", "origin/main", cwd=clone)
    mlv("remote", "add", "s2", str(tmp_path / "s2"), cwd=clone)
    handed: list[tuple[int, list[str]]] = []
    real = sync._push_open

    def spy(ws: Workspace, rc: Any, rem: Any, rindex: Any, ids: Any, paths: dict[str, list[str]],
            *args: Any) -> Any:
        handed.append((len(ids), sorted(p for ps in paths.values() for p in ps)))
        return real(ws, rc, rem, rindex, ids, paths, *args)

    monkeypatch.setattr(sync, "_push_open", spy)
    monkeypatch.setattr(walk, "_BATCH", 50)
    with Workspace.discover(str(clone)) as ws:
        res = sync.push(ws, "s2", ["HEAD"])
    assert handed == [(VERSIONS, sorted(NEW))]
    assert res.missing == ["data/a/new1.bin", "data/d03/new2.bin", "data/z/new3.bin"]
    assert (res.files, res.uploaded_files, res.already_there) == (VERSIONS - 3, VERSIONS - 3, 0)
    # what went to s2 comes back byte for byte (a clone that fetched nothing, then pulls from s2)
    other = tmp_path / "other"
    git("clone", "-q", "-c", "mlv.fetchInclude=nothing", str(tmp_path / "origin.git"), str(other),
        cwd=tmp_path)
    assert all((other / path).read_bytes() != data for path, data in OLD.items())
    mlv("remote", "add", "s2", str(tmp_path / "s2"), cwd=other)
    p = mlv("pull", "s2", "-I", "", "-X", "new*", cwd=other)
    assert out(p).startswith(f"Fetched {len(set(OLD.values()))} of {len(set(OLD.values()))} file(s)"), out(p)
    for path, data in OLD.items():
        assert (other / path).read_bytes() == data, path
