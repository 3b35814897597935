"""``git mlv get / import / update``: data from another repository, and where it came from
(docs/imports.md). Returns data; the CLI renders it.

Every check (source reachable, revision known, PATH present, data on the source's remote, no local
changes at OUT) passes and every file's data is in a pool before OUT is touched; then each file
is written atomically, and only files whose content changed are written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.pointer import Pointer
from ..errors import NotARepository, UsageError
from ..gitio import attributes, walk
from ..gitio.git import GitError
from ..gitio.pointer_cache import PointerBlob
from ..gitio.source import git_url, local_path, ls_remote
from ..pipeline import importrec, spec
from ..pipeline.importrec import ImportRecord, listing_digest
from .context import Workspace
from .data import OTHER, worktree_state

if TYPE_CHECKING:  # the pool (numpy) is imported when data moves: `status` only asks git
    from ..core.pool import Pool
    from .import_source import Source

ProgressFn = Callable[[int, int], None]
_GIT_FILES = {".gitmlv", ".gitmlv.lock", ".gitattributes", ".gitignore", ".gitmodules"}
_SHOW = 5


@dataclass
class Imported:
    """What ``get``, ``import`` or ``update`` did for one OUT."""

    out: str  # as shown to the user: as given (get) or root-relative (import, update)
    url: str
    path: str
    rev: str
    commit: str
    files: int = 0
    size: int = 0
    written: int = 0  # files written (the others already held these bytes)
    removed: int = 0  # files deleted because the source no longer has them
    bytes_received: int = 0  # from the source's data remote
    old_commit: str | None = None  # update: the commit recorded before
    up_to_date: bool = False  # update: nothing changed
    # get: files written as the git-mlv pointer text they hold (plain files of the source, outside
    # its filter=mlv lines: a clone checks them out as that text too)
    pointer_text: list[str] = field(default_factory=list)


@dataclass
class SourceState:
    """Whether an import's source still names the recorded commit (for ``status``)."""

    out: str
    url: str
    rev: str
    commit: str
    now: str | None = None  # the commit the source names now (None: unknown)
    error: str | None = None  # the source could not be asked

    @property
    def moved(self) -> bool:
        """True when the source names another commit now."""
        return self.now is not None and self.now != self.commit


@contextmanager
def _scratch() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="git-mlv-import-") as d:
        yield d


def _options_for(ws: Workspace | None) -> Callable[[str], Mapping[str, str]]:
    """Settings for a source's data remote: those of a remote of ours with the same URL."""
    def options(url: str) -> Mapping[str, str]:
        if ws is None:
            return {}
        from . import remote_config

        for rc in remote_config.remotes(ws).values():
            if rc.url == url:
                return rc.options
        return {}
    return options


def _retry(ws: Workspace | None):  # type: ignore[no-untyped-def]
    from ..remotes.transfer import RetryPolicy
    from .sync import retry_policy

    return retry_policy(ws) if ws is not None else RetryPolicy()


def _default_out(path: str) -> str:
    return path.rsplit("/", 1)[-1]


# -- writing OUT ---------------------------------------------------------------------------------
def _files_under(root: str) -> set[str]:
    """Relative paths of every file (and symlink) below ``root``."""
    found = set()
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            found.add(os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/"))
    return found


def _materialize(pool: Pool, out_abs: str, source: Source, current: Mapping[str, tuple[str, int]],
                 stale: set[str], whole: bool) -> tuple[int, int]:
    """Make ``out_abs`` hold ``source``'s files; (files written, files removed).

    ``current``: rel -> (oid, mode) of files already holding those bytes (not rewritten);
    ``stale``: files of the previous import; ``whole``: also delete any other file there.
    """
    if source.kind == "file":
        if os.path.isdir(out_abs) and not os.path.islink(out_abs):
            shutil.rmtree(out_abs)
        f = source.files[0]
        if current.get("") == (f.oid, f.mode) and os.path.isfile(out_abs):
            return 0, 0
        pool.restore_to(f.oid, out_abs, executable=f.mode == 0o100755)
        return 1, 0
    if os.path.lexists(out_abs) and not os.path.isdir(out_abs):
        os.unlink(out_abs)
    new = {f.rel for f in source.files}
    old = set(stale) | (_files_under(out_abs) if whole and os.path.isdir(out_abs) else set())
    removed = 0
    for rel in sorted(old - new, reverse=True):  # first: a new file may take a deleted folder's name
        full = os.path.join(out_abs, rel)
        if os.path.lexists(full):
            os.unlink(full)
            removed += 1
        parent = os.path.dirname(full)
        while parent.startswith(out_abs + os.sep):
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)
    written = 0
    for f in source.files:
        full = os.path.join(out_abs, f.rel)
        if current.get(f.rel) == (f.oid, f.mode):
            continue
        pool.restore_to(f.oid, full, executable=f.mode == 0o100755)
        written += 1
    os.makedirs(out_abs, exist_ok=True)  # a folder with no files is still the import
    return written, removed


