"""The history-rewrite engine behind ``migrate import``, ``from-lfs`` and ``from-dvc --everything``.

``git fast-export --no-data`` streams every commit of the chosen refs; a *transform* edits each
commit's file changes (a blob becomes a pointer, a ``.dvc`` file becomes the files it names...);
``git fast-import`` writes the new objects. Memory stays flat: the stream is handled one commit at
a time, blobs are read one at a time through one ``cat-file``, and a commit is remembered only as a
bit ("changed") in a bytearray indexed by its mark.

Refs move only at the very end, all in one ``update-ref --stdin`` transaction, together with the
backups of their old values under ``refs/mlv-migrate/``: a kill -9 at any earlier point leaves
every ref as it was (the pool and git's object store then hold unreferenced data that gc collects;
a rerun reuses what is in the pool). When nothing changes, no ref is touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import MlvError
from ..gitio import refs as gitrefs
from ..gitio.catfile import CatFile
from ..gitio.fastexport import SCRATCH, Commit, Exporter, FileChange, Importer, Reset, read_marks, scratch_ref
from .context import Workspace
from .migrate_sync import SameBytes, edited_files, finish_killed_move, sync_after_move

BACKUP = "refs/mlv-migrate/"
ATTRIBUTES = b".gitattributes"
ProgressFn = Callable[[int, int], None]


class MigrateError(MlvError):
    """A migration cannot start or finish; nothing was changed."""


class Transform(Protocol):
    """What a migration does to each commit."""

    def attributes(self, text: bytes) -> bytes:
        """The root ``.gitattributes`` a rewritten commit carries, from the original's (b"" if none)."""
        ...

    def commit(self, commit: Commit) -> bool:
        """Edit ``commit.changes`` in place; True when anything changed."""
        ...

    def done(self) -> None:
        """Called after the last commit, before anything is written: raise to stop the migration."""
        ...


@dataclass
class RefChange:
    """A ref the migration moved."""

    name: str
    old: str
    new: str


@dataclass
class RewriteResult:
    """What a rewrite did."""

    commits: int = 0  # commits read
    rewritten: int = 0  # commits whose content changed (theirs or an ancestor's)
    refs: list[RefChange] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_can_rewrite(ws: Workspace) -> None:
    """MigrateError when a merge, rebase, cherry-pick or bisect is under way, or HEAD is detached."""
    git_dir = ws.repo.git_dir
    for name, what in (("MERGE_HEAD", "a merge"), ("rebase-merge", "a rebase"), ("rebase-apply", "a rebase"),
                       ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert"),
                       ("BISECT_LOG", "a bisect")):
        if os.path.exists(os.path.join(git_dir, name)):
            raise MigrateError(f"{what} is in progress; finish or abort it first")
    if gitrefs.current_branch(ws.repo) is None and ws.repo.git_text("rev-parse", "-q", "--verify", "HEAD",
                                                                    check=False):
        raise MigrateError("HEAD is detached; check out a branch first (`git switch BRANCH`)")


def check_attributes_clean(ws: Workspace) -> list[str]:
    """MigrateError when ``.gitattributes`` has uncommitted changes: the migration rewrites it.

    A migration killed after it moved the checked-out branch and before it updated the index and
    work tree left exactly such changes (the old tree in the index under the new commit): that
    checkout is finished first (``migrate_sync.finish_killed_move``), and the note saying so
    returned, so that the rerun goes on. Before, it stopped here, and `git commit` as told put the
    data back into git."""
    notes: list[str] = []
    with CatFile(ws.repo) as cat:
        finished = finish_killed_move(ws, cat)
    if finished:
        notes.append(f"finished the checkout of the interrupted migration of {finished} (its branch had "
                     "moved; its index and work tree had not)")
    out = ws.repo.git("status", "--porcelain", "-z", "--", ".gitattributes")
    if out.strip(b"\0"):
        raise MigrateError(".gitattributes has uncommitted changes; commit or stash them first")
    return notes


def check_not_edited(ws: Workspace, cat: CatFile, old: str, new: str) -> None:
    """MigrateError when the checked-out branch's move from ``old`` to ``new`` would rewrite files
    (other than data) that have uncommitted changes: left as they were, they contradict the new
    commit (a folder's ``.gitattributes`` still sending files to git-lfs, so that ``git commit -a``
    stores git-lfs pointers again; an uncommitted ``dvc.lock`` whose run the new lock does not know)."""
    edited = edited_files(ws, cat, old, new)
    if edited:
        names = ", ".join(edited[:5]) + (f" (and {len(edited) - 5} more)" if len(edited) > 5 else "")
        raise MigrateError(f"{names}: uncommitted changes to file(s) the migration rewrites; commit or "
                           "stash them first (nothing was changed)")


