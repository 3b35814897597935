"""What the worktree holds compared with the pool, and checkout: what ls-files (ops/ls_files.py),
status (ops/status.py) and pull share.

Costs per tracked file are kept to what cannot be avoided: one ``ls-files`` for the index, the
pointer cache for the pointers (gitio/pointer_cache.py), one vectorised pool lookup for all of
them, and one ``lstat`` per file (a file is opened only when its size is the size of its pointer
text). Files outside a sparse checkout (skip-worktree) are never written, fetched or reported.
"""

from __future__ import annotations

import fnmatch
import os
import stat as stat_mod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.hashing import EMPTY_OID
from ..core.pointer import Pointer
from ..errors import MissingObject, MlvError, UsageError
from ..gitio import attributes, walk
from ..gitio.pointer_cache import PointerBlob
from .context import Workspace

if TYPE_CHECKING:
    from ..core.pool import Pool

ProgressFn = Callable[[int, int], None]

ABSENT, POINTER, OTHER = "absent", "pointer", "other"  # what the worktree holds at a tracked path
# the pointer's text with each LF turned into CRLF: git converted it before the smudge filter saw it
# (a `text` attribute set after our `-text`, with core.autocrlf=true or eol=crlf; ops/eol.py)
CONVERTED = "converted"


def _matches(path: str, specs: list[str] | None) -> bool:
    if not specs:
        return True
    return any(not s or path == s or path.startswith(s.rstrip("/") + "/")
               or (is_glob(s) and fnmatch.fnmatchcase(path, s)) for s in specs)


def is_glob(spec: str) -> bool:
    """True when ``spec`` holds a glob character: it then also matches as git's pathspecs do
    (``*`` and ``?`` match a ``/`` too: `git mlv status 'data/*.csv'` as `git status 'data/*.csv'`).
    Before, such a PATH named "no file tracked by git-mlv"."""
    return any(c in spec for c in "*?[")


def _rel_specs(ws: Workspace, paths: list[str] | None) -> list[str] | None:
    if not paths:
        return None
    top = ws.repo.top
    out = []
    for p in paths:
        rel = os.path.relpath(os.path.abspath(p), top)
        if rel == ".." or rel.startswith(".." + os.sep):
            raise UsageError(f"{p}: outside the repository ({top})")
        out.append("" if rel == "." else rel.replace(os.sep, "/"))
    return out or None


def cwd_prefix(ws: Workspace) -> str:
    """The current folder from the top of the work tree, with a trailing "/" (git's
    ``rev-parse --show-prefix``); "" at the top, in a bare repository, inside ``.git`` or when the
    current folder is not in the work tree (GIT_WORK_TREE elsewhere)."""
    if ws.repo.worktree is None:
        return ""
    here = os.path.relpath(os.path.realpath(os.getcwd()), os.path.realpath(ws.repo.worktree))
    if here == "." or here == ".." or here.startswith(".." + os.sep):
        return ""
    return here.replace(os.sep, "/") + "/"


def worktree_state(full: str, pb: PointerBlob) -> str:
    """ABSENT, POINTER (the worktree file is this pointer's text), CONVERTED (that text with CRLF
    line ends) or OTHER (data, or anything else).

    Decided by ``lstat`` alone unless the file has exactly the pointer text's length, or that
    length plus one CR for each of a plain pointer's three lines.
    """
    try:
        st = os.lstat(full)
    except (FileNotFoundError, NotADirectoryError):
        return ABSENT
    if not stat_mod.S_ISREG(st.st_mode):
        return OTHER
    if st.st_size == pb.length + 3:
        try:
            with open(full, "rb") as f:
                p = Pointer.try_parse(f.read(st.st_size + 1).replace(b"\r\n", b"\n"))
        except OSError:
            return OTHER
        return CONVERTED if p is not None and p.oid == pb.oid else OTHER
    if st.st_size != pb.length:
        return OTHER
    try:
        with open(full, "rb") as f:
            p = Pointer.try_parse(f.read(pb.length + 1))
    except OSError:
        return OTHER
    return POINTER if p is not None and p.oid == pb.oid else OTHER


