"""`git mlv add` of files git already holds whole (committed before they were tracked, the usual
way into git-mlv: "this model should not be in git"): the line went into .gitattributes and it
said "Added 1 path(s)", but `git add` re-cleans only a file whose stat changed, so the index kept
the whole blob, the next commit stored the data in git again and `git mlv ls-files` listed none
of them. The files `add` names that the index holds whole are now re-added (`git add
--renormalize`), and only those: files already stored as pointers are not cleaned again."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, out, random_bytes, sha256_file, write


def _aged(repo: Path, *paths: Path) -> None:
    """Out of git's racy second, so that `git add` sees them unchanged (the case)."""
    past = time.time() - 3600
    for p in paths:
        os.utime(p, (past, past))
    git("update-index", "-q", "--really-refresh", cwd=repo, check=False)


def test_add_turns_files_committed_whole_into_pointers(repo: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    model = write(repo / "m.pt", random_bytes(50_000, seed=1))
    parts = [write(repo / "raw" / f"p{i}.dat", random_bytes(20_000 + i, seed=2 + i)) for i in range(3)]
    write(repo / "code.py", b"print(1)\n")
    commit_all(repo, "everything whole in git")
    _aged(repo, model, *parts)

    mlv("add", "m.pt", "raw", cwd=repo)
    for f in (model, *parts):
        rel = f.relative_to(repo).as_posix()
        staged = git("show", f":{rel}", cwd=repo).stdout
        assert staged.startswith(b"version ") and sha256_file(f).encode() in staged, (rel, staged[:80])
    git("commit", "-qm", "data out of git", cwd=repo)
    assert len(json.loads(out(mlv("ls-files", "--json", cwd=repo)))) == 4
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    assert out(git("show", "HEAD:code.py", cwd=repo)) == "print(1)\n"

    # again: every file a pointer already, none is cleaned a second time
    _aged(repo, model, *parts)
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE_PACKET", str(trace))
    mlv("add", "raw", cwd=repo)
    assert "command=clean" not in (trace.read_text(errors="replace") if trace.exists() else "")
