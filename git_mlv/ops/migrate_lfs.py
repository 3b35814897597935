"""``git mlv migrate from-lfs``: git-lfs pointers and objects become git-mlv pointers and pool data.

A git-lfs pointer names its content by sha256, as ours does, so no file is hashed to find its new
name: the bytes are read from git-lfs's store (``.git/lfs/objects/<aa>/<bb>/<oid>``, or under
``lfs.storage``), stored in the pool, and the sha256 the pool computes while storing must equal
git-lfs's oid (a damaged object stops the migration). ``filter=lfs diff=lfs merge=lfs`` in every
``.gitattributes`` becomes ``filter=mlv diff=mlv merge=mlv``.

Without ``--everything`` the checked-out tree is converted in one new commit; with it every local
branch and tag is rewritten (``migrate_rewrite``). Objects missing locally are all named before
anything changes, with the fix: ``git lfs fetch --all``.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import tempfile
from dataclasses import dataclass, field

from ..core.pointer import MAX_SIZE, Pointer
from ..gitio.catfile import CatFile
from ..gitio.fastexport import Commit, FileChange
from ..gitio.pathmatch import matches
from .context import Workspace
from .migrate import (
    FILE_MODES,
    ImportResult,
    checked_out,
    commit_head,
    ready_to_publish,
    restage,
    staged_conversions,
    tree_files,
)
from .migrate_rewrite import (
    MigrateError,
    ProgressFn,
    RefChange,
    Rewriter,
    check_attributes_clean,
    check_can_rewrite,
    choose_refs,
    remote_only_branches,
)

# Every header git-lfs reads as pointer version 1 (git-lfs's lfs/pointer.go v1Aliases): the alpha's,
# the pre-release's and the public one.
_LFS_VERSIONS = (b"https://git-lfs.github.com/spec/v1", b"https://hawser.github.com/spec/v1",
                 b"http://git-media.io/v/2")
_LFS_OID = re.compile(rb"sha256:([0-9a-f]{64})\Z")
_LFS_EXT = re.compile(rb"ext-([0-9])-[A-Za-z0-9_]+\Z")
_LFS_ATTR = re.compile(r"(?<!\S)(-?)(filter|diff|merge)=lfs(?!\S)")
_MISSING_SHOWN = 5


class MissingLfsObjects(MigrateError):
    """git-lfs objects named in the history are not in the local git-lfs store."""


def _lfs_fields(data: bytes) -> tuple[list[tuple[int, bytes]], str, int] | None:
    """(extension lines as (priority, value), sha256 hex, size) of a git-lfs pointer, else None.

    Read as git-lfs reads one (lfs/pointer.go decodeKV), not only as its clean writes one: lines may
    end in CRLF, the last one without a newline, empty lines are skipped, ``version``, ``oid``,
    ``size`` come in that order with ``ext-`` lines among them, other keys after. A pointer git-lfs
    smudges to the file but this parser refused stayed pointer text: after the migration the file
    checked out as that text."""
    if len(data) >= MAX_SIZE or b"\0" in data:
        return None
    want = [b"version", b"oid", b"size"]
    found: dict[bytes, bytes] = {}
    exts: list[tuple[int, bytes]] = []
    for line in data.split(b"\n"):
        line = line.removesuffix(b"\r")
        if not line:
            continue
        key, sep, value = line.partition(b" ")
        if not sep:
            return None
        if len(found) == len(want):
            continue  # keys after size: git-lfs keeps them, they name nothing we need
        if key != want[len(found)]:
            ext = _LFS_EXT.match(key)
            if ext is None:
                return None
            exts.append((int(ext.group(1)), value))
            continue
        found[key] = value
    if len(found) < len(want) or found[b"version"] not in _LFS_VERSIONS:
        return None
    oid = _LFS_OID.match(found[b"oid"])
    if oid is None or not found[b"size"].isdigit():
        return None
    return exts, oid.group(1).decode(), int(found[b"size"])


def parse_lfs_pointer(data: bytes) -> tuple[str, int] | None:
    """(sha256 hex, size) of a git-lfs pointer, or None when ``data`` is not one."""
    fields = _lfs_fields(data)
    return (fields[1], fields[2]) if fields else None


def lfs_extension_input(data: bytes) -> str | None:
    """The sha256 of the file a git-lfs pointer with ``ext-`` lines was made from, else None.

    git-lfs's clean runs each configured extension (``lfs.extension.NAME.clean``) in priority order
    and stores only the last one's output: the object is *not* the file. Each ``ext-P-NAME
    sha256:X`` line names the input of that extension, so the lowest priority's is the file's own
    sha256 (git-lfs's docs/extensions.md)."""
    fields = _lfs_fields(data)
    if fields is None or not fields[0]:
        return None
    value = min(fields[0])[1]
    first = _LFS_OID.match(value)
    if first is None:
        raise MigrateError(f"a git-lfs pointer has an extension line this migration cannot read: "
                           f"{value.decode(errors='replace')}")
    return first.group(1).decode()


def lfs_attributes(text: bytes, lockable: set[str] | None = None) -> bytes:
    """``.gitattributes`` with every ``filter=lfs``/``diff=lfs``/``merge=lfs`` made ours (and ``-text``
    on those lines, as ``git mlv track`` writes). The patterns of converted lines that keep git-lfs's
    ``lockable`` are added to ``lockable``."""
    lines = text.decode("utf-8", "surrogateescape").split("\n")
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) > 1 and not line.lstrip().startswith("#") and "filter=lfs" in parts[1:]:
            if lockable is not None and "lockable" in parts[1:]:
                lockable.add(parts[0])
            line = _LFS_ATTR.sub(lambda m: f"{m.group(1)}{m.group(2)}=mlv", line)
            if "-text" not in line.split():
                line = line.rstrip() + " -text"
        out.append(line)
    return "\n".join(out).encode("utf-8", "surrogateescape")


