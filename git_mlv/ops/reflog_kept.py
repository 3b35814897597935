"""What gc keeps only for the reflog: data of deleted branches, amended or reset commits.

A user deletes the branch of an experiment that held a large model and runs `git mlv gc`: the data
stays (reflog entries of the last mlv.gcReflogDays days keep it, README), and gc said only "0
unreachable; freed 0 B". gc now says how much of what it kept only those entries need and how to
let it go. One `rev-list --objects` of the reflog-only commits (the refs and every stash entry
subtracted): its cost follows what the reflog holds beyond the refs, not the history.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.pointer import MAX_SIZE
from ..core.pool import Pool
from ..errors import MlvError
from ..gitio import walk
from ..gitio.git import Repo


@dataclass
class ReflogKept:
    files: int = 0  # file versions whose data is here that only reflog entries reach
    bytes: int = 0  # their size (each version whole)


def reflog_only(repo: Repo, pool: Pool, days: float) -> ReflogKept:
    """The data here that only reflog entries of the last ``days`` days keep (an estimate from
    above: an index's or another worktree's HEAD's file is counted if a reflog-only commit has it
    too)."""
    res = ReflogKept()
    if days <= 0:
        return res
    try:
        commits = walk.existing_commits(repo, walk.reflog_commits(repo, days))
        if not commits:
            return res
        refs = repo.git_text("for-each-ref", "--format=%(objectname)").split()
        stash = repo.git_text("log", "-g", "--format=%H", "refs/stash", check=False).split()
        todo = sorted(set(commits) - set(refs) - set(stash))
        if not todo:
            return res
        stdin = "".join(f"{c}\n" for c in todo) + "".join(f"^{r}\n" for r in {*refs, *stash})
        listing = walk.repo_records(repo, ["rev-list", "--objects", f"--filter=blob:limit={MAX_SIZE - 1}",
                                           "--missing=allow-promisor", "--stdin"], stdin.encode(), b"\n")
        blobs = [rec[:rec.index(b" ")].decode() for rec in listing if b" " in rec]
        seen: set[str] = set()
        for pb in walk.pointer_blobs(repo, blobs).values():
            if pb.oid not in seen and pool.has_file(pb.oid):
                seen.add(pb.oid)
                res.files += 1
                res.bytes += pb.size
    except MlvError:
        return ReflogKept()  # a note only: gc's own listing decides what is kept
    return res

