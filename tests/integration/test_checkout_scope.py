"""post-checkout / post-merge look at the paths the checkout changed, not at every tracked file.

The hook's work is counted through MLV_HOOK_TRACE=FILE (ops/hooks.py appends one JSON line per run:
scope, paths examined, files restored, fetched, missing). A checkout that changes k files must
examine k paths whatever the number of tracked files; only a clone's first checkout looks at all.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import commit_all, git, mlv, random_bytes, sha256_file, write

TRACKED = 80  # more than walk._CACHE_MIN and walk._PATHSPEC_MAX: both code paths run


def read_trace(path: Path) -> list[dict]:
    """The hook runs recorded so far (and forget them)."""
    if not path.exists():
        return []
    runs = [json.loads(line) for line in path.read_text().splitlines()]
    path.unlink()
    return runs


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in (root / "data").rglob("*.bin")}


@pytest.fixture
def history(repo: Path, tmp_path: Path) -> dict[str, dict[str, str]]:
    """v1: TRACKED files; v2: one file changed; v3: 40 more changed and one deleted, each tagged."""
    for i in range(TRACKED):
        write(repo / "data" / f"d{i % 7}" / f"f{i:03d}.bin", random_bytes(500 + 37 * i, seed=i))
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    states = {"v1": snapshot(repo)}
    write(repo / "data" / "d0" / "f000.bin", random_bytes(900, seed=1000))
    commit_all(repo, "v2")
    git("tag", "v2", cwd=repo)
    states["v2"] = snapshot(repo)
    for i in range(1, 41):
        write(repo / "data" / f"d{i % 7}" / f"f{i:03d}.bin", random_bytes(700 + i, seed=2000 + i))
    (repo / "data" / "d6" / "f076.bin").unlink()
    commit_all(repo, "v3")
    git("tag", "v3", cwd=repo)
    states["v3"] = snapshot(repo)
    mlv("push", cwd=repo)
    mlv("push", "store", "v1", "v2", cwd=repo)
    return states


def test_checkout_examines_only_changed_paths(repo: Path, history: dict, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("MLV_HOOK_TRACE", str(trace))
    for rev, changed in (("v2", 41), ("v1", 1), ("v3", 41), ("v3", 0)):
        git("checkout", "-q", rev, cwd=repo)
        assert snapshot(repo) == history[rev]
        (run,) = read_trace(trace)
        assert run["hook"] == "post-checkout"
        assert run["scope"] == ("changed" if changed else "none")
        assert run["examined"] == changed, (rev, run)  # v2->v1: 1 file of 80; v1->v3: 40 + f000
        assert run["restored"] == 0  # the filter already wrote the data
    git("checkout", "-q", "-b", "other", cwd=repo)  # same commit: nothing to look at
    assert read_trace(trace)[0]["examined"] == 0
    git("checkout", "-q", "v1", "--", "data/d0/f000.bin", cwd=repo)  # a file checkout: the filter's job
    assert read_trace(trace)[0]["scope"] == "none"


def test_clone_looks_at_everything_once(repo: Path, history: dict, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "main", "--tags", cwd=repo)
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("MLV_HOOK_TRACE", str(trace))
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert snapshot(clone) == history["v3"]
    (run,) = read_trace(trace)
    assert run["scope"] == "all" and run["examined"] == TRACKED - 1


def test_merge_and_pull_examine_only_what_they_changed(repo: Path, history: dict, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "v1:refs/heads/main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    git("push", "-q", str(origin), "v2:refs/heads/main", cwd=repo)
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("MLV_HOOK_TRACE", str(trace))
    git("pull", "-q", "--ff-only", cwd=clone)  # fast-forward v1 -> v2: one file
    assert snapshot(clone) == history["v2"]
    (run,) = read_trace(trace)
    assert (run["hook"], run["scope"], run["examined"]) == ("post-merge", "changed", 1)
    git("fetch", "-q", str(repo), "v3", cwd=clone)
    git("merge", "-q", "--squash", "FETCH_HEAD", cwd=clone)  # the index changes, HEAD does not
    assert snapshot(clone) == history["v3"]
    (run,) = read_trace(trace)
    assert (run["hook"], run["scope"], run["examined"]) == ("post-merge", "changed", 40)


def test_hook_fills_in_pointers_the_checkout_left(repo: Path, history: dict, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout whose filter could not run leaves pointers: the hook restores the changed ones
    from the pool, and fetches from the default remote what the pool lacks."""
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("MLV_HOOK_TRACE", str(trace))
    def checkout_without_filter(root: Path, rev: str) -> None:
        """git checkout with the filter off (an empty filter.mlv.process: git writes the pointers;
        -f: else git takes every data file for a local change) and no hooks, then the hook as git
        runs it, without the -c settings (git would pass them on to the hook's git commands)."""
        old = git("rev-parse", "HEAD", cwd=root).stdout.decode().strip()
        # first make no index entry "racily clean" (written in the index's own second): git would
        # re-read those files through the (disabled) filter, take them for changes and -f them away
        past = time.time() - 60
        for p in root.rglob("*.bin"):
            os.utime(p, (past, past))
        git("update-index", "-q", "--refresh", cwd=root)
        git("-c", "filter.mlv.process=", "-c", "filter.mlv.required=false", "-c", "core.hooksPath=/dev/null",
            "checkout", "-q", "-f", rev, cwd=root)
        new = git("rev-parse", "HEAD", cwd=root).stdout.decode().strip()
        mlv("hook", "post-checkout", old, new, "1", cwd=root)

    checkout_without_filter(repo, "v2")
    assert snapshot(repo) == history["v2"]
    run = read_trace(trace)[0]
    assert (run["scope"], run["examined"], run["restored"], run["fetched"]) == ("changed", 41, 41, 0)
    assert git("status", "--porcelain", cwd=repo).stdout == b""
    # now without the data: a clone whose pool lacks v1's version of the one file v1 changes
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "main", "--tags", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "--branch", "v2", str(origin), str(clone), cwd=tmp_path)
    read_trace(trace)
    checkout_without_filter(clone, "v1")
    assert snapshot(clone) == history["v1"]
    run = read_trace(trace)[0]
    assert (run["examined"], run["restored"], run["fetched"], run["missing"]) == (1, 1, 1, 0)
    assert git("status", "--porcelain", cwd=clone).stdout == b""