def _result(out: str, source: Source, written: int, removed: int) -> Imported:
    return Imported(out, source.url, source.path, source.rev, source.commit, len(source.files),
                    source.size, written, removed, source.bytes_received,
                    pointer_text=[f.rel or source.path for f in source.files if f.pointer_text])


# -- get -----------------------------------------------------------------------------------------
def get(url: str, path: str, out: str | None = None, rev: str = "", force: bool = False,
        cwd: str | None = None, progress: ProgressFn | None = None) -> Imported:
    """Download ``path`` of ``url`` at ``rev`` to ``out``: untracked, nothing recorded."""
    from ..core.pool import Pool
    from ..core.settings import Settings
    from .import_source import clean_source_path, read_source

    cwd = cwd or os.getcwd()
    path = clean_source_path(path)
    out = out or _default_out(path)
    out_abs = os.path.abspath(os.path.join(cwd, out))
    if os.path.lexists(out_abs) and not force:
        raise UsageError(f"{out} already exists; use --force to replace it")
    if cwd == out_abs or cwd.startswith(out_abs.rstrip(os.sep) + os.sep) or \
            os.path.lexists(os.path.join(out_abs, ".git")):
        raise UsageError(f"{out} holds the current folder or a repository; name a new place with -o")
    try:
        ws: Workspace | None = Workspace.discover(cwd)
        settings = ws.settings if ws is not None else Settings()
    except NotARepository:
        ws, settings = None, Settings()
    with _scratch() as scratch:
        pool = Pool(os.path.join(scratch, "pool"), settings)
        try:
            source = read_source(scratch, url, path, rev, cwd, pool, os.path.join(scratch, "remote"),
                                 _options_for(ws), _retry(ws), progress)
            pool.writer().commit()
            pool.refresh()
            written, removed = _materialize(pool, out_abs, source, {}, set(), whole=True)
        finally:
            pool.close()
    return _result(out, source, written, removed)


# -- import --------------------------------------------------------------------------------------
def _record_url(url: str, top: str, cwd: str) -> str:
    """The URL as recorded: a relative local path becomes relative to the repository's root."""
    if local_path(git_url(url, cwd)) is None or os.path.isabs(os.path.expanduser(url)) or \
            url.startswith("file://"):
        return url
    return os.path.relpath(os.path.join(cwd, url), top).replace(os.sep, "/")


def _check_filter(ws: Workspace) -> None:
    """UsageError unless git runs git-mlv's filter here: without it `git add` would put the
    imported bytes into git itself."""
    if not ws.repo.config.get("filter.mlv.process") and not ws.repo.config.get("filter.mlv.clean"):
        raise UsageError("git-mlv's filter is not installed for this repository; "
                         "run `git mlv install` (or `git mlv install --local`) first")


def _check_out_path(ws: Workspace, out: str, records: Mapping[str, ImportRecord]) -> None:
    if out in _GIT_FILES:
        raise UsageError(f"{out} is git's or git-mlv's own file; choose another place with -o")
    owner = spec.load(ws.repo).owner_of(out)
    if owner is not None:
        raise UsageError(f"{out} is an output of stage {owner!r}; import to another place with -o")
    for other in records:
        if other != out and (out.startswith(other + "/") or other.startswith(out + "/")):
            raise UsageError(f"{out} overlaps the import at {other}; choose another place with -o")