def lfs_store(ws: Workspace) -> str:
    """git-lfs's object folder: ``lfs.storage`` (relative to the git dir) or ``<git dir>/lfs``."""
    base = ws.repo.config.get("lfs.storage") or "lfs"
    base = os.path.expanduser(base)
    if not os.path.isabs(base):
        base = os.path.join(ws.repo.common_dir, base)
    return os.path.join(base, "objects")


@dataclass
class _Missing:
    count: int = 0
    examples: list[str] = field(default_factory=list)


class LfsConverter:
    """git-lfs pointer blob -> git-mlv pointer, its object stored in the pool (each blob once)."""

    def __init__(self, ws: Workspace, cat: CatFile, store: bool = True) -> None:
        self.ws = ws
        self.cat = cat
        self.store = store
        self.objects = lfs_store(ws)
        self.files = 0
        self.bytes = 0
        self.missing = _Missing()
        self._cache: dict[str, bytes | None] = {}

    def convert(self, sha: str, path: str) -> bytes | None:
        """Our pointer for blob ``sha`` when it is a git-lfs pointer, else None."""
        if sha in self._cache:
            return self._cache[sha]
        result = None
        info = self.cat.info(sha)
        if info is not None and info[0] == "blob" and 0 < info[1] < MAX_SIZE:
            blob = self.cat.read(sha) or b""
            lfs = parse_lfs_pointer(blob)
            if lfs is not None:
                result = self._store(*lfs, path, blob)
        self._cache[sha] = result
        return result

    def _store(self, oid: str, size: int, path: str, blob: bytes) -> bytes | None:
        obj = os.path.join(self.objects, oid[0:2], oid[2:4], oid)
        if not os.path.exists(obj) and size > 0:
            self.missing.count += 1
            if len(self.missing.examples) < _MISSING_SHOWN:
                self.missing.examples.append(f"{path} ({oid[:12]})")
            return None
        self.files += 1
        self.bytes += size
        if not self.store or self.missing.count:
            return b""  # a dry run, or a run that will stop anyway: count, store nothing
        original = lfs_extension_input(blob)
        if original is not None:  # the object is an extension's output: git-lfs gives the file
            ptr = self._smudged(blob, path)
            if ptr.oid != original:
                raise MigrateError(f"`git lfs smudge` of {path} gave other bytes than the file its pointer "
                                   f"was made from (sha256 {original[:12]}): check its lfs.extension "
                                   f"settings (`git config --get-regexp lfs.extension`)")
            return ptr.encode()
        with open(obj, "rb") if size else open(os.devnull, "rb") as f:
            ptr = self.ws.pool.writer().add_stream(f)
        if (ptr.oid, ptr.size) != (oid, size):
            raise MigrateError(f"git-lfs object {oid[:12]} of {path} is damaged (its content hashes to "
                               f"{ptr.oid[:12]}); run `git lfs fsck` and fetch it again")
        return ptr.encode() if size else b""

    def _smudged(self, blob: bytes, path: str) -> Pointer:
        """The file of a pointer with extension lines, as `git lfs smudge` (which runs each
        extension's smudge command) writes it, stored in the pool."""
        env = {k: v for k, v in os.environ.items() if k != "GIT_LFS_SKIP_SMUDGE"}
        with tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(["git", "lfs", "smudge", "--", path], cwd=self.ws.repo.top,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                        env=env)
            except OSError as e:
                raise MigrateError(f"{path} was stored through a git-lfs extension; undoing it needs "
                                   f"git-lfs ({e.strerror})") from None
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(blob)
            proc.stdin.close()
            ptr = self.ws.pool.writer().add_stream(proc.stdout)  # type: ignore[arg-type]
            proc.stdout.close()
            if proc.wait():
                err.seek(0)
                why = err.read().decode(errors="replace").strip().splitlines()
                raise MigrateError(f"{path} was stored through a git-lfs extension and `git lfs smudge` "
                                   f"failed: {why[-1] if why else f'exit {proc.returncode}'}")
        return ptr

    def check(self) -> None:
        """MissingLfsObjects naming what is missing (nothing has been changed yet)."""
        m = self.missing
        if m.count:
            more = f" and {m.count - len(m.examples)} more" if m.count > len(m.examples) else ""
            raise MissingLfsObjects(
                f"{m.count} git-lfs object(s) are not in {os.path.relpath(self.objects, self.ws.repo.top)}: "
                f"{', '.join(m.examples)}{more}; run `git lfs fetch --all` and try again")