def test_user_edits_are_not_overwritten(repo: Path, history: dict) -> None:
    """A worktree file that is another pointer than the index's is the user's: left alone."""
    other = Pointer("e" * 64, 5).encode()
    target = repo / "data" / "d0" / "f007.bin"
    write(target, other)
    mlv("checkout", cwd=repo)
    assert target.read_bytes() == other


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_filter_fills_the_pointer_cache(tmp_path: Path, object_format: str) -> None:
    """After `git add`, every pointer blob git stored is known to the cache (so status reads none),
    in sha1 and sha256 repositories alike; status and checkouts work in both."""
    from git_mlv.gitio.pointer_cache import PointerCache

    root = tmp_path / object_format
    root.mkdir()
    git("init", "-q", f"--object-format={object_format}", cwd=root)
    mlv("track", "data/**", cwd=root)
    for i in range(5):
        write(root / "data" / f"f{i}.bin", random_bytes(2000 + i, seed=i))
    commit_all(root, "v1")
    staged = out_lines(git("ls-files", "-s", "data", cwd=root).stdout)
    blobs = [line.split()[1] for line in staged]
    known, missing = PointerCache(str(root / ".git" / "mlv" / "pointer-cache")).lookup(blobs)
    assert not missing and all(pb is not None for pb in known.values())
    write(root / "data" / "f0.bin", random_bytes(2100, seed=50))
    commit_all(root, "v2")
    want = snapshot(root)
    git("checkout", "-q", "HEAD~1", cwd=root)
    git("checkout", "-q", "main", cwd=root)
    assert snapshot(root) == want
    assert "Everything is in place" in mlv("status", cwd=root).stdout.decode()


def out_lines(raw: bytes) -> list[str]:
    return raw.decode().splitlines()


@pytest.mark.parametrize("hooks_path", [False, True])
def test_nothing_to_do_still_runs_the_chained_hook(repo: Path, history: dict, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, hooks_path: bool) -> None:
    """When the filter wrote every changed file our part answers without its heavy imports
    (ops/hookquick.py); the hook we compose with still runs, once, with git's arguments, wherever
    git looks for hooks."""
    hooks = repo / ".git" / "hooks"
    if hooks_path:
        moved = tmp_path / "my-hooks"
        moved.mkdir()
        (moved / "post-checkout").write_bytes((hooks / "post-checkout").read_bytes())
        os.chmod(moved / "post-checkout", 0o755)
        git("config", "core.hooksPath", str(moved), cwd=repo)
        hooks = moved
    seen = tmp_path / "chained-args"
    chained = hooks / "post-checkout.mlv-chained"
    chained.write_text(f'#!/bin/sh\necho "$@" >> "{seen}"\n')
    os.chmod(chained, 0o755)
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("MLV_HOOK_TRACE", str(trace))
    old = git("rev-parse", "HEAD", cwd=repo).stdout.decode().strip()
    git("checkout", "-q", "v2", cwd=repo)
    new = git("rev-parse", "HEAD", cwd=repo).stdout.decode().strip()
    assert snapshot(repo) == history["v2"]
    assert seen.read_text() == f"{old} {new} 1\n"
    (run,) = read_trace(trace)
    assert (run["scope"], run["examined"], run["restored"]) == ("changed", 41, 0)
