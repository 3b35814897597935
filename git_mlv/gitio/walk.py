"""Finding pointers in git: in the index, in trees of revisions, in what a checkout changed, and
everything gc must keep.

Pointers are small blobs (< 1024 bytes). Which blob is a pointer is answered by the pointer cache
(gitio/pointer_cache.py) when many are asked at once, else by git: object sizes first, then only the
small blobs' contents, each step one ``git cat-file`` for the whole batch.

Why ``git`` subprocesses and not libgit2 (pygit2) in process: measured here (docs/design-notes.md),
pygit2's import alone costs ~90 ms, more than any in-process read saves on these workloads; ``git
rev-list`` walks history faster than a Python loop over libgit2 trees, and ``ls-files`` reads a
sparse index, which libgit2 1.9 refuses ("unsupported mandatory extension: 'sdir'").
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from ..core.pointer import MAX_SIZE, Pointer
from ..errors import MlvError, UsageError
from .git import GitError, Repo
from .pointer_cache import PointerBlob, PointerCache, folder
from .quickgit import raw_diff_paths

ZERO_OID = "0" * 40
# git's id of the empty blob (SHA-1 and SHA-256 repositories): a tracked empty file is stored as
# itself, not as a pointer (docs/pointer-spec.md rule 10), and is still data
EMPTY_BLOBS = frozenset({"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
                         "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"})
# Below this many blobs, read them from git rather than open the cache: opening it checks every
# cache file's checksum (~3 ms for 50,000 entries), one `git cat-file` costs ~5 ms, and a checkout
# that changed a few files should cost what a few files cost.
_CACHE_MIN = 64
# Up to this many paths are looked up in the index by pathspec; beyond, the whole index is listed
# once: git matches every pathspec against every entry (1,000 pathspecs on 50,000 entries: 0.4 s,
# the whole listing: 0.03 s).
_PATHSPEC_MAX = 32
# Index entries resolved at a time: memory stays flat while each batch still makes one vectorised
# lookup. Holding every entry at once, `git mlv status` peaked at 87 MB on 50,000 files, ~50 MB
# above its start (measured before batches): at 600,000 files that is over 0.6 GB.
_BATCH = 20_000
# Bytes of git's output split into records at a time (repo_records): large reads, few system calls.
_READ = 1 << 20
_REGULAR_TEXT = {"100644": 0o100644, "100755": 0o100755}
_BATCH_HEADER = re.compile(rb"[0-9a-f]{40,64} (blob|tree|commit|tag) ([0-9]+)\Z")


class IndexEntry(NamedTuple):
    """A stage-0 regular file in the index."""

    path: str
    mode: int
    blob: str
    skip_worktree: bool  # outside a sparse checkout: git does not write it, neither do we


def cache_of(repo: Repo) -> PointerCache:
    """The pointer cache of ``repo``'s pool."""
    return PointerCache(folder(repo.mlv_dir))


def repo_run(repo: Repo, args: list[str], input: bytes, env: dict[str, str] | None = None) -> bytes:
    """Run git in ``repo`` with ``input`` on stdin (and ``env`` as its whole environment)."""
    from .git import run

    return run(args, cwd=repo.worktree or repo.git_dir, input=input, env=env)


