"""install / uninstall / track / untrack / add: wiring git to git-mlv."""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import MlvError, UsageError
from ..gitio import attributes, hooks
from ..gitio.git import GitError, Repo, run
from ..gitio.shimtext import EXECUTABLE_KEY
from .addpaths import pathspec_magic
from .context import Workspace


def _executable() -> str:
    """The git-mlv that runs now, by its full path: git's filter, diff and merge drivers name it so,
    and the hooks look for it there, whatever environment is active when git runs (a conda env
    switched, an IDE's git started without the virtualenv). ``git-mlv`` when no path is known."""
    import shutil  # not at import: the filter loads this module at every start (issue 9)

    me = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.path.basename(me) == "git-mlv" and os.access(me, os.X_OK):
        return me
    found = shutil.which("git-mlv")
    return os.path.abspath(found) if found else "git-mlv"


def filter_config() -> dict[str, str]:
    """The git config git-mlv needs (DESIGN.md §2), naming the git-mlv that runs now."""
    import shlex

    path = _executable()
    exe = shlex.quote(path)
    cfg = {
        "filter.mlv.process": f"{exe} filter-process",
        "filter.mlv.clean": f"{exe} clean -- %f",
        "filter.mlv.smudge": f"{exe} smudge -- %f",
        "filter.mlv.required": "true",
        "diff.mlv.textconv": f"{exe} textconv",
        "merge.mlv.name": "git-mlv data (keep ours on conflict)",
        "merge.mlv.driver": f"{exe} merge-driver %O %A %B %P",
    }
    if os.path.isabs(path):  # where the hooks look when git-mlv is not on PATH (gitio/shimtext.py)
        cfg[EXECUTABLE_KEY] = path
    return cfg


@dataclass
class InstallResult:
    """What ``install`` changed."""

    scope: str
    config: dict[str, str]
    hooks_dir: str | None = None
    hooks: hooks.HookReport | None = None


def install(scope: str = "global", force: bool = False, cwd: str | None = None) -> InstallResult:
    """Set the filter config in ``scope`` and, inside a repository, install the hooks."""
    if scope not in ("global", "local", "system"):
        raise UsageError(f"unknown scope {scope!r}")
    repo = None
    try:
        repo = Repo.discover(cwd)
    except Exception:  # noqa: BLE001 - outside a repository is fine for --global
        if scope == "local":
            raise UsageError("--local needs a git repository: cd into one first") from None
    cfg = filter_config()
    where = repo.worktree or repo.git_dir if repo else cwd
    for k, v in cfg.items():
        try:
            run(["config", f"--{scope}", k, v], cwd=where)
        except GitError as e:
            raise _config_unwritable(e, where) or e from None
    result = InstallResult(scope, cfg)
    if repo is not None:
        repo._config = None  # we just changed it
        result.hooks_dir = repo.hooks_dir
        result.hooks = hooks.install_hooks(repo.hooks_dir, force=force, lfs_texts=_lfs_texts(repo))
    return result


NOT_INSTALLED = ("git-mlv was not installed: configured it for this repository (`git mlv install "
                 "--local`); `git mlv install` does it once for all your repositories")


def installed(repo: Repo) -> bool:
    """Whether git knows the mlv filter here (any config level)."""
    return bool(repo.config.get("filter.mlv.process") or repo.config.get("filter.mlv.clean"))


def installed_executable_gone(repo: Repo) -> str | None:
    """The path `git mlv install` recorded for git to run (``filter.mlv.executable``) when nothing
    can be run there any more (its virtualenv deleted or moved); None when it can, or none is set."""
    path = repo.config.get(EXECUTABLE_KEY.lower())
    if not path or os.access(path, os.X_OK):
        return None
    return path


