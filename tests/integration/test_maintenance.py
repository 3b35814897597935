"""fsck, du, gc, crash safety and hook installation, through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, out, pool_size, random_bytes, sha256_file, write


def test_fsck_healthy_then_detects_damage(repo: Path) -> None:
    write(repo / "model.bin", random_bytes(100_000, 1))
    commit_all(repo, "v1")
    res = json.loads(out(mlv("fsck", "--json", cwd=repo)))
    assert res["errors"] == [] and res["objects"] > 10 and res["files"] == 1
    pack = max((repo / ".git" / "mlv" / "packs").glob("*.pack"), key=lambda p: p.stat().st_size)
    raw = bytearray(pack.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    pack.write_bytes(bytes(raw))
    proc = mlv("fsck", cwd=repo, check=False)
    assert proc.returncode == 3
    assert b"damaged" in proc.stderr or b"mismatch" in proc.stderr
    assert b"run `git mlv fsck`" not in proc.stdout + proc.stderr  # it is fsck's own report


def test_du_reports_dedup(repo: Path) -> None:
    data = random_bytes(60_000, 2)
    write(repo / "a.bin", data)
    write(repo / "b.bin", data)  # the same content twice
    commit_all(repo, "v1")
    res = json.loads(out(mlv("du", "--json", cwd=repo)))
    assert res["files"] == 1  # one distinct version
    assert res["logical"] == 60_000
    assert res["unique"] == 60_000
    write(repo / "a.bin", data[:30_000] + b"x" + data[30_000:])
    commit_all(repo, "v2")
    res = json.loads(out(mlv("du", "--json", cwd=repo)))
    assert res["files"] == 2 and res["logical"] == 120_001
    assert res["dedup_ratio"] > 1.5
    assert "dedup" in out(mlv("du", cwd=repo))


def test_gc_keeps_what_is_reachable(repo: Path, tmp_path: Path) -> None:
    keep_tag = random_bytes(40_000, 10)
    write(repo / "tagged.bin", keep_tag)
    commit_all(repo, "v1")
    git("tag", "v1.0", cwd=repo)
    stashed = random_bytes(40_000, 11)
    write(repo / "tagged.bin", stashed)
    git("stash", cwd=repo)
    indexed = random_bytes(40_000, 12)
    write(repo / "staged.bin", indexed)
    git("add", "staged.bin", cwd=repo)
    git("worktree", "add", "-q", str(tmp_path / "wt"), "-b", "wtb", cwd=repo)
    wt_only = random_bytes(40_000, 13)
    write(tmp_path / "wt" / "wt.bin", wt_only)
    git("add", "wt.bin", cwd=tmp_path / "wt")  # only in the other worktree's index
    # garbage: committed on a branch that is then deleted and its reflog expired
    git("checkout", "-q", "-b", "tmp", cwd=repo)
    write(repo / "junk.bin", random_bytes(200_000, 14))
    git("add", "junk.bin", cwd=repo)
    git("commit", "-q", "-m", "junk", cwd=repo)
    git("checkout", "-q", "-f", "main", cwd=repo)
    git("branch", "-D", "tmp", cwd=repo)
    git("reflog", "expire", "--expire=now", "--all", cwd=repo)
    # and let git prune unreachable commits now (`git gc --prune=now`): gc keeps the data of
    # those git still holds (gc.pruneExpire, two weeks: gitio/gcroots.py)
    git("config", "gc.pruneExpire", "now", cwd=repo)
    before = pool_size(repo)
    dry = json.loads(out(mlv("gc", "--dry-run", "--json", cwd=repo)))
    assert dry["dead_objects"] > 0 and pool_size(repo) == before
    res = json.loads(out(mlv("gc", "--json", cwd=repo)))
    assert res["freed_bytes"] > 150_000
    assert pool_size(repo) < before - 150_000
    assert out(mlv("fsck", cwd=repo)).strip().endswith("pool is healthy")
    # everything still reachable comes back byte for byte
    git("stash", "pop", cwd=repo)
    assert (repo / "tagged.bin").read_bytes() == stashed
    git("checkout", "-q", "-f", "v1.0", cwd=repo)
    assert (repo / "tagged.bin").read_bytes() == keep_tag
    os.unlink(tmp_path / "wt" / "wt.bin")
    git("checkout", "--", "wt.bin", cwd=tmp_path / "wt")
    assert (tmp_path / "wt" / "wt.bin").read_bytes() == wt_only
    ls = json.loads(out(mlv("ls-files", "--json", cwd=repo)))
    assert all(f["present"] for f in ls)


def _descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (children, grandchildren...)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        kids = subprocess.run(["pgrep", "-P", str(todo.pop())], capture_output=True, text=True)
        found = [int(k) for k in kids.stdout.split()]
        out += found
        todo += found
    return out


@pytest.mark.slow
def test_kill_9_during_add_leaves_pool_readable(repo: Path) -> None:
    git("config", "mlv.packSize", "1m", cwd=repo)
    for i in range(40):
        write(repo / "data" / f"f{i:02d}.bin", random_bytes(1_000_000, 100 + i))
    proc = subprocess.Popen(["git", "add", "-A"], cwd=repo, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    packs = repo / ".git" / "mlv" / "packs"
    deadline = time.time() + 30
    while time.time() < deadline and len(list(packs.glob("*.pack"))) < 5:
        time.sleep(0.01)
    # kill the filter process mid-stream: this git's descendant (git -> sh -> git-mlv), no one
    # else's (other test sessions may run filters on this machine)
    for pid in _descendants(proc.pid):
        if "filter-process" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode != 0  # filter.mlv.required: git add fails rather than store raw data
    fsck = mlv("fsck", cwd=repo, check=False)
    assert fsck.returncode == 0, fsck.stderr
    commit_all(repo, "rerun")  # a rerun succeeds
    want = {}
    for i in range(40):  # every file out of the pool again: one checkout smudges them all
        p = repo / "data" / f"f{i:02d}.bin"
        want[p] = sha256_file(p)
        p.unlink()
    git("checkout", "--", "data", cwd=repo)
    assert {p: sha256_file(p) for p in want} == want
    assert out(mlv("fsck", cwd=repo)).strip().endswith("pool is healthy")


def test_hooks_installed_without_clobbering(tmp_path: Path) -> None:
    r = tmp_path / "r"
    r.mkdir()
    git("init", "-q", cwd=r)
    mine = r / ".git" / "hooks" / "pre-push"
    mine.parent.mkdir(exist_ok=True)
    mine.write_text("#!/bin/sh\necho mine\n")
    res = out(mlv("install", "--local", cwd=r))
    assert "hook pre-push: chained with your hook" in res  # it now runs after ours, same stdin
    assert (r / ".git" / "hooks" / "pre-push.mlv-chained").read_text() == "#!/bin/sh\necho mine\n"
    assert "git-mlv hook post-checkout" in (r / ".git" / "hooks" / "post-checkout").read_text()
    mlv("uninstall", "--local", cwd=r)
    assert mine.read_text() == "#!/bin/sh\necho mine\n"  # put back
    mlv("install", "--local", "--force", cwd=r)
    assert "git-mlv hook pre-push" in mine.read_text()
    assert (r / ".git" / "hooks" / "pre-push.mlv-backup").read_text() == "#!/bin/sh\necho mine\n"
    # core.hooksPath is respected
    git("config", "core.hooksPath", "myhooks", cwd=r)
    mlv("install", "--local", cwd=r)
    assert (r / "myhooks" / "post-merge").exists()
    mlv("uninstall", "--local", cwd=r)
    assert not (r / "myhooks" / "post-merge").exists()
    assert "git-mlv hook" in mine.read_text()  # .git/hooks is not where git looks now: untouched
    git("config", "--unset", "core.hooksPath", cwd=r)
    mlv("uninstall", "--local", cwd=r)
    assert mine.read_text() == "#!/bin/sh\necho mine\n"  # restored from the backup


def test_repo_shims_match_installed_text() -> None:
    from git_mlv.gitio.hooks import HOOKS, shim

    root = Path(__file__).resolve().parents[2] / "hooks"
    for name in HOOKS:
        assert (root / name).read_text() == shim(name)


@pytest.mark.parametrize("args,needle", [
    (["frobnicate"], b"'frobnicate' is not a git-mlv verb (`git mlv --help` lists them)"),
    (["stauts"], b"'stauts' is not a git-mlv verb; did you mean 'status'?"),
    (["ls-files", "no-such-rev"], b"error"),
    (["untrack"], b"required"),
    (["track", "!neg"], b"negative patterns"),
    (["add", "does-not-exist"], b"no such file"),
])
def test_user_errors_are_one_line(repo: Path, args: list[str], needle: bytes) -> None:
    proc = mlv(*args, cwd=repo, check=False)
    assert proc.returncode != 0
    assert needle in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_outside_a_repository(tmp_path: Path) -> None:
    proc = mlv("status", cwd=tmp_path, check=False)
    assert proc.returncode == 128
    assert proc.stderr.strip().count(b"\n") == 0 and b"not a git repository" in proc.stderr