class LfsTransform:
    """The rewrite transform of ``from-lfs``."""

    def __init__(self, conv: LfsConverter) -> None:
        self.conv = conv
        self.lockable: set[str] = set()  # patterns whose converted line keeps `lockable`
        # (folder, pattern) of every filter=lfs line seen so far: parents stream before children
        self.routed: set[tuple[str, str]] = set()
        self._seen: set[str] = set()  # .gitattributes blobs already read for routed
        self._paths: set[str] = set()  # literal patterns with a slash: whole paths
        self._names: set[tuple[str, str]] = set()  # literal names: (folder, name) at any depth below
        self._globs: list[tuple[str, str]] = []
        self._routed_cache: dict[str, bool] = {}  # path -> routed, until a new pattern comes

    def attributes(self, text: bytes) -> bytes:
        """git-lfs's lines made ours."""
        return lfs_attributes(text, self.lockable)

    def _learn(self, commit: Commit) -> None:
        """Add the filter=lfs lines of this commit's .gitattributes files (root and folders)."""
        for ch in commit.changes:
            if (ch.op == "M" and ch.dataref != "inline" and ch.dataref not in self._seen
                    and posixpath.basename(ch.name) == ".gitattributes"):
                self._seen.add(ch.dataref)
                folder = posixpath.dirname(ch.name)
                for line in (self.conv.cat.read(ch.dataref) or b"").decode("utf-8", "replace").splitlines():
                    parts = line.split()
                    if len(parts) > 1 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
                        self._add_route(folder, parts[0])

    def _add_route(self, folder: str, pattern: str) -> None:
        """One filter=lfs pattern; literal ones (`git lfs migrate import --above` writes one per
        file) go to sets, so that a check costs the same with thousands of them."""
        if (folder, pattern) in self.routed:
            return
        self.routed.add((folder, pattern))
        self._routed_cache.clear()
        if any(c in pattern for c in "*?[\\"):
            self._globs.append((folder, pattern))
        elif "/" in pattern.rstrip("/"):
            self._paths.add(posixpath.join(folder, pattern.lstrip("/")))
        else:
            self._names.add((folder, pattern))

    def _is_routed(self, path: str) -> bool:
        """Whether a filter=lfs line of the history so far applies to ``path``.

        Only such blobs are git-lfs's. Before, every blob that looked like a git-lfs pointer was
        converted: a test fixture holding pointer text, at a path git-lfs never filtered, changed
        bytes (or, its oid absent, stopped the migration with a `git lfs fetch` that cannot help)."""
        got = self._routed_cache.get(path)
        if got is None:
            got = self._routed_cache[path] = self._match(path)
        return got

    def _match(self, path: str) -> bool:
        if path in self._paths:
            return True
        parent, name = posixpath.split(path)
        while True:  # a name pattern of this folder's .gitattributes or of one above
            if (parent, name) in self._names:
                return True
            if not parent:
                break
            parent = posixpath.dirname(parent)
        for folder, pattern in self._globs:
            if not folder:
                if matches(pattern, path):
                    return True
            elif path.startswith(folder + "/") and matches(pattern, path[len(folder) + 1:]):
                return True
        return False

    def commit(self, commit: Commit) -> bool:
        """git-lfs pointers become ours; nested .gitattributes files are converted too."""
        changed = False
        self._learn(commit)
        for ch in commit.changes:
            if ch.op != "M" or ch.mode not in FILE_MODES or ch.dataref == "inline":
                continue
            if ch.name.endswith("/.gitattributes"):
                old = self.conv.cat.read(ch.dataref) or b""
                new = lfs_attributes(old, self.lockable)
                if new != old:
                    ch.dataref, ch.data = "inline", new
                    changed = True
                continue
            ptr = self.conv.convert(ch.dataref, ch.name) if self._is_routed(ch.name) else None
            if ptr is not None:
                ch.dataref, ch.data = "inline", ptr
                changed = True
        return changed

    def done(self) -> None:
        """Stop before any ref moves when objects were missing."""
        self.conv.check()


