"""gc after deleting a branch: its data stays for the reflog (mlv.gcReflogDays), and gc said only
"0 unreachable; freed 0 B". It now says how much it kept only for reflog entries and how to let it
go; stash entries (kept whatever their age) are not counted, and the advice keeps them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, commit_on_dropped_branch, git, mlv, out, random_bytes, write


def test_gc_names_what_only_the_reflog_keeps(repo: Path) -> None:
    write(repo / "a.bin", random_bytes(30_000, seed=761))
    commit_all(repo, "main")
    commit_on_dropped_branch(repo, "model.bin", random_bytes(120_000, seed=762), message="experiment")
    stashed = {}
    for n in (1, 2):  # stash@{1} lives only in refs/stash's reflog: a stash, not a reflog-only file
        stashed[n] = random_bytes(20_000, seed=762 + n)
        write(repo / f"s{n}.bin", stashed[n])
        git("add", f"s{n}.bin", cwd=repo)
        git("stash", "-q", cwd=repo)

    res = json.loads(out(mlv("gc", "--dry-run", "--json", cwd=repo)))
    assert (res["reflog_files"], res["reflog_bytes"], res["reflog_days"]) == (1, 120_000, 90)
    text = out(mlv("gc", cwd=repo))
    assert "0 unreachable" in text
    assert "kept 1 file version(s), 117.2 KiB, that only reflog entries of the last 90 day(s) need" in text
    assert "`git -c mlv.gcReflogDays=0 mlv gc` lets them go (stashes stay)" in text

    text = out(git("-c", "mlv.gcReflogDays=0", "mlv", "gc", cwd=repo))
    assert "freed 1" in text and "reflog entries" not in text
    for n in (1, 2):  # the advice kept every stash
        git("stash", "pop", "-q", cwd=repo)
        assert (repo / f"s{3 - n}.bin").read_bytes() == stashed[3 - n]
    assert "reflog entries" not in out(mlv("gc", cwd=repo))
