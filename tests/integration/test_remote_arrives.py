"""A data remote that arrives with a pull: files left as pointers before, and unchanged by the
pull, get their data from it (found trying the CLI as a new user: a clone made before a teammate
committed `remote add` kept its pointers through `git pull` until `git mlv pull`).

The hooks look at every tracked path only when the remotes named in .gitmlv changed; any other
change of .gitmlv (a stage) keeps them to the changed paths (counted through MLV_HOOK_TRACE)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import commit_all, git, mlv, random_bytes, write


@pytest.fixture
def shared(repo: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """(upstream repo, a clone made before any data remote existed, the files' bytes)."""
    files = {f"data/f{i}.bin": random_bytes(20_000 + 1000 * i, seed=40 + i) for i in range(3)}
    for name, data in files.items():
        write(repo / name, data)
    commit_all(repo, "data")
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    # data pushed before any data remote exists: stopped unless the user says so (pushFailOk)
    git("-c", "mlv.pushFailOk=true", "push", "-q", "origin", "HEAD:main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    for name in files:  # no data remote yet: pointers
        assert Pointer.try_parse((clone / name).read_bytes()) is not None
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    mlv("push", cwd=repo)
    return repo, clone, files


def test_a_pull_that_brings_the_data_remote_fills_the_pointers(
        shared: tuple[Path, Path, dict[str, bytes]]) -> None:
    repo, clone, files = shared
    # the pull also brings a file whose data the clone has (so its filter gives git every file's
    # data, and the hook shim's shortcut would apply but for .gitmlv)
    new = random_bytes(9_000, seed=50)
    write(repo / "data" / "new.bin", new)
    mlv("clean", "data/new.bin", cwd=clone, input=new)  # stores it in the clone's pool
    commit_all(repo, "the data remote, one more file")
    git("push", "-q", "origin", "HEAD:main", cwd=repo)
    git("pull", "-q", "--ff-only", cwd=clone)
    got = {name: (clone / name).read_bytes() for name in [*files, "data/new.bin"]}
    assert got == {**files, "data/new.bin": new}


def _trace_of(trace: Path) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    trace.unlink(missing_ok=True)
    return lines


def test_only_a_change_of_remotes_widens_the_hook(shared: tuple[Path, Path, dict[str, bytes]],
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, clone, files = shared
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("MLV_HOOK_TRACE", str(trace))
    text = (repo / ".gitmlv").read_text()  # the remote, not committed yet
    (repo / ".gitmlv").write_text("# notes\n")  # first an edit that names no remote (as a stage's)
    commit_all(repo, "a comment")
    git("push", "-q", "origin", "HEAD:main", cwd=repo)
    git("pull", "-q", "--ff-only", cwd=clone)
    (rec,) = _trace_of(trace)
    assert rec["scope"] == "changed" and rec["fetched"] == 0, rec
    assert all(Pointer.try_parse((clone / n).read_bytes()) is not None for n in files)

    (repo / ".gitmlv").write_text(text)
    commit_all(repo, "the data remote")
    git("push", "-q", "origin", "HEAD:main", cwd=repo)
    git("pull", "-q", "--ff-only", cwd=clone)
    (rec,) = _trace_of(trace)
    assert rec["scope"] == "all" and rec["fetched"] == len(files), rec
    assert {n: (clone / n).read_bytes() for n in files} == files