def _index_listing(ws: Workspace, out: str, known: dict[str, tuple[str, int]] | None = None
                   ) -> tuple[dict[str, tuple[str, int, int]], list[str]]:
    """Our index under ``out``: rel -> (sha256, mode, size) of its pointers; paths that are not.
    ``known`` receives blob id -> (sha256, size) of those pointers."""
    entries = walk.index_entries(ws.repo, [out])
    entries = [e for e in entries if e.path == out or e.path.startswith(out + "/")]
    ptrs = walk.pointer_blobs(ws.repo, [e.blob for e in entries])
    listing: dict[str, tuple[str, int, int]] = {}
    others = []
    for e in entries:
        pb = ptrs.get(e.blob)
        rel = "" if e.path == out else e.path[len(out) + 1:]
        if pb is None:
            others.append(e.path)
        else:
            listing[rel] = (pb.oid, e.mode, pb.size)
            if known is not None:
                known[e.blob] = (pb.oid, pb.size)
    return listing, others


def _local_changes(rec: ImportRecord, listing: dict[str, tuple[str, int, int]], others: list[str],
                   modified: set[str], deleted: frozenset[str] = frozenset(),
                   untracked: list[str] | None = None) -> list[str]:
    """Why ``rec.out`` differs from what was imported (a few reasons), or [] when it does not."""
    why = [f"{p} is not git-mlv data" for p in others[:_SHOW]]
    # a file of the user's in the folder: `git add -A OUT` staged it as part of the import
    why += [f"{p} is a file of yours, not from the source" for p in (untracked or [])[:_SHOW]]
    if rec.is_dir:
        digest = listing_digest((rel, mode, oid, size) for rel, (oid, mode, size) in listing.items())
        if digest != rec.listing:
            why.append(f"files under {rec.out} were changed, added or removed since the import")
    elif rec.oid is None or listing.get("", ("",))[0] != rec.oid.removeprefix("sha256:"):
        why.append(f"{rec.out} was changed since the import")
    why += [f"{p} is {'deleted' if p in deleted else 'modified'}" for p in sorted(modified)][:_SHOW]
    return why


def _record(out: str, url: str, source: Source, old: ImportRecord | None) -> ImportRecord:
    rec = ImportRecord(out, url, source.path, source.commit, source.size, source.rev,
                       extra=old.extra if old else [])
    if source.kind == "dir":
        rec.files = len(source.files)
        rec.listing = listing_digest((f.rel, f.mode, f.oid, f.size) for f in source.files)
    else:
        rec.oid = "sha256:" + source.files[0].oid
    return rec


def _stage(ws: Workspace, rec: ImportRecord, old_pattern: str | None) -> None:
    """Track ``rec.out``, record it, and stage OUT, .gitattributes and .gitmlv."""
    from . import setup

    pattern = _pattern(rec)
    if old_pattern and old_pattern != pattern:
        setup.untrack(ws, [old_pattern])
    setup.track(ws, [pattern])
    records = importrec.load(ws.repo)
    records[rec.out] = rec
    importrec.save(ws.repo, records)
    ws.pool.writer().commit()  # the filter `git add` starts finds the data already stored
    ws.repo.git("--literal-pathspecs", "add", "-A", "--", rec.out, ".gitattributes", spec.FILENAME)


def _pattern(rec: ImportRecord) -> str:
    """The ``.gitattributes`` pattern of an import's output: that path (a folder: everything under
    it), from the root, its glob characters escaped."""
    return attributes.anchored(rec.out, rec.is_dir)