def ensure_installed(ws: Workspace) -> str | None:
    """Install git-mlv for this repository when git does not know the filter yet; the note to
    print, or None. Before, `track` (and `add`, `run -o`) without `git mlv install` wrote the
    patterns, git ignored a filter it did not know, and `git add` stored the files in git whole."""
    if installed(ws.repo):
        return None
    install("local", cwd=ws.repo.top)
    ws.repo._config = None
    return NOT_INSTALLED


def _lfs_texts(repo: Repo) -> hooks.LfsTexts | None:
    """git-lfs's hook texts, asked for only if git-lfs is in use here and they are needed."""
    if not hooks.lfs_in_use(repo.config, repo.common_dir):
        return None
    return lambda: hooks.lfs_hook_texts(repo.worktree or repo.git_dir)


@dataclass
class UninstallResult:
    """What ``uninstall`` removed, and the scopes that still configure the filter for git here."""

    hooks: list[str] = field(default_factory=list)  # our hooks removed from this repository
    still: list[str] = field(default_factory=list)  # "local", "global", "system", "worktree"
    in_repo: bool = False  # run inside a repository (which has hooks)
    removed: bool = False  # the scope's config set the filter, and no longer does
    tracks_data: bool = False  # ... whose root .gitattributes routes files through git-mlv


def uninstall(scope: str = "global", cwd: str | None = None) -> UninstallResult:
    """Remove the filter config from ``scope`` and our hooks from this repository (kept when the
    repository's own config still sets the filter), and say which scopes still set it. Before,
    `git mlv uninstall` in a repository with its own `install --local` (which track, add, pull and
    checkout do in a clone made before the install) said "git-mlv filter removed (global)" while
    git kept running the filter there, and took that repository's hooks away."""
    try:
        repo: Repo | None = Repo.discover(cwd)
    except Exception:  # noqa: BLE001
        repo = None
    if scope == "local" and repo is None:  # before: "git-mlv filter removed (local)", nothing done
        raise UsageError("--local needs a git repository: cd into one first")
    where = (repo.worktree or repo.git_dir) if repo else cwd
    removed = False
    for section in ("filter.mlv", "diff.mlv", "merge.mlv"):
        try:
            run(["config", f"--{scope}", "--remove-section", section], cwd=where)
            removed = True
        except GitError as e:  # not there; a config file git cannot write is said, not skipped
            unwritable = _config_unwritable(e, where)
            if unwritable is not None:
                raise unwritable from None
    res = UninstallResult(still=configured_scopes(where), in_repo=repo is not None,
                          tracks_data=bool(repo and repo.worktree and attributes.patterns(repo.worktree)),
                          removed=removed)
    # this repository's own install keeps its hooks; `uninstall --local` takes them
    if repo and (scope == "local" or not {"local", "worktree"} & set(res.still)):
        res.hooks = hooks.uninstall_hooks(repo.hooks_dir)
    return res


def _config_unwritable(e: GitError, where: str | None) -> MlvError | None:
    """The file-system error (exit 6, with what to do) for a git config file git could not write:
    on a read-only .git, `git mlv install --local` said "git config: error: could not lock config
    file .git/config: Read-only file system" (exit 1), and uninstall said the filter was removed
    while it stayed. None for another failure."""
    import errno
    import re

    from ..core.fsutil import fs_error

    m = re.search(r"could not (?:lock|write) config file (.+?): (.+)$", str(e))
    if m is None:
        return None
    code = {"Read-only file system": errno.EROFS, "Permission denied": errno.EACCES,
            "No space left on device": errno.ENOSPC, "Disk quota exceeded": errno.EDQUOT}.get(m[2])
    path = os.path.join(where or os.getcwd(), os.path.expanduser(m[1]))
    return fs_error(OSError(code, m[2], path)) if code else None


def configured_scopes(cwd: str | None) -> list[str]:
    """The config files (scopes) that set ``filter.mlv.process`` for git run in ``cwd``."""
    try:
        out = run(["config", "--show-scope", "--get-all", "filter.mlv.process"], cwd=cwd)
    except GitError:
        return []  # set nowhere (git config exits 1)
    scopes = [line.partition("\t")[0] for line in out.decode(errors="replace").splitlines() if line.strip()]
    return [s for s in dict.fromkeys(scopes) if s != "command"]