def choose_refs(ws: Workspace, names: list[str], everything: bool) -> list[gitrefs.Ref]:
    """The refs a rewrite moves: every local branch and tag (``everything``), the named ones, or
    the checked-out branch."""
    if everything:
        refs = gitrefs.list_refs(ws.repo, ["refs/heads/", "refs/tags/"])
    else:
        full = []
        for n in names or []:
            r = gitrefs.resolve(ws.repo, n)
            if r is None:
                raise MigrateError(f"{n!r} is not a branch, tag or ref here")
            full.append(r)
        if not full:
            branch = gitrefs.current_branch(ws.repo)
            if branch is None:
                raise MigrateError("HEAD is detached; check out a branch or name the refs to migrate")
            full = [branch]
        refs = gitrefs.list_refs(ws.repo, full)
        refs = [r for r in refs if r.name in full]
    refs = [r for r in refs if r.kind in ("commit", "tag") and not r.name.startswith((BACKUP, SCRATCH))]
    if not refs:
        raise MigrateError("nothing to migrate: no commits yet")
    return refs


def remote_only_branches(ws: Workspace) -> list[str]:
    """A warning naming the remote-tracking branches that have no local branch of the same name.

    ``--everything`` rewrites local branches and tags only. In a fresh clone the team's other
    branches exist only as ``origin/X``: they were left unconverted without a word, and after the
    push the remote still held them with the old files."""
    local = {r.name.removeprefix("refs/heads/") for r in gitrefs.list_refs(ws.repo, ["refs/heads/"])}
    left = []
    for line in ws.repo.git_text("for-each-ref", "--format=%(refname:short)%00%(symref)",
                                 "refs/remotes/").splitlines():
        name, _, symref = line.partition("\0")
        if symref or "/" not in name:
            continue  # origin/HEAD
        if name.split("/", 1)[1] not in local:
            left.append(name)
    if not left:
        return []
    more = f" and {len(left) - 5} more" if len(left) > 5 else ""
    example = left[0].split("/", 1)
    return [f"{len(left)} remote branch(es) have no local branch and were not converted: "
            f"{', '.join(left[:5])}{more}; to convert them, make local branches "
            f"(`git branch {example[1]} {left[0]}`) and run again"]


class _Bits:
    """A growable bit per mark: which commits changed."""

    def __init__(self) -> None:
        self.data = bytearray(1024)

    def set(self, i: int) -> None:
        if i >= len(self.data):
            self.data.extend(bytes(max(i + 1 - len(self.data), len(self.data))))
        self.data[i] = 1

    def get(self, i: int) -> bool:
        return i < len(self.data) and self.data[i] == 1