def present_oids(pool: Pool, oids: Iterable[str]) -> set[str]:
    """Which of these files have their whole content in the pool: one vectorised lookup for all."""
    from ..core import idarray as ida
    from ..core.pack import KIND_CHUNK, KIND_MANIFEST

    wanted = set(oids)
    ids = ida.ids_of(o for o in wanted if o != EMPTY_OID)
    # a file is here if its manifest is, or (a one-chunk file) its chunk (docs/formats.md#index)
    here = pool.contains(ida.keys_of(ids, KIND_MANIFEST)) | pool.contains(ida.keys_of(ids, KIND_CHUNK))
    return set(ida.hexes(ids[here])) | ({EMPTY_OID} & wanted)


def _batches(ws: Workspace, specs: list[str] | None, takes_rev: bool = False,
             unmerged: Iterable[str] = ()) -> Iterator[list[tuple[walk.IndexEntry, PointerBlob]]]:
    """The index's pointers under ``specs`` (repository-relative), in batches; UsageError at the
    end when a spec named no tracked file (as git's "pathspec did not match"), so that a mistyped
    path is not taken for a folder with nothing to do. ``takes_rev``: the verb also takes a
    revision (ls-files), so a word that is neither is told how a missing tag is fetched.
    ``unmerged``: conflicted paths the caller reports itself (``unmerged_pointers``); a spec
    naming only conflicted files is otherwise told so (MlvError), not "no file tracked"."""
    if not specs:
        yield from walk.index_pointer_batches(ws.repo)
        return
    unmatched = {s for s in specs if not any(_matches(u, [s]) for u in unmerged)}
    # literal pathspecs would find no file for a glob: the whole index is listed then, and matched
    under = None if any(is_glob(s) for s in specs) else specs
    for batch in walk.index_pointer_batches(ws.repo, under=under):
        out = [(e, pb) for e, pb in batch if _matches(e.path, specs)]
        if unmatched and out:
            unmatched -= {s for s in unmatched if any(_matches(e.path, [s]) for e, _ in out)}
        yield out
    if unmatched:
        conflicted = unmerged_pointers(ws, sorted(unmatched))
        if conflicted:
            raise MlvError(unmerged_line(*next(iter(conflicted.items()))))
        # the words as typed: relative to the current folder (before, "sub/z.bin" for a "z.bin"
        # typed in sub/, and `git fetch origin sub/z.bin` offered for it)
        prefix = cwd_prefix(ws)
        typed = {u: _typed(prefix, u) for u in unmatched}
        revision = next((typed[u] for u in sorted(unmatched) if u and walk.resolve_commit(ws.repo, typed[u])),
                        None)
        if takes_rev and revision is None and len(specs) == 1 and specs[0] and ws.repo.worktree \
                and not os.path.lexists(os.path.join(ws.repo.worktree, specs[0])):
            word = _typed(prefix, specs[0])
            raise UsageError(f"'{word}' is neither a tracked path nor a revision known here (a tag "
                             "or branch a shallow or single-branch clone lacks? `git fetch --tags` or "
                             f"`git fetch origin {word}` brings it)")
        raise _no_match(unmatched, revision_word=revision, prefix=prefix)


# git status's words for the sides of a conflict an unmerged path has (stages 1 base, 2 ours,
# 3 theirs; wt-status.c)
_CONFLICT_WORDS = {(1, 2, 3): "both modified", (2, 3): "both added", (1, 2): "deleted by them",
                   (1, 3): "deleted by us", (2,): "added by us", (3,): "added by them",
                   (1,): "both deleted"}


def unmerged_pointers(ws: Workspace, specs: list[str] | None = None) -> dict[str, str]:
    """Conflicted paths (stages 1-3 in the index: a merge, rebase, cherry-pick or stash pop that
    stopped) at or under ``specs`` one of whose sides is a git-mlv pointer: path -> git's words
    for the conflict ("both modified"). ``git ls-files -u`` lists only those entries."""
    args = ["ls-files", "-u", "-z"]
    limit = walk.under_pathspecs(specs) if not (specs and any(map(is_glob, specs))) else None
    raw = ws.repo.git(*args, "--", *limit) if limit else ws.repo.git(*args)
    sides: dict[str, dict[int, str]] = {}
    for record in raw.split(b"\0"):
        meta, _, path = os.fsdecode(record).partition("\t")
        parts = meta.split(" ")
        if len(parts) == 3 and _matches(path, specs):
            sides.setdefault(path, {})[int(parts[2])] = parts[1]
    if not sides:
        return {}
    ours = walk.pointer_blobs(ws.repo, {b for s in sides.values() for b in s.values()})
    return {path: _CONFLICT_WORDS.get(tuple(sorted(s)), "unmerged") for path, s in sorted(sides.items())
            if any(b in ours for b in s.values())}