def hook_problems(repo: Repo) -> list[str]:
    """Why each of our hooks would not run where git looks for hooks (status reports these)."""
    out = []
    for name in hooks.HOOKS:
        try:
            problem = hooks.check(repo.hooks_dir, name)
        except OSError as e:
            problem = f"cannot read {repo.hooks_dir}: {e.strerror or e}"
        if problem:
            out.append(f"{name}: {problem}")
    return out


def persistent_hooks_dir(repo: Repo) -> str | None:
    """``core.hooksPath`` as set in a config file (not a one-off ``git -c``), absolute; None if unset."""
    if "core.hookspath" not in repo.config:
        return None
    try:
        out = repo.git_text("config", "--show-scope", "--get-all", "core.hooksPath")
    except GitError:
        return None
    values = [v for scope, _, v in (line.partition("\t") for line in out.splitlines())
              if scope != "command" and v]
    if not values:
        return None
    path = os.path.expanduser(values[-1])
    return path if os.path.isabs(path) else os.path.join(repo.worktree or repo.git_dir, path)


def ensure_hooks(repo: Repo, has_data_remote: Callable[[], bool] | None = None) -> list[str]:
    """The filter's quiet check that our hooks run; warnings for the user (empty when all is well).

    Writes only into the repository's own ``hooks`` folder, never where a one-off
    ``git -c core.hooksPath=...`` points; it chains git-lfs's hooks (a clone runs both filters),
    and leaves other foreign hooks and a configured ``core.hooksPath`` to `git mlv install`,
    warning when a push would then upload no data.
    """
    try:
        own = os.path.join(repo.common_dir, "hooks")
        configured = persistent_hooks_dir(repo)
        if configured is None or os.path.realpath(configured) == os.path.realpath(own):
            report = hooks.install_hooks(own, compose_foreign=False, lfs_texts=_lfs_texts(repo))
            problems = [msg for name, msg in report.refused if name == "pre-push"]
        else:
            problem = hooks.check(configured, "pre-push")
            problems = [problem] if problem else []
    except OSError:
        return []  # a read-only hooks dir must not break a checkout
    if problems and (has_data_remote is None or has_data_remote()):
        return [f"git-mlv: warning: `git push` will not upload git-mlv data: {p}" for p in problems]
    return []


def root_patterns(ws: Workspace, patterns: list[str], cwd: str | None = None) -> list[str]:
    """``patterns`` as typed in ``cwd`` (default: the current folder), as the root's
    ``.gitattributes`` must say them: relative to that folder, as git-lfs's ``track`` (which
    writes the folder's own ``.gitattributes``) and git's pathspecs take them. Before, `track
    'sub/**'` typed in ``data/`` tracked ``sub/**`` at the root, and ``data/sub`` went into git
    as plain blobs."""
    _refuse_pathspec_magic(patterns)
    rel = os.path.relpath(os.path.abspath(cwd or os.getcwd()), ws.repo.top).replace(os.sep, "/")
    if rel.startswith(".."):
        return patterns
    return [attributes.from_folder(rel, p) for p in patterns]


def _refuse_pathspec_magic(typed: list[str]) -> None:
    """A UsageError for a pattern written as git pathspec magic, which .gitattributes does not
    know: `track ':(glob)*.csv'` wrote that text as a pattern matching no file (and data went into
    git whole), `track ':!x.bin'` typed in data/ wrote ``data/**/:!x.bin``, past the check that
    refuses negative patterns."""
    for p in typed:
        if pathspec_magic(p):
            how = ("(an exclusion), which .gitattributes does not know: it has no negative "
                   "patterns; track what to include" if p[1] in "!^" else
                   ", which .gitattributes does not know: write the pattern itself (\"*.csv\", "
                   "\"data/**\")")
            raise UsageError(f"{attributes.quoted(p)} is git pathspec magic{how}")