def from_lfs(ws: Workspace, everything: bool = False, dry_run: bool = False,
             progress: ProgressFn | None = None) -> ImportResult:
    """Run ``migrate from-lfs`` (see the module docstring)."""
    check_can_rewrite(ws)
    notes = [] if dry_run else check_attributes_clean(ws)
    result = ImportResult("rewrite" if everything else "no-rewrite", dry_run, [])
    result.warnings += notes
    with CatFile(ws.repo) as cat:
        conv = LfsConverter(ws, cat, store=not dry_run)
        transform = LfsTransform(conv)
        # before the rewrite: their objects are checked with the rest. Left in the index, a staged
        # git-lfs pointer would be committed as pointer text under filter=mlv: a clone gets that text
        staged = staged_conversions(ws, lambda sha, path: _staged_lfs(ws, conv, sha, path))
        if everything:
            done = Rewriter(ws, cat, transform, progress).run(choose_refs(ws, [], True), dry_run=dry_run)
            result.commits, result.rewritten = done.commits, done.rewritten
            result.refs, result.backups = done.refs, done.backups
            result.warnings += done.warnings + (remote_only_branches(ws) if done.refs else [])
        else:
            _head_only(ws, cat, transform, dry_run, result)
        result.files, result.bytes = conv.files, conv.bytes
        if dry_run:
            conv.check()
        elif staged:
            restage(ws, staged)
    if not dry_run:
        result.push, hooks = ready_to_publish(ws, result.refs, forced=everything)
        result.warnings += hooks
        if result.refs and transform.lockable:
            result.warnings.append(_LOCKABLE.format(", ".join(sorted(transform.lockable))))
    return result


# git-lfs's own post-checkout hook (chained after ours) keeps making such files read-only, and only
# `git lfs lock` (git-lfs's server) makes them writable again: git-mlv has no locks
_LOCKABLE = ("{} keep git-lfs's `lockable` attribute: git-lfs still checks those files out read-only "
             "and `git lfs lock` asks git-lfs's server for a lock (git-mlv has no locks); remove "
             "`lockable` from .gitattributes if you no longer lock them")


def _staged_lfs(ws: Workspace, conv: LfsConverter, sha: str, path: str) -> bytes | None:
    """Our pointer for a staged git-lfs pointer at a path git-lfs filters (the work tree's
    attributes: git-lfs's clean made it), else None: a staged file that only holds pointer text
    (a test fixture) is left as it is, as in the history (LfsTransform._is_routed)."""
    info = conv.cat.info(sha)
    if info is None or not 0 < info[1] < MAX_SIZE or parse_lfs_pointer(conv.cat.read(sha) or b"") is None:
        return None
    attr = ws.repo.git("check-attr", "-z", "filter", "--", path).split(b"\0")
    return conv.convert(sha, path) if len(attr) > 2 and attr[2] == b"lfs" else None


def _head_only(ws: Workspace, cat: CatFile, transform: LfsTransform, dry_run: bool,
               result: ImportResult) -> None:
    branch, head = checked_out(ws, "from-lfs")
    commit = Commit("", 0, [], b"", [head], tree_files(ws, head))
    root_attrs = next((c for c in commit.changes if c.path == b".gitattributes"), None)
    transform.commit(commit)
    changes = [c for c in commit.changes if c.dataref == "inline"]
    if root_attrs is not None:
        old = cat.read(root_attrs.dataref) or b""
        new = lfs_attributes(old, transform.lockable)
        if new != old:
            changes.append(FileChange("M", b".gitattributes", root_attrs.mode, "inline", new))
    result.commits, result.rewritten = 1, 1 if changes else 0
    if dry_run and changes:
        result.refs = [RefChange(branch, head, "")]  # the branch a commit would go on; no id yet
    if not dry_run:
        transform.done()
        if changes:
            commit_head(ws, cat, branch, head, changes, b"Convert git-lfs files to git-mlv\n", result)