def unmerged_line(path: str, how: str) -> str:
    """What to do about one conflicted data file, in git's words: ``path`` as it is (named
    C-quoted as git names it, shell-quoted in the commands to type)."""
    import shlex

    from ..gitio.quotepath import quote_path

    q, shown = shlex.quote(path), quote_path(path)
    if how in ("deleted by them", "deleted by us", "added by us", "added by them", "both deleted"):
        return (f"{shown} is unmerged ({how}): `git add {q}` keeps the file, `git rm {q}` deletes "
                "it, and marks the conflict resolved")
    return (f"{shown} is unmerged ({how}): `git checkout --ours -- {q}` or `git checkout --theirs -- "
            f"{q}` writes that side's data, then `git add {q}` marks it resolved")


def _typed(prefix: str, spec: str) -> str:
    """A repository-relative ``spec`` as typed in the folder ``prefix`` (``cwd_prefix``)."""
    import posixpath

    return posixpath.relpath(spec or ".", prefix.rstrip("/")) if prefix else spec or "."


def _no_match(specs: Iterable[str], rev: str | None = None,
              revision_word: str | None = None, prefix: str = "") -> UsageError:
    """The error for paths that name no tracked file (at ``rev``: in that commit), named as typed
    in the folder ``prefix``; a word that names a commit (``git mlv checkout v1.0``) is told how
    to switch to it."""
    names = ", ".join(repr(_typed(prefix, s)) for s in sorted(specs))
    at = f" at {rev}" if rev is not None else ""
    if revision_word is not None:
        return UsageError(f"no file tracked by git-mlv is at or under {names}; "
                          f"'{revision_word}' is a revision: `git checkout {revision_word}` switches "
                          "to it (its data comes with it)")
    lister = "git mlv ls-files" + (f" {rev}" if rev is not None else "")
    return UsageError(f"no file tracked by git-mlv{at} is at or under {names} "
                      f"(`{lister}` lists them)")


@dataclass
class CheckoutResult:
    """What ``checkout`` wrote, and what it looked at (``examined``: paths whose worktree file was
    checked; the post-checkout hook's cost follows it, and tests count it)."""

    restored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    missing_oids: dict[str, list[str]] = field(default_factory=dict)  # oid -> paths, for a fetch
    missing_sizes: dict[str, int] = field(default_factory=dict)  # oid -> size, for a fetch
    bytes: int = 0
    examined: int = 0
    # pointers left as they are because no pattern sends their path through filter=mlv now:
    # written as data, git would hash the data itself and stage it over the pointer
    outside_patterns: list[str] = field(default_factory=list)
    # another git process held the index's lock: the files are written, git re-reads them later
    index_locked: bool = False
    # oid -> paths (also in ``missing``): the file's manifest is here but not every chunk it names
    # (a `git mlv prune` killed between two packs); a fetch must not skip them as present
    incomplete: dict[str, list[str]] = field(default_factory=dict)
    # conflicted data files at or under the paths asked (unmerged_pointers): not written
    unmerged: dict[str, str] = field(default_factory=dict)
    # tracked files named by a PATH where the worktree holds a folder: not written
    folders: list[str] = field(default_factory=list)


INDEX_LOCKED = ("another git process held git's index (its index.lock) all along: the files written "
                "are right, and git re-reads them at its next `git status`")


