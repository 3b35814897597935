"""Which commits a data remote is known to hold the data of, so that checks walk only what is new.

A commit is *verified* on a remote when the data of every pointer reachable from it (its tree and
its whole history) was found in the remote's indexes. The pre-push hook and ``git mlv status`` walk
``git rev-list --objects TIPS --not VERIFIED``: only commits not verified yet, so 1,000 pushes of
small commits cost what each small commit costs. The frontier is kept small (``git merge-base
--independent``): verifying a commit covers its ancestors.

Stored in ``<pool>/remotes/<name>/verified`` (text)::

    git-mlv verified v1
    url <the remote's URL>
    pack <remote pack name>      one line per pack the remote listed when this was written
    commit <hex id>              the verified frontier, newest first

It is trusted while the URL is the same and every listed pack is still on the remote: a pack that
disappeared (a remote gc, a deletion, another remote at that URL) may have taken data with it, and
then everything is walked and checked again once.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..core import idarray as ida
from ..core.fsutil import atomic_write, makedirs
from ..gitio import walk
from ..gitio.git import GitError
from ..gitio.pointer_cache import PointerBlob
from .context import Workspace

HEADER = "git-mlv verified v1"
MAX_FRONTIER = 64  # more independent tips than this: keep the newest (the rest is re-walked)


@dataclass
class Verified:
    """The verified frontier of one data remote."""

    path: str
    url: str
    commits: list[str] = field(default_factory=list)
    packs: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, cache_dir: str, url: str) -> Verified:
        """Read ``<cache_dir>/verified``; empty when absent, unreadable or for another URL."""
        v = cls(os.path.join(cache_dir, "verified"), url)
        try:
            with open(v.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError):
            return v
        if not lines or lines[0] != HEADER or len(lines) < 2 or lines[1] != f"url {url}":
            return v
        for line in lines[2:]:
            key, _, value = line.partition(" ")
            if key == "pack":
                v.packs.add(value)
            elif key == "commit" and _is_hex_id(value):
                v.commits.append(value)
        return v

    def still_valid(self, packs_now: Iterable[str]) -> bool:
        """True when every pack seen at verification is still on the remote."""
        return self.packs <= set(packs_now)

    def reset(self) -> None:
        """Forget everything: the next walk checks all history."""
        self.commits, self.packs = [], set()

    def save(self, ws: Workspace, tips: Iterable[str], packs_now: Iterable[str]) -> None:
        """Add ``tips`` (now verified) to the frontier and write the file atomically."""
        commits = _independent(ws, [*dict.fromkeys([*commits_of(ws, tips), *self.commits])])
        self.commits = commits[:MAX_FRONTIER]
        self.packs = set(packs_now)
        text = [HEADER, f"url {self.url}", *(f"pack {p}" for p in sorted(self.packs)),
                *(f"commit {c}" for c in self.commits)]
        makedirs(os.path.dirname(self.path))
        atomic_write(self.path, ("\n".join(text) + "\n").encode())


def _is_hex_id(s: str) -> bool:
    return len(s) in (40, 64) and all(c in "0123456789abcdef" for c in s)


def commits_of(ws: Workspace, revs: Iterable[str]) -> list[str]:
    """The commits ``revs`` name (annotated tags peeled); others and unknown ones dropped."""
    revs = [r for r in revs if r]
    if not revs:
        return []
    out = walk.repo_run(ws.repo, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                        ("\n".join(f"{r}^{{commit}}" for r in revs) + "\n").encode())
    return [p[0] for p in (line.split() for line in out.decode().splitlines())
            if len(p) == 2 and p[1] == "commit"]


def _independent(ws: Workspace, commits: list[str]) -> list[str]:
    """``commits`` without those reachable from another one (order kept)."""
    if len(commits) <= 1:
        return commits
    try:
        keep = set(ws.repo.git_text("merge-base", "--independent", *commits).split())
    except GitError:
        return commits
    return [c for c in commits if c in keep]


@dataclass
class NewPointers:
    """Pointer blobs reachable from some tips but not from the verified commits."""

    ids: np.ndarray  # their file ids: sorted unique raw 32-byte ids (remotes/pushplan.py)
    skipped: int = 0  # objects a partial clone never fetched, left out (``here_only``)
    # with ``blobs``: each listed pointer blob's file id and its git blob id (raw bytes), aligned
    listed: np.ndarray | None = None
    blob_ids: np.ndarray | None = None

    def blobs_of(self, oids: np.ndarray) -> set[str]:
        """The git blob ids (hex) of the listed pointers to these file ids."""
        assert self.listed is not None and self.blob_ids is not None
        return {b.tobytes().hex() for b in self.blob_ids[np.isin(self.listed, oids)]}


def pointers_since(ws: Workspace, tips: list[str], verified: list[str], here_only: bool = False,
                   blobs: bool = False) -> NewPointers:
    """Pointers in ``rev-list --objects TIPS --not VERIFIED``: the cost follows what is new, and
    memory holds 32 bytes per new file (a first push of 600,000 files held ~1 KB a file as Python
    strings in dicts and sets: 748 MB, bench/RESULTS.md).

    ``here_only`` (status): in a partial clone, leave out the blobs it never fetched rather than
    have git fetch each one (its lazy fetch: one `git fetch` per old version of a data file);
    their data is not here to push. ``skipped`` counts them: what was left out is not verified.
    ``blobs``: also keep each pointer's git blob id (52 more bytes a file), for ``blobs_of``: status
    walked every new object a second time to find them (13 s of 47 at 1,000,000 unpushed files)."""
    skipped = [0]
    parts, listed, blob_parts = [], [], []
    for batch in _pointer_batches(ws, tips, verified, skipped if here_only else None):
        # the file ids in the batch's order, once: sorted and unique (``ids_of``) for ``ids``
        aligned = np.frombuffer(bytes.fromhex("".join(pb.oid for pb in batch.values())), dtype=ida.ID)
        parts.append(ida.ids_of(aligned))
        if blobs and batch:
            listed.append(aligned)
            raw = bytes.fromhex("".join(batch))
            blob_parts.append(np.frombuffer(raw, dtype=f"V{len(raw) // len(batch)}"))
    out = NewPointers(ida.merge(parts), skipped[0])
    if blobs:
        out.listed = np.concatenate(listed) if listed else np.empty(0, ida.ID)
        out.blob_ids = np.concatenate(blob_parts) if blob_parts else np.empty(0, "V20")
    return out


def _pointer_batches(ws: Workspace, tips: list[str], verified: list[str],
                     skipped: list[int] | None = None) -> Iterator[dict[str, PointerBlob]]:
    """The pointer blobs of ``rev-list --objects TIPS --not VERIFIED``, _BATCH listed objects at a
    time, the listing streamed: memory follows the batch, not the listing. With ``skipped`` (a
    counter), objects this partial clone lacks are counted there instead of fetched."""
    if not tips:
        return
    lines = [*tips, *(f"^{c}" for c in verified)]
    # No --filter=blob:limit: to filter, git reads every listed blob's header (6,000 loose objects
    # at scale 1: 0.3-0.8 s, against 0.08 s for the bare listing, push6); the pointer cache
    # answers for blobs seen before, and only the others are sized (walk.pointer_blobs).
    # --missing=print lists an object this clone lacks as "?<id>" and fetches nothing.
    args = ["rev-list", "--objects", "--ignore-missing",
            *(["--missing=print"] if skipped is not None else []), "--stdin"]
    try:
        # rev-list reads all of stdin before it prints: a short input through a file is safe
        listing = walk.repo_records(ws.repo, args, ("\n".join(lines) + "\n").encode(), sep=b"\n")
        # commits are listed bare, trees and blobs with " <path>": only the latter can be pointers.
        # The pointer cache is opened once for every batch.
        if skipped is not None:
            listing = _counting_missing(listing, skipped)
        objs = (rec[:rec.index(b" ")].decode() for rec in listing if b" " in rec)
        cache = walk.cache_of(ws.repo)
        while batch := list(itertools.islice(objs, _BATCH)):
            yield walk.pointer_blobs(ws.repo, batch, cache=cache)
    except GitError:  # a verified commit gone (gc'd branch) broke the listing: walk without them
        if not verified:
            raise
        yield from _pointer_batches(ws, tips, [], skipped)


def _counting_missing(listing: Iterable[bytes], skipped: list[int]) -> Iterator[bytes]:
    """The records of ``listing``, counting the "?<id>" ones (objects not here) in skipped[0]."""
    for rec in listing:
        if rec.startswith(b"?"):
            skipped[0] += 1
        yield rec


_BATCH = 20_000  # listed objects resolved at a time: ~20 MB of Python objects a batch


def blobs_pointing_to(ws: Workspace, tips: list[str], verified: list[str], oids: Iterable[str],
                      here_only: bool = False) -> set[str]:
    """The git blob ids of the new pointers (as ``pointers_since``) to these files: walked again,
    as keeping a blob id per file would cost more than the whole push (the error path)."""
    wanted = set(oids)
    found: set[str] = set()
    for blobs in _pointer_batches(ws, tips, verified, [0] if here_only else None):
        found.update(b for b, pb in blobs.items() if pb.oid in wanted)
    return found


def paths_pointing_to(ws: Workspace, tips: list[str], verified: list[str], oids: Iterable[str]
                      ) -> dict[str, list[str]]:
    """file oid -> the paths (sorted) at which ``rev-list --objects TIPS --not VERIFIED`` lists a
    new pointer to one of ``oids``: walked again, on the error path only (as ``blobs_pointing_to``).
    git names each listed blob by one path it was met at, so a blob met at several is named once."""
    wanted = set(oids)
    found: dict[str, set[str]] = {}
    lines = [*tips, *(f"^{c}" for c in verified)]
    listing = walk.repo_records(ws.repo, ["rev-list", "--objects", "--ignore-missing", "--stdin"],
                                ("\n".join(lines) + "\n").encode(), sep=b"\n")
    named = (rec.split(b" ", 1) for rec in listing if b" " in rec)
    cache = walk.cache_of(ws.repo)
    while batch := dict(itertools.islice(((o.decode(), p) for o, p in named), _BATCH)):
        for blob, pb in walk.pointer_blobs(ws.repo, batch, cache=cache).items():
            if pb.oid in wanted:
                found.setdefault(pb.oid, set()).add(os.fsdecode(batch[blob]))
    return {o: sorted(ps) for o, ps in found.items()}


def commits_adding(ws: Workspace, tips: list[str], verified: list[str], blobs: set[str],
                   limit: int = 20) -> list[tuple[str, str]]:
    """(commit, subject) of unverified commits that add or change one of ``blobs`` (newest first)."""
    if not blobs:
        return []
    args = ["log", "--raw", "--no-abbrev", "--no-renames", "--format=@%H %s", *tips,
            *(f"^{c}" for c in verified), "--"]
    try:
        out = ws.repo.git_text(*args)
    except GitError:
        return []
    found: list[tuple[str, str]] = []
    current: tuple[str, str] | None = None
    for line in out.splitlines():
        if line.startswith("@"):
            sha, _, subject = line[1:].partition(" ")
            current = (sha, subject)
        elif line.startswith(":") and current is not None:
            meta = line.split("\t", 1)[0].split()
            if len(meta) >= 4 and meta[3] in blobs and (not found or found[-1] != current):
                found.append(current)
                if len(found) >= limit:
                    break
    return found


def tree_pointers_beyond(ws: Workspace, tips: list[str], base: str) -> dict[str, list[str]]:
    """oid -> paths of the pointers in the trees of ``tips`` that differ from the tree of
    ``base``, a commit verified on the remote (its whole tree's data is there): what `git mlv
    push` of those trees has to check, found by ``git diff-tree``. Listing every tree instead
    cost a push after a one-file commit 2.4 s and 133 MB at 100,000 files."""
    out: dict[str, list[str]] = {}
    for oid, _, path in tree_pointer_items_beyond(ws, tips, base):
        out.setdefault(oid, []).append(path)
    return out


def tree_pointer_items_beyond(ws: Workspace, tips: list[str], base: str) -> list[tuple[str, int, str]]:
    """(oid, size, path) of the pointers in the trees of ``tips`` that differ from the tree of
    ``base`` (``git diff-tree``; GitError when ``base`` or a tip is not here): push compares with
    a commit verified on a remote, fetch with one whose data is all in the pool (ops/complete.py).
    Only the changed blobs are read, so the cost follows the change."""
    from ..gitio.quickgit import REGULAR_MODES

    blobs: dict[str, list[str]] = {}
    for tip in tips:
        raw = ws.repo.git("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", base, tip)
        parts = raw.split(b"\0")  # ":<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0"
        for i in range(0, len(parts) - 1, 2):
            meta = parts[i].split()
            if len(meta) >= 5 and int(meta[1], 8) in REGULAR_MODES:
                blobs.setdefault(meta[3].decode(), []).append(os.fsdecode(parts[i + 1]))
    return [(pb.oid, pb.size, path) for blob, pb in walk.pointer_blobs(ws.repo, blobs).items()
            for path in blobs[blob]]
