"""``git mlv migrate import``: files of a plain-git history become git-mlv pointers.

Rewrite mode (the default) runs every commit of the chosen refs through the rewrite engine
(``migrate_rewrite``): each blob at a chosen path is stored in the pool once (cached by its SHA-1)
and replaced by its pointer, and every commit gets the ``.gitattributes`` lines. ``--no-rewrite``
converts the checked-out tree in one new commit on top. ``--dry-run`` reports what would change.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.pointer import MAX_SIZE, Pointer
from ..errors import UsageError
from ..gitio import attributes
from ..gitio import refs as gitrefs
from ..gitio.catfile import CatFile
from ..gitio.fastexport import Commit, FileChange, Importer, read_marks, scratch_ref
from ..gitio.git import GitError, Repo
from ..gitio.pathmatch import PathFilter
from ..gitio.walk import repo_run
from .context import Workspace
from .migrate_above import literal_pattern, paths_above, paths_above_in
from .migrate_overrides import FilterOverrides
from .migrate_rewrite import (
    MigrateError,
    ProgressFn,
    RefChange,
    Rewriter,
    check_attributes_clean,
    check_can_rewrite,
    check_not_edited,
    choose_refs,
    remote_only_branches,
)
from .migrate_sync import SameBytes, sync_after_move

FILE_MODES = ("100644", "100755")
# files git itself reads: never turned into pointers, whatever the patterns say
GIT_FILES = {".gitattributes", ".gitignore", ".gitmodules", ".mailmap", ".gitmlv", ".gitmlv.lock"}
_CACHE_LIMIT = 1 << 18  # blob -> pointer entries kept (~200 B each): flat memory on huge histories
# git-lfs pointer text (spec v1 and its old name): never data to import, see BlobConverter._lfs


@dataclass
class ImportOptions:
    """What ``migrate import`` should do."""

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    everything: bool = False
    no_rewrite: bool = False
    dry_run: bool = False
    message: str | None = None
    above: int | None = None  # only paths holding a file bigger than this (ops/migrate_above.py)


@dataclass
class ImportResult:
    """What ``migrate import`` did (or, with ``dry_run``, would do)."""

    mode: str  # "rewrite" or "no-rewrite"
    dry_run: bool
    patterns: list[str]
    files: int = 0  # distinct file versions converted
    bytes: int = 0  # their size
    commits: int = 0  # commits read
    rewritten: int = 0  # commits whose content changes
    refs: list[RefChange] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    commit: str | None = None  # the new commit of --no-rewrite
    warnings: list[str] = field(default_factory=list)
    push: list[str] = field(default_factory=list)  # commands that publish the result


class BlobConverter:
    """Blob SHA-1 -> pointer text, storing the content in the pool (each blob once).

    Empty blobs and blobs that already are git-mlv pointers are left as they are (None).
    """

    def __init__(self, ws: Workspace, cat: CatFile, store: bool = True) -> None:
        self.ws = ws
        self.cat = cat
        self.store = store
        self.files = 0
        self.bytes = 0
        self._cache: dict[str, bytes | None] = {}

    def convert(self, sha: str, path: str = "") -> bytes | None:
        """The pointer that replaces blob ``sha`` (at ``path``, named in errors), or None to keep it."""
        if sha in self._cache:
            return self._cache[sha]
        result = self._convert(sha, path)
        if len(self._cache) >= _CACHE_LIMIT:  # forget the older half; they are only re-hashed
            for key in list(self._cache)[: _CACHE_LIMIT // 2]:
                del self._cache[key]
        self._cache[sha] = result
        return result

    def _convert(self, sha: str, path: str) -> bytes | None:
        if not self.store:
            info = self.cat.info(sha)
            if info is None or info[0] != "blob" or info[1] == 0:
                return None
            if info[1] < MAX_SIZE and self._lfs(self.cat.read(sha) or b"", sha, path) is not None:
                return None
            self.files += 1
            self.bytes += info[1]
            return b""
        got = self.cat.open(sha)
        if got is None or got[0] != "blob" or got[1].left == 0:
            return None
        stream = got[1]
        size = stream.left
        if size < MAX_SIZE:
            head = stream.read()
            if self._lfs(head, sha, path) is not None:
                return None
            ptr = self.ws.pool.writer().add_bytes(head)
        else:
            ptr = self.ws.pool.writer().add_stream(stream)  # type: ignore[arg-type]
        self.files += 1
        self.bytes += size
        return ptr.encode()

    @staticmethod
    def _lfs(head: bytes, sha: str, path: str) -> Pointer | None:
        """Our pointer parsed from a small blob, else None; MigrateError for git-lfs pointer text.

        Taken for data, a git-lfs pointer went into the pool as it was: every version checked out
        as git-lfs pointer text while the summary said "Converted". `from-lfs` converts those."""
        from .migrate_lfs import parse_lfs_pointer  # it imports this module

        if head.startswith(b"version ") and parse_lfs_pointer(head) is not None:
            raise MigrateError(
                f"{path or 'a chosen file'} is a git-lfs pointer (blob {sha[:12]}), not data: convert "
                f"git-lfs files with `git mlv migrate from-lfs` first (--everything for the whole history), "
                f"or leave them out with --exclude")
        return Pointer.try_parse(head)


def chosen(path: str, paths: Callable[[str], bool]) -> bool:
    """True when ``path`` is to be converted (git's own dotfiles never are)."""
    return path.rsplit("/", 1)[-1] not in GIT_FILES and paths(path)


class ImportTransform:
    """The rewrite transform of ``migrate import``."""

    def __init__(self, conv: BlobConverter, include: list[str], exclude: list[str],
                 paths: Callable[[str], bool] | None = None) -> None:
        self.conv = conv
        self.include = include
        self.exclude = exclude
        self.paths = paths or PathFilter(include, exclude)
        self.overrides = FilterOverrides()

    def learn(self, changes: list[FileChange]) -> None:
        """Read the folder ``.gitattributes`` files among ``changes`` (see migrate_overrides)."""
        for ch in changes:
            if ch.op == "M" and ch.dataref != "inline" and ch.name.endswith("/.gitattributes"):
                self.overrides.learn(ch.name, ch.dataref, self.conv.cat.read(ch.dataref))

    def wants(self, path: str) -> bool:
        """Whether ``path`` is to become a pointer: chosen, and no folder line keeps it in git."""
        return chosen(path, self.paths) and not self.overrides.keeps_in_git(path)

    def attributes(self, text: bytes) -> bytes:
        """Our lines added to the commit's ``.gitattributes``."""
        return attributes.with_patterns(text, self.include, self.exclude)

    def commit(self, commit: Commit) -> bool:
        """Chosen blobs become inline pointers."""
        changed = False
        self.learn(commit.changes)
        for ch in commit.changes:
            if (ch.op == "M" and ch.mode in FILE_MODES and ch.dataref != "inline"
                    and self.wants(ch.name)):
                ptr = self.conv.convert(ch.dataref, ch.name)
                if ptr is not None:
                    ch.dataref, ch.data = "inline", ptr
                    changed = True
        return changed

    def done(self) -> None:
        """Nothing to check."""


def _patterns(ws: Workspace, include: list[str], above: int | None = None) -> list[str]:
    pats = [p.strip() for item in include for p in item.split(",") if p.strip()]
    if not pats and above is not None:
        pats = ["*"]  # --above alone: any file, chosen by its size
    if not pats:  # the patterns `git mlv track` already wrote
        pats = attributes.patterns(ws.repo.top)
    if not pats:
        raise UsageError("say which files to convert: --include PATTERN (e.g. --include '*.bin,data/**'), "
                         "or `git mlv track PATTERN` first")
    for p in pats:
        if p.startswith("!") or "\n" in p:
            raise UsageError(f"not a usable pattern: {p!r}")
    return pats


def import_files(ws: Workspace, opts: ImportOptions, progress: ProgressFn | None = None) -> ImportResult:
    """Run ``migrate import`` (see the module docstring)."""
    include = _patterns(ws, opts.include, opts.above)
    exclude = [p.strip() for item in opts.exclude for p in item.split(",") if p.strip()]
    if opts.no_rewrite and (opts.everything or opts.refs):
        raise UsageError("--no-rewrite converts the checked-out branch only; drop --everything and REFs")
    check_can_rewrite(ws)
    result = ImportResult("no-rewrite" if opts.no_rewrite else "rewrite", opts.dry_run, include)
    files: list[FileChange] | None = None  # --no-rewrite: the checked-out tree, read once
    refs: list[gitrefs.Ref] | None = None  # a rewrite: the refs it moves
    if opts.no_rewrite:
        branch, head = checked_out(ws, "--no-rewrite")
        files = tree_files(ws, head)
    else:
        refs = choose_refs(ws, opts.refs, opts.everything)
    with CatFile(ws.repo) as cat:
        conv = BlobConverter(ws, cat, store=not opts.dry_run)
        transform = ImportTransform(conv, include, exclude)
        if opts.above is not None:
            big = _above(ws, transform.paths, opts.above, files, refs)
            wanted = set(big)  # exactly these paths, each by its own anchored pattern
            transform = ImportTransform(conv, [literal_pattern(p) for p in big], [],
                                        paths=wanted.__contains__)
            result.patterns = transform.include
            if not transform.include:
                result.warnings.append(f"no file chosen by {', '.join(include)} is bigger than "
                                       f"{opts.above} bytes: nothing to convert")
                return result
        # the checked-out tree's folder lines apply to its staged files and to every commit
        transform.learn(files if files is not None else tree_files(ws, "HEAD"))
        # staged before the migration, at a chosen path: converted too (not in a dry run)
        staged = [] if opts.dry_run else staged_conversions(
            ws, lambda sha, path: conv.convert(sha, path) if transform.wants(path) else None)
        if files is not None:
            _no_rewrite(ws, cat, transform, opts, result, branch, head, files)
        elif refs is not None:
            if not opts.dry_run:
                result.warnings += check_attributes_clean(ws)
            rw = Rewriter(ws, cat, transform, progress)
            done = rw.run(refs, dry_run=opts.dry_run)
            result.commits, result.rewritten = done.commits, done.rewritten
            result.refs, result.backups = done.refs, done.backups
            result.warnings += done.warnings
            result.warnings += (remote_only_branches(ws) if opts.everything and done.refs
                                else left_on_old_history(ws, refs, done.refs))
        result.files, result.bytes = conv.files, conv.bytes
        if (left := transform.overrides.warning()) is not None:
            result.warnings.append(left)
        if staged:
            restage(ws, staged)
    if not opts.dry_run:
        result.push, hooks = ready_to_publish(ws, result.refs, forced=not opts.no_rewrite)
        result.warnings += hooks
    return result


def left_on_old_history(ws: Workspace, chosen_refs: list[gitrefs.Ref], moved: list[RefChange]) -> list[str]:
    """A warning naming the local branches and tags that the rewrite left on the old commits.

    Without --everything only the checked-out branch (or the REFs named) moves, and nothing said
    that the tags of its history still point at the unconverted commits: `git push --tags` (or a
    checkout of the tag) brought the old blobs back. One `git for-each-ref --merged` per moved ref."""
    if not moved:
        return []
    names = {r.name for r in chosen_refs}
    left: list[str] = []
    for ch in moved:
        for ref in ws.repo.git_text("for-each-ref", "--format=%(refname)", f"--merged={ch.old}",
                                    "refs/heads/", "refs/tags/").split():
            if ref not in names and ref not in left:
                left.append(ref)
    if not left:
        return []
    short = [r.removeprefix("refs/heads/").removeprefix("refs/tags/") for r in left]
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    return [f"{len(short)} branch(es)/tag(s) still point at the old, unconverted commits: "
            f"{', '.join(short[:5])}{more}; name them as REFs too, or use --everything, to convert them"]


def _above(ws: Workspace, pick: Callable[[str], bool], above: int, files: list[FileChange] | None,
           refs: list[gitrefs.Ref] | None) -> list[str]:
    """The chosen paths that hold a file bigger than ``above``: in the checked-out tree's ``files``
    (--no-rewrite), else anywhere in the history of ``refs``."""
    if files is not None:
        return paths_above_in(ws, ((ch.name, ch.dataref) for ch in files
                                   if ch.mode in FILE_MODES and chosen(ch.name, pick)), above)
    return paths_above(ws, [r.peeled for r in refs or []], lambda p: chosen(p, pick), above)


def checked_out(ws: Workspace, what: str) -> tuple[str, str]:
    """(branch ref, HEAD commit) of the checked-out branch; MigrateError naming ``what`` needs it."""
    branch = gitrefs.current_branch(ws.repo)
    head = ws.repo.git_text("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
    if branch is None or not head:
        raise MigrateError(f"{what} needs a checked-out branch with a commit")
    return branch, head


def tree_files(ws: Workspace, rev: str) -> list[FileChange]:
    """Every blob of ``rev``'s tree as an ``M`` change (path, mode, blob id)."""
    out = []
    for item in ws.repo.git("ls-tree", "-r", "-z", "--full-tree", rev).split(b"\0"):
        if item:
            meta, _, raw_path = item.partition(b"\t")
            mode, kind, sha = meta.decode().split()
            if kind == "blob":
                out.append(FileChange("M", raw_path, mode, sha))
    return out


def commit_head(ws: Workspace, cat: CatFile, branch: str, head: str, changes: list[FileChange],
                message: bytes, result: ImportResult, same_bytes: SameBytes | None = None) -> None:
    """One new commit of ``changes`` on the checked-out branch; the branch, index and work tree move."""
    ws.close()  # the data is indexed in the pool before a commit names it
    new = commit_on_top(ws, head, changes, message)
    check_not_edited(ws, cat, head, new)
    gitrefs.update_atomically(ws.repo, [f"update {branch} {new} {head}"])
    result.commit = new
    result.refs = [RefChange(branch, head, new)]
    result.warnings += sync_after_move(ws, cat, head, new, same_bytes)


def _no_rewrite(ws: Workspace, cat: CatFile, transform: ImportTransform, opts: ImportOptions,
                result: ImportResult, branch: str, head: str, files: list[FileChange]) -> None:
    if not opts.dry_run:
        result.warnings += check_attributes_clean(ws)
    changes = []
    for ch in files:
        if ch.mode in FILE_MODES and transform.wants(ch.name):
            ptr = transform.conv.convert(ch.dataref, ch.name)
            if ptr is not None:
                ch.dataref, ch.data = "inline", ptr
                changes.append(ch)
    old_attrs = cat.read(f"{head}:.gitattributes") or b""
    new_attrs = transform.attributes(old_attrs)
    if new_attrs != old_attrs:
        changes.append(FileChange("M", b".gitattributes", "100644", "inline", new_attrs))
    result.commits = 1
    result.rewritten = 1 if changes else 0
    if changes and opts.dry_run:
        result.refs = [RefChange(branch, head, "")]  # the branch a commit would go on; no id yet
    if changes and not opts.dry_run:
        what = f"files above {opts.above} bytes" if opts.above is not None else ", ".join(transform.include)
        message = opts.message or f"Convert to git-mlv: {what}\n"
        commit_head(ws, cat, branch, head, changes, message.encode(), result)


def commit_on_top(ws: Workspace, parent: str, changes: list[FileChange], message: bytes) -> str:
    """Write one commit (``changes`` on ``parent``'s tree) with fast-import; its id. No ref moves."""
    repo = ws.repo
    marks = os.path.join(repo.common_dir, f"mlv-migrate-{os.getpid()}.marks")
    author, committer = commit_identity(repo)
    scratch = scratch_ref("heads/no-rewrite")
    commit = Commit(scratch, 1, [f"author {author}".encode(), f"committer {committer}".encode()],
                    message, [parent], changes)
    try:
        imp = Importer(repo, marks)
        try:
            imp.write(commit)
        except BaseException:
            imp.kill()
            raise
        imp.finish()
        new = read_marks(marks, want_marks={1})[1]
    finally:
        if os.path.exists(marks):
            os.unlink(marks)
    gitrefs.update_atomically(repo, [f"delete {scratch}"])
    return new


def commit_identity(repo: Repo) -> tuple[str, str]:
    """(author, committer) as git would sign a commit here; a UsageError saying how to set them
    when git knows no name or email (found on a first day: `migrate import --no-rewrite` without
    user.email ended with git's last line, "git var: fatal: unable to auto-detect email address
    (got 'root@vm.(none)')", and no word on what to do)."""
    try:
        return repo.git_text("var", "GIT_AUTHOR_IDENT"), repo.git_text("var", "GIT_COMMITTER_IDENT")
    except GitError:
        raise UsageError("git does not know who you are, and this writes a commit: set `git config "
                         "--global user.name \"Your Name\"` and `git config --global user.email "
                         "you@example.com`, then run the command again") from None


def staged_conversions(ws: Workspace, convert: Callable[[str, str], bytes | None]
                       ) -> list[tuple[str, bytes, bytes]]:
    """(mode, path, our pointer) of each staged file ``convert(blob, path)`` turns into a pointer,
    its data stored like the history's: an index entry that differs from HEAD (``git add`` ran
    before the migration: a raw blob, a git-lfs pointer). Left in the index, it would be committed
    as it is under ``filter=mlv``: the big bytes in git, or git-lfs pointer text a clone gets as
    the file."""
    if not ws.repo.git_text("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False):
        return []
    raw = ws.repo.git("diff-index", "--cached", "-z", "--no-renames", "HEAD")
    items = raw.split(b"\0")
    out = []
    for i in range(0, len(items) - 1, 2):
        meta = items[i].decode().lstrip(":").split()  # old mode, new mode, old id, new id, status
        if len(meta) == 5 and meta[4] in ("A", "M") and meta[1] in FILE_MODES:
            ptr = convert(meta[3], os.fsdecode(items[i + 1]))
            if ptr is not None:
                out.append((meta[1], items[i + 1], ptr))
    return out


def restage(ws: Workspace, staged: list[tuple[str, bytes, bytes]]) -> None:
    """Put our pointers in the index in place of the staged files ``staged_conversions`` found, once
    the pool holds their data; the work tree keeps the files as they are (git looks at them again)."""
    ws.close()  # the pool commits what was stored: the index names nothing that is not there
    lines = []
    for mode, path, ptr in staged:
        blob = repo_run(ws.repo, ["hash-object", "-w", "--no-filters", "--stdin"], ptr).decode().strip()
        lines.append(f"{mode} {blob}\t".encode() + path + b"\0")
    repo_run(ws.repo, ["update-index", "-z", "--index-info"], b"".join(lines))
    ws.repo.git("update-index", "-q", "--refresh", check=False)


def ready_to_publish(ws: Workspace, changes: list[RefChange], forced: bool) -> tuple[list[str], list[str]]:
    """The ``git push`` commands that publish moved refs, and warnings about the pre-push hook.

    A migration writes pointers without git's filter, and the filter is what installs our hooks
    when it starts (``setup.ensure_hooks``): after `migrate from-dvc`, whose files were never in
    git's index, `git commit` and `git push` start no filter, and the push uploaded no data
    while every clone got pointers to it. The hooks are therefore installed here. So is the filter
    itself when git does not know it (no `git mlv install`): else git ignored ``filter=mlv``, the
    converted files showed as modified, `git checkout` of another commit refused ("local changes")
    or wrote pointer text, and `git add` put new files in git whole.
    """
    if not changes:
        return [], []
    from .setup import ensure_hooks, ensure_installed

    note = ensure_installed(ws)
    warnings = [note] if note else []
    warnings += [w.removeprefix("git-mlv: warning: ") for w in ensure_hooks(ws.repo)]
    return push_commands(ws, changes, forced), warnings


def push_commands(ws: Workspace, changes: list[RefChange], forced: bool) -> list[str]:
    """The ``git push`` commands that publish moved refs to each git remote."""
    remotes = ws.repo.git_text("remote").split()
    if not changes or not remotes:
        return []
    branches = [c.name.removeprefix("refs/heads/") for c in changes if c.name.startswith("refs/heads/")]
    tags = [c.name.removeprefix("refs/tags/") for c in changes if c.name.startswith("refs/tags/")]
    out = []
    for r in remotes:
        if branches:
            flag = "--force-with-lease " if forced else ""
            out.append(f"git push {flag}{r} {' '.join(branches)}")
        if tags:
            out.append(f"git push --force {r} " + " ".join(f"refs/tags/{t}" for t in tags))
    return out
