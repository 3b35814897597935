"""status: the tracked files that need attention (modified, data missing locally, pointers in the
worktree, data not yet on the default remote), read batch by batch so that memory stays flat."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import MlvError
from ..gitio import attributes, walk
from ..gitio.pointer_cache import PointerBlob
from . import complete
from .context import Workspace
from .data import (
    CONVERTED,
    OTHER,
    _batches,
    _outside_filter,
    _rel_specs,
    is_glob,
    present_oids,
    unmerged_pointers,
    worktree_state,
)
from .scope import fetch_scope

if TYPE_CHECKING:
    import numpy as np

    from ..gitio import indexstat
    from ..gitio.pointer_cache import KeyLookup, PointerCache
    from .remote_state import UnpushedCommits


@dataclass
class Status:
    """Tracked files that need attention."""

    files: int = 0
    modified: list[str] = field(default_factory=list)  # worktree differs from the index
    not_checked_out: list[str] = field(default_factory=list)  # worktree holds the pointer
    missing_data: list[str] = field(default_factory=list)  # no data in the local pool
    not_on_remote: list[str] = field(default_factory=list)
    remote: str | None = None
    sparse: int = 0  # files outside the sparse checkout: neither in the worktree nor needed here
    out_of_scope: int = 0  # pointers without data here, out of mlv.fetchInclude/Exclude on purpose
    remote_problem: str | None = None  # why the remote could not be asked (not_on_remote: cached)
    # pointers committed at paths no pattern sends through filter=mlv now (a file renamed or a
    # pattern dropped): git checked them out as pointer text; not counted in ``files``
    outside_patterns: list[str] = field(default_factory=list)
    # pointers staged at a path no pattern routes through the filter (a `git mv` out of the
    # tracked patterns): git stat-matches them, and once committed a clone gets the pointer text
    staged_outside: list[str] = field(default_factory=list)
    # pointer text with CRLF line ends in the worktree (ops/eol.py): left by a git-mlv before the
    # filter took such text for its pointer; git sees no change (the clean gives the pointer back)
    converted_pointers: list[str] = field(default_factory=list)
    # of the files listed above, those whose `text` attribute is not our `-text` (a later line,
    # `* text=auto` or a folder's `*.csv text`): git converts their pointers' line ends
    # (core.autocrlf=true, eol=crlf) before the filter sees them, so git diff, git archive and
    # other tools see altered pointers. Only listed files are asked: the cost follows them
    text_attribute: list[str] = field(default_factory=list)
    # where the first one's `text` comes from: "FILE:LINE: LINE" (None: not found in the
    # .gitattributes files or info/attributes; a macro or core.attributesFile)
    text_attribute_line: str | None = None
    # conflicted data files (a merge that stopped): path -> git's words ("both modified"); not
    # counted in ``files``. Before, status left them out, and `status PATH` said no tracked file
    # was there
    unmerged: dict[str, str] = field(default_factory=dict)


def status(ws: Workspace, check_remote: bool = True, paths: list[str] | None = None,
           trust_record: bool = False) -> Status:
    """Tracked files (under ``paths``, relative to the current folder, when given): modified, data
    missing locally, not yet on the default remote.

    The index is read in batches, each asked of the pool and of the remote's cached indexes, and
    only what needs attention is kept, so memory stays flat. A status that finds every file of
    the index here, the index being HEAD's tree, records HEAD as complete (ops/complete.py).
    ``trust_record``: when a commit's data is recorded as all here, ask the pool only about the
    files that differ from its tree and those the worktree does not hold as data (the worktree
    has the last word); not for `git mlv fsck`, which is there to find data deleted by hand.
    """
    return _status(ws, check_remote, paths, trust_record, commits=False)[0]


def status_read_only(ws: Workspace) -> tuple[Status, list[str]]:
    """``status`` of every file without the remote, for `git mlv fsck`, which must work on a full
    disk: git's clean filter is not run (it stores what it cleans; before, fsck on a full disk
    failed with "git diff: clean filter 'mlv' failed"). ``modified`` stays empty; the second value
    names the tracked paths whose stat differs from the index: modified, or not (only their
    content could tell)."""
    st, _, dirty = _status(ws, False, None, False, commits=False, read_only=True)
    return st, sorted(os.fsdecode(p) for p in dirty or ())


def status_and_commits(ws: Workspace, check_remote: bool = True, paths: list[str] | None = None
                       ) -> tuple[Status, UnpushedCommits | None]:
    """What `git mlv status` shows: ``status`` trusting the record of complete commits and, with
    the remote and without ``paths``, the local commits whose data the default remote lacks
    (remote_state.commits_not_on_remote). Those are asked first: when every commit, HEAD too, is
    on the remote by its listing, the remote is asked only about the index's files that differ
    from HEAD's tree (the others are HEAD's, whose data is on it). Before, it was asked about
    every file: ~0.2 s at 100,000 files with nothing new."""
    return _status(ws, check_remote, paths, True, commits=check_remote and not paths)[:2]


def _status(ws: Workspace, check_remote: bool, paths: list[str] | None, trust_record: bool,
            commits: bool, read_only: bool = False
            ) -> tuple[Status, UnpushedCommits | None, set[bytes] | None]:
    from ..gitio import indexstat

    specs = _rel_specs(ws, paths)
    if specs:  # first: git would read a damaged one without a word
        indexstat.check_index(ws.repo)
    index_seen = None if specs else indexstat.index_version(ws.repo)
    # git works on the other core meanwhile: with PATHs, `git diff` of them; else the files whose
    # stat differs from the index (git's own lstat pass), of which `git diff` then looks only at
    # our pointers (below: usually none, and git's clean filter is not run at all)
    limit = [(":(top)" if is_glob(s) else ":(top,literal)") + s
             for s in specs] if specs and all(specs) else []
    diff = ws.repo.git_later("diff", "--name-only", "-z", "--", *limit) if specs else None
    # read_only: without the filter, git compares a racily clean file's bytes with its pointer
    # and lists it (the caller takes a listed file as "may have changed")
    no_filter = ["-c", "filter.mlv.process=", "-c", "filter.mlv.clean=",
                 "-c", "filter.mlv.required=false"] if read_only else []
    dirty_later = None if specs else ws.repo.git_later(
        *no_filter, "diff-files", "-z", "--name-only", "--ignore-submodules")
    # the whole index, read (and checked) while git lstat's the files: whether an entry is
    # unmerged (no `git ls-files -u` then, mostly: 0.02-0.2 s at 200,000 files beside diff-files)
    # and, below, the entries that need no look
    table = None if specs else indexstat.read_index(ws.repo, checked=True)
    st = Status()
    st.unmerged = unmerged_pointers(ws, specs) if table is None or table.unmerged() else {}
    scope = fetch_scope(ws)
    top = ws.repo.top + os.sep
    lookup = None
    unpushed = None
    on_remote_but: set[str] | None = None  # HEAD's data is on the remote: paths differing from it
    if check_remote:
        try:
            from . import remote_state
        except ImportError:  # a build without remotes
            pass
        else:
            try:
                lookup = remote_state.RemoteLookup(ws)
            except MlvError as err:  # .gitmlv unreadable: the local state is still worth saying
                st.remote_problem = str(err)
            if commits and lookup is not None and lookup.name is not None:
                # the lookup has just listed the remote, or failed to: not asked a second time
                unpushed = remote_state.commits_not_on_remote(ws, refresh=False)
    # what is staged (the change being made: usually little), asked of git once for three uses
    head = walk.resolve_commit(ws.repo, "HEAD")
    staging = complete.index_diff(ws, head) if head is not None else None
    changed_files = {p for _, p, in_index in staging if in_index} if staging is not None else None
    if unpushed is not None and not unpushed.files:  # HEAD's data is on the remote
        on_remote_but = changed_files
    elif unpushed is not None and unpushed.verified is not None:
        # a commit verified on the remote: only the index's files that differ from its tree are
        # asked (a local commit not pushed yet). Before, every file: 0.35 s at 200,000 files
        since_verified = complete.index_diff(ws, unpushed.verified)
        if since_verified is not None:
            on_remote_but = {p for _, p, in_index in since_verified if in_index}
    # paths the index has and HEAD lacks (added, or the new name of a `git mv`)
    staged = {p for s, p, _ in staging if s == "A"} if staging is not None else set()
    moved: list[walk.IndexEntry] = []  # staged new paths whose worktree holds the data
    started = complete.start(ws.pool)  # before the pool is looked at (a gc meanwhile shows)
    base = complete.Complete.load(ws).base(started, ws.pool) if trust_record else None
    since = (changed_files if base == head else complete.index_changed_paths(ws, base)
             ) if base is not None else None
    since_base = set(since) if since is not None else None
    batches: Iterable[list[tuple[walk.IndexEntry, PointerBlob]]] | None = None
    quiet = [0]
    quick = dirty_later is not None and since_base is not None and (
        on_remote_but is not None or lookup is None or lookup.name is None)
    # the pointer cache's answer for every entry, also while git lstat's (the answer is the same
    # for the index git then compared, unless another git replaced it meanwhile: asked again)
    known = _known(ws, table) if quick and table is not None else None
    table = table if known is not None else None  # else not kept through a walk of every file
    try:
        dirty = {p for p in dirty_later().split(b"\0") if p} if dirty_later is not None else None
        if dirty is not None and quick and since_base is not None:
            if indexstat.index_version(ws.repo) != index_seen:
                known = None
            # every file git's stat data says is as it was, whose data the record says is here
            # and whose data the remote holds (or no remote is asked), is only counted
            batches = _loud_batches(ws, dirty, since_base | (on_remote_but or set()) | staged, quiet,
                                    known)
        for batch in batches if batches is not None else _batches(ws, specs, unmerged=st.unmerged):
            # a CONVERTED file is listed apart (ops/eol.py)
            raw = [None if e.skip_worktree else worktree_state(top + e.path, pb) for e, pb in batch]
            here = _present(ws, batch, raw, since_base)
            st.converted_pointers += [e.path for (e, _), state in zip(batch, raw) if state == CONVERTED]
            states = [None if state is None else state not in (OTHER, CONVERTED) for state in raw]
            if staged:
                moved += [e for (e, _), pointer in zip(batch, states) if pointer is False
                          and e.path in staged]
            # only files the worktree holds as pointers can be outside the patterns unnoticed
            # (git wrote them as text); usually none, so git is usually not asked
            outside = _outside_filter(ws, [e for (e, _), pointer in zip(batch, states) if pointer])
            st.files += len(batch) - len(outside)
            for (e, pb), pointer in zip(batch, states):
                if pointer is None:
                    st.sparse += 1
                    continue
                if outside and e.path in outside:
                    st.outside_patterns.append(e.path)
                    continue
                if pb.oid not in here:
                    if pointer and scope.limited and not scope(e.path):
                        st.out_of_scope += 1  # left out on purpose: counted, not listed
                        continue
                    st.missing_data.append(e.path)
                if pointer:
                    st.not_checked_out.append(e.path)
            ask = here if on_remote_but is None else {
                pb.oid for e, pb in batch if e.path in on_remote_but and pb.oid in here}
            if lookup is not None and lookup.name is not None and ask:
                # the remote is asked per batch: memory follows the batch (data not here is
                # reported as missing, not as unpushed)
                lacking = lookup.lacking(ask)
                if lacking:
                    st.not_on_remote += [e.path for e, pb in batch
                                         if pb.oid in lacking and e.path not in outside]
    finally:
        if lookup is not None:
            lookup.close()
    st.files += quiet[0]
    if lookup is not None and st.files:
        st.remote = lookup.name
        st.remote_problem = lookup.problem
    if read_only:
        changed = []
    elif diff is not None:
        changed = [os.fsdecode(c) for c in diff().split(b"\0") if c]
    else:
        changed = _changed(ws, dirty or set())
    if changed:  # which of them are ours: usually a few paths, looked up by pathspec
        st.modified = sorted(e.path for e, _ in walk.index_pointers(ws.repo, changed))
    if moved:
        st.staged_outside = sorted(_outside_filter(ws, moved))
    _text_attribute(ws, st)
    if not (specs or st.unmerged or st.missing_data or st.sparse or st.out_of_scope or st.outside_patterns) \
            and head is not None and head != base and staging == []:
        # the index is HEAD's tree, and every pointer of it is here
        complete.Complete.load(ws).save(started, [head])
    return st, unpushed, dirty


def _known(ws: Workspace, table: indexstat.IndexTable | None
           ) -> tuple[indexstat.IndexTable, KeyLookup, PointerCache] | None:
    """``table`` (read now when None) with the pointer cache's answer for each of its entries;
    None when the index is not read here."""
    from ..gitio import indexstat

    table = indexstat.read_index(ws.repo) if table is None else table
    if table is None:
        return None
    cache = walk.cache_of(ws.repo)
    return table, cache.lookup_keys(table.keys()), cache


def _loud_batches(ws: Workspace, dirty: set[bytes], listed: set[str], quiet: list[int],
                  known_now: tuple[indexstat.IndexTable, KeyLookup, PointerCache] | None = None
                  ) -> Iterator[list[tuple[walk.IndexEntry, PointerBlob]]] | None:
    """The index's pointers that need a look, in batches as walk.index_pointer_batches gives
    them, counting the others in ``quiet[0]``; None when the index is not read here.

    A pointer needs no look when git's stat data proves its file is what git last saw (not in
    ``dirty``: ``git diff-files``), with a recorded size too big for pointer text (so the
    worktree holds its data), inside the sparse checkout, and its path is not in ``listed``
    (the paths whose presence here or on the remote must be asked). Before, every file was
    listed by git, its pointer looked up and its file stat'ed: 2.1-2.7 s at 200,000 files with
    nothing changed (1.2 s of lstat, 0.9 s of pointer lookups, 0.9 s of `ls-files`).
    ``known_now``: ``_known`` of the index as it is (else read here)."""
    found = known_now or _known(ws, None)
    if found is None:
        return None
    table, known, cache = found
    look = table.suspects({*dirty, *map(os.fsencode, listed)}, known=known) | table.skip_worktree
    wanted = table.stage0_regular & (~known.known | (known.pointer & look))
    quiet[0] = int((table.stage0_regular & known.pointer & ~look).sum())
    return _entry_batches(ws, table, wanted, known, cache)


def _entry_batches(ws: Workspace, table: indexstat.IndexTable, wanted: np.ndarray, known: KeyLookup,
                   cache: PointerCache) -> Iterator[list[tuple[walk.IndexEntry, PointerBlob]]]:
    """The ``wanted`` entries of ``table`` that are pointers, in batches: the cache's answer where
    it knows the blob, else git's (``walk.pointer_blobs``, which teaches the cache)."""
    import numpy as np

    picked = np.flatnonzero(wanted)
    for start in range(0, len(picked), walk._BATCH):
        rows = picked[start:start + walk._BATCH].tolist()
        entries = [table.entry(i) for i in rows]
        asked = walk.pointer_blobs(ws.repo, [e.blob for e, i in zip(entries, rows)
                                             if not known.known[i]], cache=cache)
        batch = []
        for e, i in zip(entries, rows):
            pb = known.blob(i) if known.known[i] else asked.get(e.blob)
            if pb is not None:
                batch.append((e, pb))
        yield batch