def checkout(ws: Workspace, paths: list[str] | None = None,
             progress: ProgressFn | None = None) -> CheckoutResult:
    """Replace pointer files in the worktree by their data from the pool (index version).

    ``paths`` are the user's (files or folders, relative to the current directory). Without
    them, only the files git's stat data says may be pointers are looked at (gitio/indexstat.py).
    """
    from ..gitio import indexstat

    specs = _rel_specs(ws, paths)
    indexstat.check_index(ws.repo)  # git would list a damaged one's garbage without a word
    conflicted = unmerged_pointers(ws, specs)
    res = None
    if not paths:
        suspects = indexstat.worktree_suspects(ws.repo)
        if suspects is not None:
            res = _restore(ws, indexstat.pointer_batches(ws.repo, suspects), progress)
    if res is None:
        res = _restore(ws, _batches(ws, specs, unmerged=conflicted), progress)
    res.unmerged = conflicted
    # a PATH naming a tracked file where a folder is now: nothing is written there (the folder
    # and what it holds are the user's), and before, nothing was said either
    top = ws.repo.top + os.sep
    folders = [s for s in specs or () if s and os.path.isdir(top + s) and not os.path.islink(top + s)]
    if folders:
        res.folders = sorted(e.path for e, _ in walk.index_pointers(ws.repo, folders) if e.path in folders)
    return res


def checkout_paths(ws: Workspace, paths: list[str] | None, want_missing_oids: bool = False
                   ) -> CheckoutResult:
    """Like ``checkout``, for exact repository paths (what a git checkout changed); None: all.

    ``want_missing_oids``: fill ``missing_oids`` and ``missing_sizes`` (for a fetch) as well as
    ``missing``.
    """
    return _restore(ws, walk.index_pointer_batches(ws.repo, paths), None, want_missing_oids)


def _restore(ws: Workspace, batches: Iterable[list[tuple[walk.IndexEntry, PointerBlob]]],
             progress: ProgressFn | None, want_missing_oids: bool = False) -> CheckoutResult:
    """Restore batch by batch: a clone whose every file stayed a pointer stays flat in memory."""
    top = ws.repo.top + os.sep
    result = CheckoutResult()
    total = 0  # bytes to write, as far as the batches seen so far tell
    for batch in batches:
        todo = []
        for e, pb in batch:
            if e.skip_worktree:
                continue  # outside the sparse checkout: git leaves it out, so do we
            result.examined += 1
            if worktree_state(top + e.path, pb) != OTHER:
                todo.append((e, pb))
        if not todo:
            continue  # the common case after a checkout: no pool, no heavy imports
        outside = _outside_filter(ws, [e for e, _ in todo])
        if outside:
            result.outside_patterns += [e.path for e, _ in todo if e.path in outside]
            todo = [(e, pb) for e, pb in todo if e.path not in outside]
            if not todo:
                continue
        total += sum(pb.size for _, pb in todo)
        pool = ws.pool
        here = present_oids(pool, (pb.oid for _, pb in todo))
        if len(here) < len({pb.oid for _, pb in todo}):
            pool.refresh()  # packs other processes wrote since the pool was opened
            here = present_oids(pool, (pb.oid for _, pb in todo))
        for e, pb in todo:
            if pb.oid not in here:
                result.missing.append(e.path)
                if want_missing_oids:
                    result.missing_oids.setdefault(pb.oid, []).append(e.path)
                    result.missing_sizes[pb.oid] = pb.size
                continue
            try:
                pool.restore_to(pb.oid, top + e.path, executable=e.mode == 0o100755)
            except MissingObject:  # one file's chunk, not the whole command (the rest is written)
                result.missing.append(e.path)
                result.incomplete.setdefault(pb.oid, []).append(e.path)
                result.missing_sizes[pb.oid] = pb.size
                continue
            result.restored.append(e.path)
            result.bytes += pb.size
            if progress:
                progress(result.bytes, total)
    if result.restored:
        # the files changed on disk but match the index once cleaned: let git re-stat them. Not
        # `--refresh`: a size that differs from the index's (the pointer's) marks a file modified
        # without git looking at its content; naming the paths sends them through the filter,
        # which verifies a big one against the pointer its entry holds instead of cleaning it
        # anew (RESTORED_ENV: docs/formats.md#racy-clean)
        result.index_locked = not _restat(ws, result.restored)
    return result


# How long a checkout waits for another git process's index.lock (an editor's background `git
# status`, a second pull) before it leaves the re-stat to git: about 5 s in all
_LOCK_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 2.0)


