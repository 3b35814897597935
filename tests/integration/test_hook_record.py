"""The post-checkout / post-merge shims skip Python only when this git's filter gave git every
file's data (the smudge record, docs/formats.md#smudge-record); anything else still runs
`git mlv hook`, which fills in what the checkout left.

`git-mlv` is wrapped by a script first on PATH that logs each invocation and execs the real one,
so a test sees which git-mlv processes git started (the filter, the hook) for a real checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from git_mlv.gitio.hooks import shim
from tests.helpers import commit_all, git, mlv, random_bytes, run, sha256_file, write


@pytest.fixture
def logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The log of every git-mlv process started from now on (one line of arguments each)."""
    bin_dir = tmp_path / "logbin"
    bin_dir.mkdir()
    log = tmp_path / "mlv.log"
    real = Path(sys.executable).parent / "git-mlv"
    wrapper = bin_dir / "git-mlv"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")  # the hooks find it first
    # git's filter is named by its full path in the config `git mlv install` wrote: the wrapper's,
    # for every git command of the test
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "filter.mlv.process")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", f"{wrapper} filter-process")
    return log


def runs(log: Path) -> list[str]:
    """The git-mlv invocations logged so far (and forget them)."""
    if not log.exists():
        return []
    lines = log.read_text().splitlines()
    log.unlink()
    return lines


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in (root / "data").rglob("*.bin")}


@pytest.fixture
def two_versions(repo: Path) -> dict[str, dict[str, str]]:
    """v1: six files; v2: one of them changed."""
    for i in range(6):
        write(repo / "data" / f"f{i}.bin", random_bytes(700 + 100 * i, seed=i))
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    states = {"v1": snapshot(repo)}
    write(repo / "data" / "f0.bin", random_bytes(1500, seed=99))
    commit_all(repo, "v2")
    git("tag", "v2", cwd=repo)
    states["v2"] = snapshot(repo)
    return states


def test_checkout_whose_filter_wrote_everything_starts_no_hook(repo: Path, two_versions: dict,
                                                             logged: Path) -> None:
    assert (repo / ".git" / "hooks" / "post-checkout").read_text() == shim("post-checkout")
    runs(logged)
    for rev in ("v1", "v2", "v1"):
        git("checkout", "-q", rev, cwd=repo)
        assert snapshot(repo) == two_versions[rev]
        started = runs(logged)
        assert "filter-process" in started  # the one changed file was smudged...
        assert not [r for r in started if r.startswith("hook")], started  # ...and no hook ran
    pid, start, state = (repo / ".git" / "mlv-smudged").read_text().split()
    assert state == "ok" and int(pid) > 1 and int(start) > 0
    git("merge", "-q", "--ff-only", "v2", cwd=repo)  # post-merge, the same way
    assert snapshot(repo) == two_versions["v2"]
    assert not [r for r in runs(logged) if r.startswith("hook")]
    assert git("status", "--porcelain", cwd=repo).stdout == b""