def _changed(ws: Workspace, dirty: set[bytes]) -> list[str]:
    """Of ``dirty`` (git's stat differs), the paths whose content differs from the index
    (``git diff``: git's clean filter looks at them), only those of our pointers."""
    if not dirty:
        return []
    names = sorted(os.fsdecode(p) for p in dirty)
    ours = [e.path for e, _ in walk.index_pointers(ws.repo, names)]
    if not ours:
        return []
    spec = [":(top,literal)" + p for p in ours] if len(ours) <= walk._PATHSPEC_MAX else []
    return [os.fsdecode(c) for c in ws.repo.git("diff", "--name-only", "-z", "--", *spec).split(b"\0") if c]


def _present(ws: Workspace, batch: list[tuple[walk.IndexEntry, PointerBlob]], raw: list[str | None],
             changed: set[str] | None) -> set[str]:
    """The data of ``batch`` that is in the pool. ``changed``: the paths that differ from a commit
    recorded complete (None: no record); the others' data is taken as here (their blobs are that
    commit's), except for files the worktree does not hold as data: those are asked, so that data
    deleted by hand is named where it shows."""
    if changed is None:
        return present_oids(ws.pool, (pb.oid for _, pb in batch))
    asked: set[str] = set()
    known: set[str] = set()
    for (e, pb), state in zip(batch, raw):
        # None: outside a sparse checkout, so not in the worktree to say otherwise
        (asked if e.path in changed or state not in (OTHER, None) else known).add(pb.oid)
    return (known - asked) | present_oids(ws.pool, asked)


# Above this many files listed, status first reads the attributes files (attributes.may_set_text)
# rather than ask `git check-attr` about each: ~0.11 s of check-attr per 10,000 paths
_ATTR_ASK_MAX = 10_000


def _text_attribute(ws: Workspace, st: Status) -> None:
    """Fill ``text_attribute`` from the files ``st`` lists (one ``git check-attr`` for them all)."""
    listed = set(st.modified) | set(st.missing_data) | set(st.not_checked_out) | set(st.not_on_remote)
    listed |= set(st.converted_pointers)
    if len(listed) > _ATTR_ASK_MAX and not attributes.may_set_text(ws.repo):
        return  # no line but ours says `text`: asking git about every file listed cost ~11 s
        # at 1,000,000 files (a first commit of a dataset, not yet on the remote)
    st.text_attribute = attributes.text_not_unset(ws.repo, sorted(listed))
    if st.text_attribute:
        source = attributes.text_source(ws.repo.top, ws.repo.common_dir, st.text_attribute[0])
        if source is not None:
            st.text_attribute_line = f"{source[0]}:{source[1]}: {source[2]}"