def repo_records(repo: Repo, args: list[str], input: bytes, sep: bytes = b"\0") -> Iterator[bytes]:
    """Run git in ``repo`` with ``input`` on stdin and yield its output's records as they arrive
    (``Repo.git_records`` with an input): memory stays flat whatever the output's size (``rev-list
    --objects`` of a first push of 600,000 files prints ~45 MB)."""
    proc = subprocess.Popen(["git", *args], cwd=repo.worktree or repo.git_dir, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
    assert stdin is not None and stdout is not None and stderr is not None
    errors: list[bytes] = []

    def feed() -> None:  # a thread: neither pipe can block the other
        try:
            stdin.write(input)
            stdin.close()
        except BrokenPipeError:
            pass

    def drain() -> None:
        errors.append(stderr.read())

    threads = [threading.Thread(target=f, daemon=True) for f in (feed, drain)]
    for t in threads:
        t.start()
    try:
        rest = b""
        while chunk := stdout.read(_READ):
            parts = (rest + chunk).split(sep)
            rest = parts.pop()
            yield from parts
        if rest:
            yield rest
        for t in threads:
            t.join()
        if proc.wait() != 0:
            msg = b"".join(errors).decode(errors="replace").strip().splitlines()
            raise GitError(f"git {args[0]}: {msg[-1] if msg else 'failed'}")
    finally:
        if proc.poll() is None:  # the caller stopped early
            proc.kill()
            proc.wait()
        stdout.close()


# -- reading objects -----------------------------------------------------------------------------
def _cat_file(repo: Repo, option: str, oids: list[str]) -> subprocess.Popen[bytes]:
    """``git cat-file OPTION`` fed ``oids`` by a thread while the caller reads the answers: memory
    stays flat and there is no round trip per object (git answers in order, and neither pipe can
    block the other)."""
    proc = subprocess.Popen(["git", "cat-file", option], cwd=repo.worktree or repo.git_dir,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    stdin = proc.stdin
    assert stdin is not None

    def feed() -> None:
        try:
            for start in range(0, len(oids), 4096):
                stdin.write(("\n".join(oids[start:start + 4096]) + "\n").encode())
            stdin.close()
        except BrokenPipeError:
            pass  # git died; the reader sees the end of its output

    threading.Thread(target=feed, name="cat-file-feed", daemon=True).start()
    return proc


def read_blobs(repo: Repo, oids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(oid, content) of each object, streamed from one ``git cat-file --batch`` (for small blobs:
    each content is read whole)."""
    todo = list(dict.fromkeys(oids))
    if not todo:
        return
    proc = _cat_file(repo, "--batch", todo)
    out = proc.stdout
    assert out is not None
    try:
        for _ in todo:
            header = out.readline().split()
            if len(header) < 3:  # "<oid> missing"
                yield header[0].decode() if header else "", b""
                continue
            size = int(header[2])
            data = out.read(size)
            out.read(1)  # the LF after the content
            yield header[0].decode(), data
    finally:
        out.close()
        proc.wait()


def read_at_revisions(repo: Repo, wanted: Iterable[tuple[str, str]]
                      ) -> dict[tuple[str, str], bytes | None]:
    """Content of each (revision, path) blob, None where that revision has no such file; one
    ``git cat-file --batch`` for all (metrics and params across revisions)."""
    keys = list(dict.fromkeys(wanted))
    if not keys:
        return {}
    if any("\n" in r or "\n" in p for r, p in keys):
        raise MlvError("revision names and paths with a newline are not supported")
    raw = repo_run(repo, ["cat-file", "--batch"], "".join(f"{r}:{p}\n" for r, p in keys).encode("utf-8"))
    out: dict[tuple[str, str], bytes | None] = {}
    pos = 0
    for key in keys:
        eol = raw.index(b"\n", pos)
        m = _BATCH_HEADER.match(raw[pos:eol])
        pos = eol + 1
        if m is None:  # "<name> missing" or "<name> ambiguous": no content follows
            out[key] = None
            continue
        size = int(m.group(2))
        out[key] = raw[pos:pos + size] if m.group(1) == b"blob" else None
        pos += size + 1
    return out


def resolve(repo: Repo, names: list[str]) -> list[tuple[str, str] | None]:
    """The (oid, type) each object name (``REV``, ``REV^{commit}``, ``REV:PATH``) resolves to, None
    where it names nothing; one ``git cat-file --batch-check`` for all (metrics across 1,000 tags
    started three git processes a tag)."""
    if not names:
        return []
    if any("\n" in n for n in names):
        raise MlvError("revision names and paths with a newline are not supported")
    raw = repo_run(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                   "".join(f"{n}\n" for n in names).encode("utf-8"))
    out: list[tuple[str, str] | None] = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        oid, _, kind = line.partition(" ")  # else "<name> missing" (or "ambiguous")
        known = kind in ("blob", "tree", "commit", "tag") and re.fullmatch(r"[0-9a-f]{40,64}", oid)
        out.append((oid, kind) if known else None)
    return out


def object_sizes(repo: Repo, oids: Iterable[str]) -> dict[str, int]:
    """Size of each blob among ``oids`` (other objects and missing ones are left out)."""
    todo = list(oids)
    if not todo:
        return {}
    proc = _cat_file(repo, "--batch-check=%(objectname) %(objecttype) %(objectsize)", todo)
    assert proc.stdout is not None
    sizes = {}
    with proc.stdout:
        for line in proc.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[1] == b"blob":
                sizes[parts[0].decode()] = int(parts[2])
    proc.wait()
    return sizes


def pointer_blobs(repo: Repo, oids: Iterable[str], sizes: dict[str, int] | None = None,
                  cache: PointerCache | None = None) -> dict[str, PointerBlob]:
    """The objects among ``oids`` that are pointer blobs: object id -> (pointer, blob length).

    ``sizes`` (object id -> size, e.g. from ``ls-tree -l``) spares asking git for them; an id
    missing from it is taken as "not a small blob". ``cache``: an opened pointer cache (callers
    asking in batches open it once); without it, one is opened for _CACHE_MIN ids or more.
    """
    todo = list(dict.fromkeys(oids))
    if cache is None and len(todo) >= _CACHE_MIN:
        cache = cache_of(repo)
    found: dict[str, PointerBlob | None] = {}
    if cache is not None:
        found, todo = cache.lookup(todo)
    if todo:
        learned: dict[str, PointerBlob | None] = dict.fromkeys(todo)
        if sizes is None:
            sizes = object_sizes(repo, todo)
        small = [o for o in todo if sizes.get(o, MAX_SIZE) < MAX_SIZE]
        for oid, data in read_blobs(repo, small):
            p = Pointer.try_parse(data)
            if p is not None:
                learned[oid] = PointerBlob(p.oid, p.size, len(data))
        found.update(learned)
        if cache is not None:
            cache.add(learned)
    return {o: pb for o, pb in found.items() if pb is not None}


# -- the index -----------------------------------------------------------------------------------
def under_pathspecs(under: list[str] | None) -> list[str] | None:
    """Literal pathspecs for these repository-relative files or folders, or None (list
    everything) when one is the top ("") or when there are more than _PATHSPEC_MAX of them: a
    command given one folder lists that folder, not the whole repository. Entries outside may
    still be listed then: callers keep their own filter."""
    if not under or not all(under) or len(under) > _PATHSPEC_MAX:
        return None
    return [":(top,literal)" + u for u in under]


def iter_index_entries(repo: Repo, paths: list[str] | None = None, under: list[str] | None = None,
                       attr: str | None = None) -> Iterator[IndexEntry]:
    """Stage-0 regular files of the index (all, or those at these exact repository paths, or at
    and under these files and folders: ``under``, see ``under_pathspecs``, or whose attributes say
    ``attr``, e.g. ``filter=mlv``: git's ``attr:`` pathspec magic), as git lists them: the whole
    index is never held in memory.

    ``git ls-files -s -t``: the tag ``S`` marks skip-worktree entries (sparse checkouts); git
    expands a sparse index for ``ls-files``, so every file is listed.
    """
    args = ["ls-files", "-s", "-t", "-z"]
    wanted: set[str] | None = None
    limit = under_pathspecs(under) if paths is None else None
    if attr is not None:
        limit = [f":(attr:{attr})"]
    if limit:
        args = [*args, "--", *limit]
    if paths is not None:
        if not paths:
            return
        if len(paths) <= _PATHSPEC_MAX:
            args = ["--literal-pathspecs", *args, "--", *paths]
        else:
            wanted = set(paths)
    new = tuple.__new__  # IndexEntry() without its Python frame: one per tracked file
    for record in repo.git_records(*args):
        meta, _, path = record.decode("utf-8", errors="surrogateescape").partition("\t")  # = fsdecode
        tag, mode, blob, stage = meta.split(" ")
        if stage == "0" and mode in _REGULAR_TEXT and (wanted is None or path in wanted):
            yield new(IndexEntry, (path, _REGULAR_TEXT[mode], blob, tag == "S"))


def index_entries(repo: Repo, paths: list[str] | None = None) -> list[IndexEntry]:
    """``iter_index_entries`` as a list."""
    return list(iter_index_entries(repo, paths))


def index_pointer_batches(repo: Repo, paths: list[str] | None = None, under: list[str] | None = None
                          ) -> Iterator[list[tuple[IndexEntry, PointerBlob]]]:
    """Index entries that are pointers, with their pointers, in batches of at most _BATCH entries
    (all, or at these exact paths, or at and under ``under`` as ``iter_index_entries`` lists
    them): status, checkout and the hooks stay flat in memory at any size."""
    cache: PointerCache | None = None
    batch: list[IndexEntry] = []

    def resolve(entries: list[IndexEntry]) -> list[tuple[IndexEntry, PointerBlob]]:
        nonlocal cache
        if cache is None and len(entries) >= _CACHE_MIN:
            cache = cache_of(repo)  # opened once for every batch
        ptrs = pointer_blobs(repo, (e.blob for e in entries), cache=cache)
        return [(e, ptrs[e.blob]) for e in entries if e.blob in ptrs]

    for e in iter_index_entries(repo, paths, under):
        batch.append(e)
        if len(batch) >= _BATCH:
            yield resolve(batch)
            batch = []
    if batch:
        yield resolve(batch)


def index_pointers(repo: Repo, paths: list[str] | None = None
                   ) -> list[tuple[IndexEntry, PointerBlob]]:
    """Index entries that are pointers, with their pointers (all, or at these exact paths)."""
    return [pair for batch in index_pointer_batches(repo, paths) for pair in batch]


def changed_paths(repo: Repo, old: str, new: str) -> list[str]:
    """Paths whose content differs between commits ``old`` and ``new`` and that are files in ``new``."""
    raw = repo.git("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", old, new)
    return raw_diff_paths(raw)


def staged_paths(repo: Repo) -> list[str]:
    """Paths whose index content differs from HEAD's and that are files in the index."""
    raw = repo.git("diff-index", "--cached", "-z", "--no-renames", "HEAD")
    return raw_diff_paths(raw)


def resolve_commit(repo: Repo, rev: str) -> str | None:
    """The commit ``rev`` names, or None."""
    out = repo.git_text("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
    return out or None


# -- trees and history ---------------------------------------------------------------------------
def iter_pointers(repo: Repo, revs: list[str], under: list[str] | None = None
                  ) -> Iterator[tuple[str, Pointer]]:
    """(path, pointer) of every pointer blob in the trees of ``revs`` (a path may repeat across
    revs); with ``under``, those at and under these files and folders (see ``under_pathspecs``)."""
    for batch in pointer_batches(repo, revs, under):
        yield from batch


def pointer_batches(repo: Repo, revs: list[str], under: list[str] | None = None
                    ) -> Iterator[list[tuple[str, Pointer]]]:
    """``iter_pointers`` in batches of at most _BATCH tree entries, the trees' listing streamed:
    memory stays flat at any number of files (before, every small blob's id and path of the trees
    was held at once, ~1 KB a tracked file for `git mlv fetch`). The paths of one blob are listed
    in the order of the trees, split across batches when they are _BATCH entries apart."""
    cache: PointerCache | None = None
    limit = under_pathspecs(under)
    batch: list[tuple[str, str, int]] = []  # (blob, path, size)

    def resolve(entries: list[tuple[str, str, int]]) -> list[tuple[str, Pointer]]:
        nonlocal cache
        if cache is None and len(entries) >= _CACHE_MIN:
            cache = cache_of(repo)  # opened once for every batch
        ptrs = pointer_blobs(repo, (b for b, _, _ in entries), {b: n for b, _, n in entries}, cache=cache)
        return [(path, ptrs[b].pointer) for b, path, _ in entries if b in ptrs]

    for rev in revs:
        try:
            for item in repo.git_records("ls-tree", "-r", "-l", "-z", "--full-tree", rev,
                                         *(["--", *limit] if limit else [])):
                meta, _, path = item.partition(b"\t")
                mode, kind, oid, size = meta.split()
                if kind == b"blob" and size != b"-" and int(size) < MAX_SIZE:
                    batch.append((oid.decode(), os.fsdecode(path), int(size)))
                    if len(batch) >= _BATCH:
                        found, batch = resolve(batch), []  # not both alive while the caller works
                        yield found
        except GitError:
            if repo.git_text("rev-parse", "--verify", "-q", f"{rev}^{{tree}}", check=False):
                raise
            raise UsageError(f"{rev!r} names no commit here (a typo, or a ref not fetched yet?)") from None
    if batch:
        yield resolve(batch)


def reflog_commits(repo: Repo, max_age_days: float) -> set[str]:
    """Commits named by reflog entries newer than ``max_age_days`` (all worktrees; the stash: all)."""
    cutoff = time.time() - max_age_days * 86400
    roots = [os.path.join(repo.common_dir, "logs")]
    wt_dir = os.path.join(repo.common_dir, "worktrees")
    if os.path.isdir(wt_dir):
        roots += [os.path.join(wt_dir, w, "logs") for w in os.listdir(wt_dir)]
    found: set[str] = set()
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                keep_all = path.endswith(os.path.join("refs", "stash"))
                with open(path, "rb") as f:
                    for line in f:
                        head = line.split(b"\t", 1)[0].split()
                        if len(head) < 4:
                            continue
                        try:
                            ts = int(head[-2])
                        except ValueError:
                            continue
                        if keep_all or ts >= cutoff:
                            found.update(h.decode() for h in head[:2] if h.strip(b"0"))
    return found


def reachable_pointer_batches(repo: Repo, reflog_days: float = 90.0, here_only: bool = False
                              ) -> Iterator[dict[str, PointerBlob]]:
    """The pointer blobs gc must keep (blob id -> pointer blob), _BATCH listed objects at a
    time, the listing streamed: reachable from any ref (all worktrees' HEADs), any index, stash
    entries, reflog entries of the last ``reflog_days`` days, and the unreachable commits git still
    holds that gc keeps (``gcroots.kept_unreachable``: dropped stash entries, a removed worktree's
    commits). A pointer may come in several batches (one per blob holding it).

    ``here_only`` (the local gc): in a partial clone (``--filter=blob:none``), leave out the blobs
    it never fetched instead of fetching them, one `git fetch` each (git's lazy fetch: rev-list
    needs each blob's size for the filter). Their data cannot be in this pool: a checkout, `git
    mlv fetch`/`pull` and a commit all have the pointer blob here; another clone of a shared pool
    keeps its own. Never for a remote's gc, which must see every pointer of history."""
    args = ["rev-list", "--objects", "--all", "--indexed-objects", f"--filter=blob:limit={MAX_SIZE - 1}",
            *(["--missing=allow-promisor"] if here_only else []), "--stdin"]
    from .gcroots import kept_unreachable  # it reads git through this module

    existing = existing_commits(repo, reflog_commits(repo, reflog_days)
                                | kept_unreachable(repo, reflog_days))
    listing = repo_records(repo, args, ("\n".join(existing) + "\n").encode() if existing else b"", b"\n")
    # commits are listed bare, trees and blobs with " <path>": only the latter can be pointers
    objs = (rec[:rec.index(b" ")].decode() for rec in listing if b" " in rec)
    cache = cache_of(repo)
    # a listing that fails (a damaged repository) raises: gc must not take what it could not list
    # for dead (before the listing streamed, a failure counted as an empty listing)
    while todo := list(itertools.islice(objs, _BATCH)):
        yield pointer_blobs(repo, todo, cache=cache)


def reachable_pointers(repo: Repo, reflog_days: float = 90.0) -> dict[str, Pointer]:
    """oid -> pointer for every pointer gc must keep (``reachable_pointer_batches`` as one dict:
    for the commands that need each pointer's size, not for gc)."""
    return {pb.oid: pb.pointer for b in reachable_pointer_batches(repo, reflog_days) for pb in b.values()}


def existing_commits(repo: Repo, oids: set[str]) -> list[str]:
    """Which of ``oids`` name a commit in this repository."""
    return [hit[0] for hit in resolve(repo, list(oids)) if hit is not None and hit[1] == "commit"]


def all_ref_pointers(repo: Repo) -> dict[str, Pointer]:
    """oid -> pointer for pointers in any commit reachable from any ref (push --all, du)."""
    return reachable_pointers(repo, reflog_days=0)