def _restat(ws: Workspace, paths: list[str]) -> bool:
    """Have git re-stat ``paths`` (written from the pool); False when another git process held
    the index's lock all along. The files are right either way: git then re-reads them at its next
    look (``git status``). Before, the lock made `git mlv pull` fail with "git update-index:
    failed" after writing every file: ``update-index -q`` exits 128 on a taken lock, saying
    nothing (the only failure it keeps quiet about)."""
    import time

    from ..gitio.git import GitError
    from .racyclean import RESTORED_ENV

    names = b"".join(os.fsencode(p) + b"\0" for p in paths)
    for wait in (*_LOCK_WAITS, None):
        try:
            walk.repo_run(ws.repo, ["update-index", "-q", "-z", "--stdin"], names,
                          env={**os.environ, RESTORED_ENV: "1"})
            return True
        except GitError as e:
            if not str(e).endswith(": failed"):  # git said why: not a lock
                raise
            if wait is None:
                return False
            time.sleep(wait)
    return False


def pointers_outside_patterns(ws: Workspace) -> list[str]:
    """Paths whose index entry is a git-mlv pointer that no tracked pattern routes through the
    filter now (after `git mlv untrack`): git would commit the pointer text itself."""
    out: list[str] = []
    for batch in walk.index_pointer_batches(ws.repo):
        out += sorted(_outside_filter(ws, [e for e, _ in batch]))
    return out


def whole_inside_patterns(ws: Workspace) -> list[str]:
    """Paths of regular files git's index holds whole (content, not a pointer) that a tracked
    pattern routes through the filter now (after `git mlv track`): they stay whole in git until
    re-added (as ``setup.stored_whole`` finds under paths). An empty file stays empty as data."""
    entries = [e for e in walk.iter_index_entries(ws.repo, attr="filter=mlv")
               if e.blob not in walk.EMPTY_BLOBS]
    pointers = walk.pointer_blobs(ws.repo, (e.blob for e in entries))
    return sorted(e.path for e in entries if e.blob not in pointers)


def _outside_filter(ws: Workspace, entries: list[walk.IndexEntry]) -> set[str]:
    """The paths of ``entries`` whose attributes do not say ``filter=mlv`` now."""
    paths = [e.path for e in entries]
    return set(paths) - attributes.filtered(ws.repo, paths)


def attributes_left_out(ws: Workspace) -> bool:
    """True when HEAD has a top-level .gitattributes that neither the work tree nor the index
    holds (`git clone --no-checkout`, then `git checkout REV -- data`): git then knows no tracked
    pattern, and the data files it wrote are pointer text."""
    top = ws.repo.worktree
    if top is None or os.path.lexists(os.path.join(top, ".gitattributes")):
        return False
    found = walk.resolve(ws.repo, ["HEAD:.gitattributes", ":0:.gitattributes"])
    return found[0] is not None and found[1] is None


def outside_patterns_hint(paths: list[str], attributes_gone: bool = False) -> str:
    """What to do about pointers committed at paths no tracked pattern covers (``paths``: not
    empty), with commands for the first of them; ``attributes_gone``: ``attributes_left_out``."""
    import shlex

    if attributes_gone:
        return ("the .gitattributes HEAD has, which names the tracked patterns, is not checked out "
                "(`git checkout HEAD -- .gitattributes` brings it), then `git mlv pull` brings "
                "their data")
    first = paths[0]
    name = first.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name.lstrip(".") else ""
    pattern = f"`git mlv track {shlex.quote('*.' + ext)}`, " if ext else ""
    return (f"track their pattern again ({pattern}or the file itself: `git mlv add {shlex.quote(first)}`), "
            "then `git mlv pull` brings their data")


def worktree_pointers(ws: Workspace, paths: list[str] | None = None
                      ) -> tuple[dict[str, list[str]], dict[str, int]]:
    """(oid -> paths, oid -> size) of the index's pointers under ``paths`` that belong in the
    worktree (not skip-worktree)."""
    out: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for batch in worktree_pointer_batches(ws, paths):
        for oid, size, path in batch:
            out.setdefault(oid, []).append(path)
            sizes[oid] = size
    return out, sizes


def worktree_pointer_batches(ws: Workspace, paths: list[str] | None = None
                             ) -> Iterator[list[tuple[str, int, str]]]:
    """(oid, size, path) of the index's pointers under ``paths`` that belong in the worktree (not
    skip-worktree), in batches (walk._BATCH entries): what ``pull`` fetches."""
    for batch in _batches(ws, _rel_specs(ws, paths)):
        items = [(pb.oid, pb.size, e.path) for e, pb in batch if not e.skip_worktree]
        del batch  # one copy of a batch alive while the caller works on it
        yield items
