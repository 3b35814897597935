"""`git mlv gc` prunes the textconv summary cache (docs/formats.md#summary-cache).

Every version of a table that `git diff` / `git log -p` showed left a summary under
`.git/mlv/summaries/`, and nothing ever removed one: the cache grew with use. gc now removes the
entries of data it does not keep (the same live set as the pool's), entries of another layout or
version, and stale temporary files, one atomic unlink at a time, and says what it freed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from git_mlv.ops.summarycache import VERSION
from tests.conftest import BIN
from tests.helpers import commit_all, git, mlv, out, write


def _table(rows: int, seed: int) -> bytes:
    return ("id,x\n" + "".join(f"{i},{(i * seed) % 97}\n" for i in range(rows))).encode()


def _entries(repo: Path) -> dict[str, bytes]:
    top = repo / ".git" / "mlv" / "summaries"
    return {str(p.relative_to(top)): p.read_bytes() for p in top.rglob("*") if p.is_file()}


def _history(repo: Path) -> None:
    """main: v1 -> v2 of data/t.csv; a branch `gone` with v3, shown, then deleted."""
    write(repo / "data" / "t.csv", _table(50, 3))
    commit_all(repo, "v1")
    write(repo / "data" / "t.csv", _table(60, 5))
    commit_all(repo, "v2")
    git("checkout", "-q", "-b", "gone", cwd=repo)
    write(repo / "data" / "t.csv", _table(70, 7))
    commit_all(repo, "v3")
    out(git("log", "-p", "--", "data/t.csv", cwd=repo))  # textconv keeps v1, v2, v3
    git("checkout", "-q", "main", cwd=repo)
    git("branch", "-q", "-D", "gone", cwd=repo)
    git("reflog", "expire", "--expire=now", "--all", cwd=repo)
    # and let git prune unreachable commits now (`git gc --prune=now`): gc keeps the data of
    # those git still holds (gc.pruneExpire, two weeks: gitio/gcroots.py)
    git("config", "gc.pruneExpire", "now", cwd=repo)


def test_gc_prunes_summaries_of_data_it_drops(repo: Path) -> None:
    _history(repo)
    before = _entries(repo)
    assert len(before) == 3, before
    top = repo / ".git" / "mlv" / "summaries"
    legacy = write(top / "ab" / ("c" * 62), b"format csv\nold layout\n")  # the first layout's
    stale = write(top / f"v{VERSION}" / "00" / ".tmp-x.part", b"half")  # a textconv killed mid-write
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = write(top / f"v{VERSION}" / "00" / ".tmp-y.part", b"half")  # one writing now
    shown = out(git("log", "-p", "--", "data/t.csv", cwd=repo))

    dry = json.loads(out(mlv("gc", "--dry-run", "--json", cwd=repo)))
    assert dry["summaries_removed"] == 3 and dry["summaries_freed"] > 0, dry
    assert legacy.exists() and stale.exists()
    text = out(mlv("gc", cwd=repo))
    assert "summary cache (git diff of tables): 3 file(s)" in text, text
    after = _entries(repo)
    assert not legacy.exists() and not stale.exists() and fresh.exists()
    assert not (top / "ab").exists()  # the emptied folder went too
    kept = {k: v for k, v in after.items() if not k.endswith(".part")}
    assert len(kept) == 2 and all(before[k] == v for k, v in kept.items()), (before, after)
    # what git shows is unchanged, and read from the cache that is left
    assert out(git("log", "-p", "--", "data/t.csv", cwd=repo)) == shown
    assert len(_entries(repo)) == 3


def test_a_killed_gc_leaves_a_readable_cache(repo: Path) -> None:
    """kill -9 at several moments of a gc with many entries to prune: every entry left is whole,
    and a rerun finishes."""
    _history(repo)
    top = repo / ".git" / "mlv" / "summaries" / f"v{VERSION}"
    body = b"format csv\n" + b"x" * 2000 + b"\n"
    for i in range(1500):  # entries of data the pool never had: all pruned
        oid = f"{i:064x}"
        write(top / oid[:2] / f"{oid[2:]}-csv", body)
    shown = out(git("log", "-p", "--", "data/t.csv", cwd=repo))
    real = {k: v for k, v in _entries(repo).items() if v != body}
    for delay in (0.3, 0.6, 0.9):
        proc = subprocess.Popen([os.path.join(BIN, "git-mlv"), "gc"], cwd=repo,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for name, data in _entries(repo).items():
            assert data == body or data == real.get(name), name
    mlv("gc", cwd=repo)
    left = _entries(repo)
    assert len(left) == 2 and all(k in real and v == real[k] for k, v in left.items())
    assert out(git("log", "-p", "--", "data/t.csv", cwd=repo)) == shown
