"""Commits gc keeps that no ref, index or reflog entry names: ones git itself still holds.

git keeps an unreachable commit until its own gc prunes it (``gc.pruneExpire``, two weeks), and
some of them are still wanted:

- a stash entry dropped (`git stash drop`, `clear`, a `pop`): git-stash(1) recovers one from
  ``git fsck --unreachable``. Kept for ``mlv.gcReflogDays`` (90), by its shape: two or three
  parents and git stash's subject;
- a commit made in a linked worktree on a detached HEAD, the worktree then removed (`git worktree
  remove` deletes the worktree's HEAD reflog, the only thing that named it; git leaves no other
  trace), or any commit whose branch went without a reflog entry naming it (a fetched branch
  deleted, reflogs expired): kept while git keeps it, at most ``mlv.gcReflogDays``: committed
  after ``gc.pruneExpire`` (git's own setting: "now" lets them go, as ``git gc --prune=now``).

One ``git fsck --unreachable --connectivity-only`` finds them (it walks what ``rev-list --objects
--all`` walks: gc's own cost) and one ``git log --no-walk`` reads their times; a fsck that fails
(a damaged repository) adds only the commits it did name.
"""

from __future__ import annotations

import re
import time

from .git import Repo
from .walk import repo_records

# a stash entry's commit: "WIP on BRANCH: ..." (`git stash`) or "On BRANCH: MESSAGE" (`-m`)
_STASH_SUBJECT = re.compile(rb"(WIP on|On) [^:]*: ")
# git's default gc.pruneExpire
_PRUNE_EXPIRE = "2.weeks.ago"


def prune_cutoff(repo: Repo) -> float:
    """The time before which git's gc prunes unreachable objects (``gc.pruneExpire``): "now" is
    now, "never" is 0; git reads the date (``rev-parse --since``: approxidate, as gc does)."""
    value = repo.config.get("gc.pruneexpire", _PRUNE_EXPIRE).strip() or _PRUNE_EXPIRE
    if value == "now":
        return time.time()
    if value == "never":
        return 0.0
    out = repo.git_text("rev-parse", f"--since={value}", check=False)
    try:
        return float(out.rpartition("=")[2])
    except ValueError:
        return time.time() - 14 * 86400


def kept_unreachable(repo: Repo, max_age_days: float) -> set[str]:
    """Unreachable commits git still holds that gc keeps (module docstring): stash-shaped ones
    committed in the last ``max_age_days`` days, others after both that and ``gc.pruneExpire``."""
    if max_age_days <= 0:
        return set()
    out = repo.git("fsck", "--unreachable", "--connectivity-only", "--no-progress", check=False)
    found = [line.split()[2].decode() for line in out.splitlines()
             if line.startswith(b"unreachable commit ")]
    if not found:
        return set()
    cutoff = time.time() - max_age_days * 86400
    any_cutoff = max(cutoff, prune_cutoff(repo))
    kept: set[str] = set()
    for rec in repo_records(repo, ["log", "--no-walk=unsorted", "--stdin", "--format=%H %ct %P%x00%s"],
                            ("\n".join(found) + "\n").encode(), b"\n"):
        head, _, subject = rec.partition(b"\0")
        words = head.split()
        if len(words) < 2 or not words[1].isdigit():
            continue
        ct = int(words[1])
        if ct >= any_cutoff or (ct >= cutoff and len(words) in (4, 5) and _STASH_SUBJECT.match(subject)):
            kept.add(words[0].decode())
    return kept