class Rewriter:
    """One rewrite of ``refs`` through ``transform``."""

    def __init__(self, ws: Workspace, cat: CatFile, transform: Transform,
                 progress: ProgressFn | None = None, same_bytes: SameBytes | None = None) -> None:
        self.ws = ws
        self.same_bytes = same_bytes
        self.cat = cat
        self.transform = transform
        self.progress = progress
        self._attr_cache: dict[str, bytes] = {}

    def _attributes(self, change: FileChange | None) -> FileChange | None:
        """The rewritten root .gitattributes change for an original one (None: leave it)."""
        if change is not None and change.op == "M" and change.dataref != "inline":
            new = self._attr_cache.get(change.dataref)
            if new is None:
                old = self.cat.read(change.dataref) or b""
                new = self.transform.attributes(old)
                new = self._attr_cache[change.dataref] = new if new != old else b""
            if not new:
                return None
            return FileChange("M", ATTRIBUTES, change.mode, "inline", new)
        text = self.transform.attributes(b"")
        return FileChange("M", ATTRIBUTES, "100644", "inline", text) if text else None

    def _edit(self, c: Commit) -> bool:
        changed = self.transform.commit(c)
        idx = next((i for i, ch in enumerate(c.changes) if ch.path == ATTRIBUTES and ch.op != "raw"), None)
        old = c.changes[idx] if idx is not None else None
        if old is None and c.parents:
            return changed  # inherits the (already rewritten) attributes of its first parent
        if old is not None and old.op == "M" and old.dataref == "inline":
            return changed  # the transform wrote it
        new = self._attributes(old if old is not None and old.op == "M" else None)
        if new is None:
            return changed
        if idx is None:
            c.changes.append(new)
        else:
            c.changes[idx] = new
        return True

    def run(self, refs: list[gitrefs.Ref], dry_run: bool = False) -> RewriteResult:
        """Export, transform, import, then move the refs atomically; returns what changed.

        ``dry_run`` imports nothing and moves nothing; ``refs`` of the result then lists the refs
        that would move, with an empty ``new``.
        """
        repo = self.ws.repo
        result = RewriteResult()
        _delete_scratch(self.ws)
        total = int(repo.git_text("rev-list", "--count", *[r.name for r in refs]) or 0)
        tmp = tempfile.mkdtemp(prefix="mlv-migrate-", dir=repo.common_dir)
        try:
            exported, imported = os.path.join(tmp, "export.marks"), os.path.join(tmp, "import.marks")
            exporter = Exporter(repo, [r.name for r in refs], exported)
            importer: Importer | _NoImport = _NoImport() if dry_run else Importer(repo, imported)
            bits = _Bits()
            try:
                for cmd in exporter.commands():
                    if isinstance(cmd, Reset):
                        importer.write(Reset(scratch_ref(cmd.ref), cmd.source))
                        continue
                    cmd.ref = scratch_ref(cmd.ref)
                    changed = self._edit(cmd) or any(
                        p.startswith(":") and bits.get(int(p[1:])) for p in cmd.parents)
                    if changed:
                        bits.set(cmd.mark)
                        result.rewritten += 1
                    importer.write(cmd)
                    result.commits += 1
                    if self.progress:
                        self.progress(result.commits, total)
                self.transform.done()
                self.ws.close()  # the last pack indexed before any ref names its data
                importer.finish()
            except BaseException:
                importer.kill()
                exporter.kill()
                raise
            if dry_run:
                result.refs = _would_move(refs, exported, bits)
            elif result.rewritten:
                result.refs = self._map_refs(refs, exported, imported)
                moved = {r.name: r for r in result.refs}
                head = gitrefs.current_branch(repo)
                if head in moved:
                    try:
                        check_not_edited(self.ws, self.cat, moved[head].old, moved[head].new)
                    except MigrateError:
                        _delete_scratch(self.ws)
                        raise
                result.backups = self._move(result.refs)
            _delete_scratch(self.ws)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if result.refs and not dry_run:
            head = gitrefs.current_branch(repo)
            moved = {r.name: r for r in result.refs}
            if head in moved:
                result.warnings += sync_after_move(self.ws, self.cat, moved[head].old, moved[head].new,
                                                   self.same_bytes)
        return result

    def _map_refs(self, refs: list[gitrefs.Ref], exported: str, imported: str) -> list[RefChange]:
        peeled = {r.peeled for r in refs}
        marks = read_marks(exported, want_oids=peeled)
        by_oid = {oid: mark for mark, oid in marks.items()}
        new_of = read_marks(imported, want_marks=set(marks))
        changes = []
        for r in refs:
            mark = by_oid.get(r.peeled)
            new_commit = new_of.get(mark) if mark is not None else None
            if new_commit is None or new_commit == r.peeled:
                continue
            new = new_commit
            if r.kind == "tag":
                new = _retag(self.ws, r.oid, r.peeled, new_commit)
            changes.append(RefChange(r.name, r.oid, new))
        return changes

    def _move(self, changes: list[RefChange]) -> list[str]:
        existing = {r.name for r in gitrefs.list_refs(self.ws.repo, [BACKUP])}
        commands, backups = [], []
        for ch in changes:
            commands.append(f"update {ch.name} {ch.new} {ch.old}")
            backup = BACKUP + ch.name.removeprefix("refs/")
            if backup not in existing:  # keep the very first original across several migrations
                commands.append(f"create {backup} {ch.old}")
                backups.append(backup)
        gitrefs.update_atomically(self.ws.repo, commands)
        return backups


class _NoImport:
    """Stands in for fast-import in a dry run."""

    def write(self, command: Commit | Reset) -> None:
        pass

    def finish(self) -> None:
        pass

    def kill(self) -> None:
        pass


def _would_move(refs: list[gitrefs.Ref], exported: str, bits: _Bits) -> list[RefChange]:
    marks = read_marks(exported, want_oids={r.peeled for r in refs})
    by_oid = {oid: mark for mark, oid in marks.items()}
    return [RefChange(r.name, r.oid, "") for r in refs
            if r.peeled in by_oid and bits.get(by_oid[r.peeled])]


def _retag(ws: Workspace, tag_oid: str, old_commit: str, new_commit: str) -> str:
    """A copy of annotated tag ``tag_oid`` (perhaps a tag of a tag) pointing into the new history."""
    target = ws.repo.git_text("cat-file", "-p", tag_oid).split("\n", 1)[0].split()[1]
    if target != old_commit and gitrefs.object_type(ws.repo, target) == "tag":
        return gitrefs.rewrite_tag(ws.repo, tag_oid, _retag(ws, target, old_commit, new_commit))
    return gitrefs.rewrite_tag(ws.repo, tag_oid, new_commit)


def _delete_scratch(ws: Workspace) -> None:
    stale = gitrefs.list_refs(ws.repo, [SCRATCH])
    gitrefs.update_atomically(ws.repo, [f"delete {r.name}" for r in stale])