def _filesystem_path(ws: Workspace, typed: str, here: str) -> str:
    """``typed`` relative to ``here`` when it is an absolute path of the file system, not a pattern
    anchored with ``/``: one under the repository's own path (`track $PWD/model.h5` wrote a pattern
    matching nothing), or, outside it, an existing file or folder named without a glob that is not
    a folder here (`track /etc/passwd` typed in data/ wrote ``data/etc/passwd``): a UsageError.
    Otherwise (``/data/**`` on a machine with a /data folder, too) ``typed`` unchanged."""
    if not typed.startswith("/"):
        return typed
    full = os.path.normpath(typed)
    top = os.path.abspath(ws.repo.top)
    if full != top and not full.startswith(top.rstrip(os.sep) + os.sep):
        first = typed.lstrip("/").split("/", 1)[0]
        if (any(c in typed for c in "*?[\\") or not os.path.lexists(full)
                or os.path.lexists(os.path.join(here, first))):
            return typed
        raise UsageError(f"{attributes.quoted(typed)} is outside the repository ({top}); a pattern "
                         "is a path inside it (a leading / anchors it at the folder you type it in)")
    if os.path.isdir(full):
        raise UsageError(f"{attributes.quoted(typed)} is a folder, and a pattern matches files: "
                         f"track {attributes.quoted(typed.rstrip('/') + '/**')} for everything "
                         f"under it (or `git mlv add {typed}`)")
    rel = os.path.relpath(full, here).replace(os.sep, "/")
    return rel if rel.startswith("..") else "/" + rel  # the file named, not one at any depth


def track_patterns(ws: Workspace, typed: list[str], cwd: str | None = None) -> list[str]:
    """``root_patterns`` for `git mlv track`, refusing patterns that would match no file and
    resolving ``./`` and ``../``, which git does not (found typing what a data scientist would):
    `git mlv track data/` or `track data` for the folder data wrote a line that matches no file
    (gitattributes applies a pattern to files only, and one ending in ``/`` to folders), so `git
    add data` then stored every file whole in git; `./data/*.csv` matched nothing either."""
    here = os.path.abspath(cwd or os.getcwd())
    _refuse_pathspec_magic(typed)
    typed = [_filesystem_path(ws, p, here) for p in typed]
    for p in typed:
        if p in (".", "./", "/"):
            raise UsageError(f"{attributes.quoted(p)} matches no file: track \"**\" for every file "
                             "(or `git mlv add .`)")
        if p.endswith("/"):
            base = p.rstrip("/")
            raise UsageError(f"{attributes.quoted(p)} matches no file: in .gitattributes a pattern "
                             f"ending in / names folders, and git filters files; track "
                             f"{attributes.quoted(base + '/**')} for everything under it (or `git "
                             f"mlv add {base}`)")
    out = [_resolved(p, t) for p, t in zip(root_patterns(ws, typed, cwd), typed)]
    for p in typed:
        if not any(c in p for c in "*?[\\") and os.path.isdir(os.path.join(here, p.lstrip("/"))):
            raise UsageError(f"{attributes.quoted(p)} is a folder, and a pattern matches files: "
                             f"track {attributes.quoted(p + '/**')} for everything under it (or "
                             f"`git mlv add {p}`)")
    return out


def shell_expanded(typed: list[str], cwd: str | None = None) -> str | None:
    """The quoted pattern meant when ``typed`` looks like a pattern the shell expanded: two or more
    names of existing files, no glob character, all with one suffix (`git mlv track *.bin`
    unquoted tracked a.bin and b.bin by name, and the next new .bin file went into git whole,
    silently); None otherwise."""
    here = os.path.abspath(cwd or os.getcwd())
    if len(typed) < 2 or any(c in p for p in typed for c in "*?[\\"):
        return None
    if not all(os.path.isfile(os.path.join(here, p)) for p in typed):
        return None
    suffixes = {os.path.splitext(p)[1] for p in typed}
    if len(suffixes) != 1 or "" in suffixes:
        return None
    folders = {os.path.dirname(p) for p in typed}
    return "/".join([*([folders.pop()] if len(folders) == 1 and "" not in folders else []),
                     f"*{suffixes.pop()}"])