def _read(ws: Workspace, scratch: str, url: str, path: str, rev: str,
          progress: ProgressFn | None, known: dict[str, tuple[str, int]] | None = None) -> Source:
    from .import_source import read_source

    source = read_source(scratch, url, path, rev, ws.repo.top, ws.pool,
                         os.path.join(ws.repo.mlv_dir, "imports"), _options_for(ws), _retry(ws), progress,
                         known)
    texts = [f.rel or path for f in source.files if f.pointer_text]
    if texts:  # under our filter=mlv line its clean would keep that text as a pointer with no data
        shown = ", ".join(texts[:_SHOW]) + (f" and {len(texts) - _SHOW} more" if len(texts) > _SHOW else "")
        raise UsageError(f"{len(texts)} plain file(s) of {path} in {url} hold git-mlv pointer text, which "
                         f"git-mlv cannot track as data: {shown}; import the files beside them, or "
                         "`git mlv get` (untracked) copies them as they are")
    ws.pool.writer().commit()
    ws.pool.refresh()
    return source


def import_(ws: Workspace, url: str, path: str, out: str | None = None, rev: str = "",
            force: bool = False, cwd: str | None = None,
            progress: ProgressFn | None = None) -> Imported:
    """Download ``path`` of ``url`` at ``rev`` to ``out``, track it and record the source."""
    from .import_source import clean_source_path

    top = ws.repo.top
    cwd = cwd or os.getcwd()
    path = clean_source_path(path)
    _check_filter(ws)
    out_rel = spec.normalize_path(out or _default_out(path), top, cwd)
    records = importrec.load(ws.repo)
    _check_out_path(ws, out_rel, records)
    out_abs = os.path.join(top, out_rel)
    if not force:
        if out_rel in records:
            raise UsageError(f"{out_rel} is already imported from {records[out_rel].url}; "
                             f"`git mlv update {out_rel}` moves it (--force imports again)")
        if os.path.lexists(out_abs) or walk.index_entries(ws.repo, [out_rel]):
            raise UsageError(f"{out_rel} already exists; use --force to replace it")
    old = records.get(out_rel)
    rurl = _record_url(url, top, cwd)
    with _scratch() as scratch:
        source = _read(ws, scratch, rurl, path, rev, progress)
        stale = set(_index_listing(ws, out_rel)[0])
        written, removed = _materialize(ws.pool, out_abs, source, {}, stale, whole=True)
    rec = _record(out_rel, rurl, source, old)
    _stage(ws, rec, _pattern(old) if old else None)
    return _result(out_rel, source, written, removed)


# -- update --------------------------------------------------------------------------------------
def _select(ws: Workspace, outs: list[str] | None, cwd: str) -> list[ImportRecord]:
    records = importrec.load(ws.repo)
    if not outs:
        if not records:
            raise UsageError("there are no imports here; bring one in with `git mlv import URL PATH`")
        return [records[o] for o in sorted(records)]
    chosen = []
    for o in outs:
        rel = spec.normalize_path(o, ws.repo.top, cwd)
        if rel not in records:
            known = ", ".join(sorted(records)) or "none"
            raise UsageError(f"{o} is not an import (imports: {known})")
        chosen.append(records[rel])
    return chosen


def _checked_out(ws: Workspace, out: str, listing: Mapping[str, tuple[str, int, int]],
                 modified: set[str]) -> dict[str, tuple[str, int]]:
    """Files of the index listing whose work-tree file holds that data (not the pointer, not
    ``modified``): those need no writing when the source has the same bytes."""
    top = os.path.join(ws.repo.top, out)
    held = {}
    for rel, (oid, mode, size) in listing.items():
        if (f"{out}/{rel}" if rel else out) in modified:
            continue
        full = os.path.join(top, rel) if rel else top
        plen = len(Pointer(oid, size).encode())  # worktree_state's one-lstat test needs it
        if worktree_state(full, PointerBlob(oid, size, plen)) == OTHER:
            held[rel] = (oid, mode)
    return held