def test_pointers_left_by_a_checkout_are_still_filled_in(repo: Path, two_versions: dict,
                                                         logged: Path) -> None:
    """A record saying "ok" for another git process does not stop the hook: a checkout with the
    filter off (git writes pointers) is followed by Python's hook, which restores the data."""
    record = repo / ".git" / "mlv-smudged"
    record.write_text(f"{os.getpid()} 1 ok\n")  # not the checkout's git: must be ignored
    # The index dated ahead of its files: an entry written in the index's own second is racily
    # clean, and with the filter off `checkout -f` hashes such a file raw, finds it differs from
    # its pointer and rewrites it as the pointer (the hook restores only what the checkout changed)
    index = repo / ".git" / "index"
    st = os.stat(index)
    os.utime(index, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    runs(logged)
    git("-c", "filter.mlv.process=", "-c", "filter.mlv.smudge=", "-c", "filter.mlv.required=false",
        "checkout", "-q", "-f", "v1", cwd=repo)
    assert [r for r in runs(logged) if r.startswith("hook")] == [
        "hook post-checkout " + " ".join(git("rev-parse", "v2^{commit}", "v1^{commit}", cwd=repo)
                                         .stdout.decode().split()) + " 1"]
    assert snapshot(repo) == two_versions["v1"]  # the pointer the checkout left was replaced


@pytest.mark.slow  # a clone, an add and three checkouts: ~10 s at load 13
def test_a_smudge_that_leaves_a_pointer_hands_over_to_the_hook(
        repo: Path, two_versions: dict, logged: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Data missing (a clone without v1's data, no data remote): the filter writes the pointer,
    marks its record "left", and the shim runs `git mlv hook`, which finds the file missing."""
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    # no data remote: the push is stopped unless the user says so (pushFailOk)
    git("-c", "mlv.pushFailOk=true", "push", "-q", str(origin), "main", "--tags", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)  # every file a pointer: no data here
    for p in (clone / "data").glob("*.bin"):
        write(p, (repo / "data" / p.name).read_bytes())  # v2's data, stored by the next add
    git("add", "-A", cwd=clone)
    assert snapshot(clone) == two_versions["v2"]
    runs(logged)
    trace = tmp_path / "trace.jsonl"
    proc = git("checkout", "-q", "v1", cwd=clone)
    assert b"data of 'data/f0.bin' is not here" in proc.stderr
    assert (clone / ".git" / "mlv-smudged").read_text().split()[2] == "left"
    started = runs(logged)
    assert [r for r in started if r.startswith("hook post-checkout")], started
    # what that hook found, traced (the trace forces Python; the record alone decided above)
    git("checkout", "-q", "v2", cwd=clone)
    monkeypatch.setenv("MLV_HOOK_TRACE", str(trace))
    git("checkout", "-q", "v1", cwd=clone)
    run = [line for line in trace.read_text().splitlines() if '"post-checkout"' in line][-1]
    assert '"missing": 1' in run and '"examined": 1' in run
    assert (clone / "data" / "f0.bin").read_bytes().startswith(b"version ")


def test_the_shim_runs_the_chained_hook_when_it_skips_python(repo: Path, two_versions: dict,
                                                            logged: Path, tmp_path: Path) -> None:
    hooks = repo / ".git" / "hooks"
    seen = tmp_path / "chained.txt"
    (hooks / "post-checkout").write_text(f'#!/bin/sh\necho "$@ $MLV_HOOK_CHAINED" >> "{seen}"\n')
    mlv("install", "--local", cwd=repo)  # ours in front, the user's hook chained behind it
    assert (hooks / "post-checkout").read_text() == shim("post-checkout")
    runs(logged)
    git("checkout", "-q", "v1", cwd=repo)
    assert not [r for r in runs(logged) if r.startswith("hook")]
    old, new = git("rev-parse", "v2^{commit}", "v1^{commit}", cwd=repo).stdout.decode().split()
    assert seen.read_text() == f"{old} {new} 1 1\n"  # same arguments, marked as chained
    git("checkout", "-q", "v1", "--", "data/f1.bin", cwd=repo)  # a file checkout: the same
    assert not [r for r in runs(logged) if r.startswith("hook")]
    assert seen.read_text().splitlines()[-1] == f"{new} {new} 0 1"


def test_an_old_shim_still_works_and_is_upgraded(repo: Path, two_versions: dict) -> None:
    hooks = repo / ".git" / "hooks"
    v1 = ("#!/bin/sh\n# git-mlv hook shim v1: all logic lives in `git mlv hook`.\n"
          'command -v git-mlv >/dev/null 2>&1 || { echo >&2 "git-mlv is not on PATH: install it, '
          'or remove .git/hooks/post-checkout"; exit 2; }\nexec git mlv hook post-checkout "$@"\n')
    (hooks / "post-checkout").write_text(v1)
    head = git("rev-parse", "HEAD", cwd=repo).stdout.decode().strip()
    assert run([str(hooks / "post-checkout"), head, head, "1"], cwd=repo).returncode == 0
    git("checkout", "-q", "v1", cwd=repo)  # the filter checks our hooks as it starts: upgraded
    assert snapshot(repo) == two_versions["v1"]
    assert (hooks / "post-checkout").read_text() == shim("post-checkout")
    (hooks / "post-checkout").write_text(v1)
    assert b"hook post-checkout installed" in mlv("install", "--local", cwd=repo).stdout
    assert (hooks / "post-checkout").read_text() == shim("post-checkout")