def _resolved(pattern: str, typed: str) -> str:
    """``pattern`` without ``.`` and ``..`` segments, still anchored where it was (a pattern with
    a slash is anchored at the root; one without matches a name at any depth)."""
    parts = pattern.split("/")
    if "." not in parts and ".." not in parts:
        return pattern
    out: list[str] = []
    for seg in parts[1:] if pattern.startswith("/") else parts:
        if seg in (".", ""):
            continue
        if seg == "..":
            if not out or out[-1] in ("**",):
                raise UsageError(f"{attributes.quoted(typed)} reaches outside the repository")
            out.pop()
            continue
        out.append(seg)
    if not out:
        raise UsageError(f"{attributes.quoted(typed)} matches no file: track '**' for everything")
    joined = "/".join(out)
    return joined if "/" in joined else "/" + joined  # it had a slash: keep it anchored


def track(ws: Workspace, patterns: list[str]) -> list[str]:
    """Route ``patterns`` (as the root's ``.gitattributes`` says them: ``root_patterns``) through
    git-mlv; returns those newly added."""
    for p in patterns:
        if not p.strip():
            raise UsageError(f"not a usable pattern: {p!r}")
        if "\n" in p or "\r" in p:  # most likely a pasted list, not one name
            raise UsageError(f"a pattern cannot hold a line break: {attributes.display(p)}; give one "
                             "pattern per argument, or `git mlv add PATH` for a file named so")
        if p.startswith("!"):
            raise UsageError(f"negative patterns are not allowed in .gitattributes: {p!r}")
    return attributes.track(ws.repo.top, patterns)


def encoded_data_files(ws: Workspace) -> list[str]:
    """Files of the index and the work tree that git-mlv tracks with a ``working-tree-encoding``
    (attributes.encoding_set): nothing to ask git when no attributes file names that attribute."""
    if not attributes.mention(ws.repo, b"working-tree-encoding"):
        return []
    raw = ws.repo.git("ls-files", "-z", "--cached", "--others", "--exclude-standard", check=False)
    paths = sorted({os.fsdecode(p) for p in raw.split(b"\0") if p})
    return attributes.encoding_set(ws.repo, paths)


def has_commits(ws: Workspace) -> bool:
    """True once the repository has a commit (files may then be stored as plain git blobs)."""
    return bool(ws.repo.git_text("rev-parse", "--verify", "-q", "HEAD", check=False))


def untrack(ws: Workspace, patterns: list[str]) -> list[str]:
    """Stop routing ``patterns`` (as given, or as the listing prints them) through git-mlv;
    returns those that were routed."""
    return attributes.untrack(ws.repo.top, patterns)


def tracked_patterns(ws: Workspace) -> list[str]:
    """Patterns routed through git-mlv."""
    return attributes.patterns(ws.repo.top)


@dataclass
class AddResult:
    """What ``add`` did."""

    tracked: list[str] = field(default_factory=list)
    staged: list[str] = field(default_factory=list)
    note: str | None = None  # git-mlv installed for this repository on the way (ensure_installed)
    hint: str | None = None  # one line per file, many of them: how to say it in one (many_lines_hint)


MANY_LINES = 100  # new .gitattributes lines from one `add` past which it suggests a folder or pattern