def update(ws: Workspace, outs: list[str] | None = None, rev: str | None = None,
           force: bool = False, cwd: str | None = None,
           progress: ProgressFn | None = None) -> list[Imported]:
    """Move imports to their source's current commit (or to ``rev``); one result each."""
    cwd = cwd or os.getcwd()
    chosen = _select(ws, outs, cwd)
    _check_filter(ws)
    states = {}
    known: dict[str, tuple[str, int]] = {}  # our pointers' blob ids: not fetched from the source again
    for rec in chosen:  # every refusal before any change
        listing, others = _index_listing(ws, rec.out, known)
        modified = {os.fsdecode(p) for p in ws.repo.git("diff", "--name-only", "-z", "--", rec.out)
                    .split(b"\0") if p}
        top = ws.repo.top  # `git diff --name-only` lists deleted files too: name them so
        deleted = frozenset(p for p in modified if not os.path.lexists(os.path.join(top, p)))
        untracked = [os.fsdecode(p) for p in ws.repo.git(
            "--literal-pathspecs", "ls-files", "--others", "--exclude-standard", "-z", "--", rec.out)
            .split(b"\0") if p]
        why = _local_changes(rec, listing, others, modified, deleted, untracked)
        if why and not force:
            raise UsageError(f"{rec.out} has local changes ({why[0]}); commit or undo them, "
                             "or use --force to overwrite them")
        states[rec.out] = (listing, bool(why), _checked_out(ws, rec.out, listing, modified))
    results = []
    for rec in chosen:
        listing, changed, current = states[rec.out]
        want_rev = rec.rev if rev is None else rev
        if not changed and want_rev == rec.rev and len(current) == len(listing) \
                and _names_now(ws, rec.url, want_rev) == rec.commit:
            # the source still names the recorded commit: one ls-remote, nothing fetched
            results.append(Imported(rec.out, rec.url, rec.path, rec.rev, rec.commit,
                                    rec.files if rec.files is not None else 1, rec.size,
                                    old_commit=rec.commit, up_to_date=True))
            continue
        with _scratch() as scratch:
            source = _read(ws, scratch, rec.url, rec.path, want_rev, progress, known)
            new = _record(rec.out, rec.url, source, rec)
            same = (new.commit, new.oid, new.listing, new.rev) == (rec.commit, rec.oid, rec.listing, rec.rev)
            if same and not changed and len(current) == len(listing):
                res = _result(rec.out, source, 0, 0)
                res.old_commit, res.up_to_date = rec.commit, True
                results.append(res)
                continue
            # --force over local changes: the folder holds the source's files and nothing else
            written, removed = _materialize(ws.pool, os.path.join(ws.repo.top, rec.out), source,
                                            current, set(listing), whole=changed)
        _stage(ws, new, _pattern(rec))
        res = _result(rec.out, source, written, removed)
        res.old_commit = rec.commit
        results.append(res)
    return results


# -- status --------------------------------------------------------------------------------------
def _pinned(rev: str) -> bool:
    return len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)


def _names_now(ws: Workspace, url: str, rev: str) -> str | None:
    """The commit ``rev`` of ``url`` names now (a pinned rev: itself); None when unknown."""
    if _pinned(rev):
        return rev
    try:
        return ls_remote(git_url(url, ws.repo.top), rev)
    except GitError:
        return None  # the fetch that follows says what is wrong


def source_states(ws: Workspace) -> list[SourceState]:
    """Each import with the commit its source names now: one ``git ls-remote`` per distinct
    (URL, rev); a pinned rev (a full commit id) is not asked. Empty when there are no imports."""
    path = os.path.join(ws.repo.top, spec.FILENAME)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            if "[import" not in f.read():
                return []  # the common case costs one read, not a git process
    except FileNotFoundError:
        return []
    out = []
    asked: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for rec in sorted(importrec.load(ws.repo).values(), key=lambda r: r.out):
        st = SourceState(rec.out, rec.url, rec.rev, rec.commit)
        if _pinned(rec.rev):
            st.now = rec.rev
        else:
            key = (rec.url, rec.rev)
            if key not in asked:
                try:
                    now = ls_remote(git_url(rec.url, ws.repo.top), rec.rev)
                    asked[key] = (now, None if now else f"{rec.rev or 'HEAD'} is gone from {rec.url}")
                except GitError as e:
                    asked[key] = (None, f"cannot reach {rec.url}: {str(e).split(': ', 1)[-1]}")
            st.now, st.error = asked[key]
        out.append(st)
    return out