def many_lines_hint(files: list[str]) -> str | None:
    """What to type instead when ``add`` wrote a line per file for many ``files`` (paths from the
    top; `git mlv add imgs/*.png`, the shell expanding 2,000 names: 2,000 lines that git matches
    against every path it looks at, so `git status` and checkouts slowed as the square of the
    files, 0.02 s -> 0.22 s for a check-attr of 2,000 files); None under ``MANY_LINES``."""
    import shlex

    if len(files) < MANY_LINES:
        return None
    say = (f"{len(files)} files got a line each in .gitattributes, which git matches against every "
           "path it looks at (status and checkouts slow down as lines pile up)")
    folders = {posixpath.dirname(p) for p in files}
    if len(folders) != 1 or "" in folders:
        return say + "; a folder (`git mlv add FOLDER`) or a pattern (`git mlv track \"*.EXT\"`) takes one"
    folder = folders.pop()
    suffixes = {posixpath.splitext(p)[1] for p in files}
    alt = ""
    if len(suffixes) == 1 and "" not in suffixes:
        alt = f" or `git mlv track {shlex.quote(folder + '/*' + suffixes.pop())}`"
    return (say + f"; `git mlv add {shlex.quote(folder)}` (everything under it){alt} takes one: "
            "`git mlv untrack` those lines, or edit .gitattributes, then run it")


def add(ws: Workspace, paths: list[str]) -> AddResult:
    """Track these exact paths (a folder: everything under it) and ``git add`` them."""
    top = ws.repo.top
    pats = []
    files: dict[str, str] = {}  # pattern of a file -> its path from the top
    for p in paths:
        full = os.path.abspath(p)
        if not os.path.exists(full):
            if any(c in p for c in "*?["):  # a quoted glob: add escapes glob characters (names)
                raise UsageError(f"{p}: no such file or folder; `git mlv add` takes names, and a "
                                 f"pattern is tracked with `git mlv track '{p}'` (then `git add`)")
            raise UsageError(f"{p}: no such file or folder")
        rel = os.path.relpath(full, top)
        if rel.startswith(".."):
            raise UsageError(f"{p}: outside the repository")
        rel = rel.replace(os.sep, "/")
        if os.path.isdir(full):  # everything under it (the top: everything; rule 12 keeps config)
            pats.append("**" if rel == "." else f"{attributes.literal(rel)}/**")
        else:  # this file only: a name without a folder would match it in every folder
            pats.append(f"/{attributes.literal(rel)}" if "/" not in rel else attributes.literal(rel))
            files[pats[-1]] = rel
    added = attributes.track(top, pats)
    note = ensure_installed(ws)  # before `git add`, which needs the filter
    # exact paths: `a[1].bin` as a pathspec would also add a1.bin
    rels = [os.path.relpath(os.path.abspath(p), top) for p in paths]
    run(["--literal-pathspecs", "add", "--", ".gitattributes", *rels], cwd=top)
    whole = stored_whole(ws.repo, [r.replace(os.sep, "/") for r in rels])
    if whole:  # `git add` left them as they were: their stat did not change
        run(["--literal-pathspecs", "add", "--renormalize", "--pathspec-from-file=-",
             "--pathspec-file-nul"], cwd=top, input=b"".join(os.fsencode(w) + b"\0" for w in whole))
    return AddResult(added, paths, note, many_lines_hint([files[p] for p in added if p in files]))


def stored_whole(repo: Repo, rels: list[str]) -> list[str]:
    """The files at or under ``rels`` (from the top; "." for everything) that the index holds
    whole, not as pointers: committed before they were tracked. `git add` re-cleans only a file
    whose stat changed since the index recorded it, so these kept their whole blob, and the next
    commit stored their data in git again (files git keeps as they are, .gitattributes and the
    like, and files outside a sparse checkout aside)."""
    from ..gitio import walk
    from .filter import is_config_file

    under = None if "." in rels else rels
    entries = [e for e in walk.iter_index_entries(repo, under=under)
               if e.blob not in walk.EMPTY_BLOBS and not e.skip_worktree and not is_config_file(e.path)
               and (under is None or any(e.path == r or e.path.startswith(r + "/") for r in rels))]
    pointers = walk.pointer_blobs(repo, (e.blob for e in entries))
    return [e.path for e in entries if e.blob not in pointers]
