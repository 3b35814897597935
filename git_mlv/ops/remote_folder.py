"""Folder data remotes as they are named: where a relative URL points, creating the folder when
`git mlv remote add` or `modify` names it, and which folders cannot be a data remote (a file, a
git-mlv pool). Split from ops/remote_config.py."""

from __future__ import annotations

import os

from ..errors import MlvError, UsageError
from ..remotes.url import parse
from .context import Workspace


def base_dir(ws: Workspace) -> str:
    """What a relative folder URL is relative to: the repository's root (``Repo.anchor``: the
    main worktree's, also from a linked worktree elsewhere, where it was that worktree's root and
    pointed to another folder)."""
    return ws.repo.anchor


def root_relative(ws: Workspace, url: str) -> str:
    """A relative folder URL typed in a subfolder, made relative to the repository's root (what
    relative folder URLs are stored relative to: ``base_dir``), as every other path the CLI takes
    is relative to the current folder. Anything else is returned as it is."""
    if parse(url).scheme != "folder" or url.startswith(("/", "~", "file:")):
        return url
    here, root = os.path.realpath(os.getcwd()), os.path.realpath(base_dir(ws))
    if here == root or not here.startswith(root + os.sep):
        return url
    return os.path.relpath(os.path.join(here, url), root).replace(os.sep, "/")


def create_folder(ws: Workspace, name: str, url: str) -> None:
    """A folder remote's folder, created when it is named: later commands refuse to create it
    (``FolderRemote.create_root``), so that a share not mounted is not taken for a new remote."""
    u = parse(url, base_dir(ws))
    if u.scheme == "folder":
        from ..remotes.sharemodes import make_root

        ws.settings  # noqa: B018 - applies core.sharedRepository's modes (core/fsutil.set_shared)
        from ..remotes.local import FolderRemote

        refuse_pool_as_remote(ws, name, FolderRemote(u.path, typed=url), fix="name a folder of its own")
        try:
            make_root(u.path)
        except NotADirectoryError as e:  # before: taken as the remote, and every push failed
            raise UsageError(f"{e.filename or u.path} is a file, not a folder: a folder data remote "
                             "needs a folder (name another path)") from None
        except OSError as e:
            raise UsageError(f"cannot create the data remote folder {u.path}: {e.strerror or e}") from None


# Files a git-mlv pool's folder holds and a data remote's never does (docs/formats.md)
_POOL_FILES = ("gc.lock", "generation", "pointer-cache")


def refuse_pool_as_remote(ws: Workspace, name: str, remote: object, fix: str = "") -> None:
    """UsageError when folder remote ``remote`` is this repository's pool (``.git/mlv``, or
    ``mlv.pool``) or another clone's: both keep packs in ``packs/``, so the remote "held" every
    file of the pool, `git mlv prune` deleted the only copy of data it thought the remote kept,
    and `gc --remote` would delete another clone's pool's data."""
    root = getattr(remote, "root", None)
    if not isinstance(root, str) or not getattr(remote, "typed", None):
        return  # not a folder remote
    real = os.path.realpath(root)
    if real == os.path.realpath(ws.repo.mlv_dir) or any(
            os.path.lexists(os.path.join(real, f)) for f in _POOL_FILES):
        fix = fix or f"point it at a folder of its own (`git mlv remote modify {name} url PATH`)"
        raise UsageError(f"data remote '{name}' ({root}) is a git-mlv pool (this repository's "
                         "own or another clone's), not a data remote: prune and gc would delete the "
                         f"only copy of its data; {fix}")


def inside_worktree(ws: Workspace, url: str) -> str | None:
    """The folder of a folder remote when it lies inside this repository's work tree, outside
    ``.git`` and not ignored by git (its files would show in `git status` and could be committed:
    most likely a mistyped URL, `remote add x 'not a url'`); else None."""
    u = parse(url, base_dir(ws))
    top = ws.repo.worktree
    if u.scheme != "folder" or not top:
        return None
    path, top = os.path.realpath(u.path), os.path.realpath(top)
    git_dir = os.path.realpath(ws.repo.git_dir)
    # the top itself too: `remote add store .` put packs/ beside the code, without a word
    if not (path == top or path.startswith(top + os.sep)) or path == git_dir or \
            path.startswith(git_dir + os.sep):
        return None
    ignored = ws.repo.git("check-ignore", "--", os.path.relpath(path, top), check=False).strip()
    return None if ignored else u.path


def local_remote_pool(ws: Workspace) -> tuple[str, str] | None:
    """(git remote, pool folder) when a git remote of this repository (``origin`` first) is a
    repository on this machine whose git-mlv pool holds packs: a clone of a folder (`git clone
    /data/project`) with no data remote finds its data there. For the message that says how to
    share that pool (``mlv.pool``, docs/formats.md#shared-pool); None when there is none."""
    names = ws.repo.git("remote", check=False).decode(errors="replace").split()
    own = os.path.realpath(ws.repo.mlv_dir)
    for name in sorted(names, key=lambda n: n != "origin"):
        url = ws.repo.config.get(f"remote.{name.lower()}.url", "")
        path = url[len("file://"):] if url.startswith("file://") else url
        if not path or not os.path.isabs(path) or not os.path.isdir(path):
            continue  # ssh, https, host:path (a relative URL: git stores local clones' absolute)
        pool = _pool_of(path)
        if pool is not None and os.path.realpath(pool) != own:
            return name, pool
    return None


def _pool_of(repo: str) -> str | None:
    """The pool of the repository at folder ``repo`` (``Repo.mlv_dir``: its ``mlv.pool``, else
    ``.git/mlv``, or ``mlv`` in a bare one) when it holds an indexed pack; else None. Its config
    is read from its file: in the filter, git's GIT_DIR would make git read this clone's."""
    from ..gitio.git import Repo, parse_config_z, run

    dot_git = os.path.join(repo, ".git")
    git_dir = dot_git if os.path.isdir(dot_git) else repo
    if not os.path.isfile(os.path.join(git_dir, "HEAD")):
        return None
    try:
        config = parse_config_z(run(["config", "--file", os.path.join(git_dir, "config"), "-l", "-z"],
                                    check=False))
        other = Repo(repo if git_dir == dot_git else None, git_dir, git_dir, config)
        pool = os.path.normpath(other.mlv_dir)  # `git clone ./x` stores /abs/./x
        return pool if any(n.endswith(".idx") for n in os.listdir(os.path.join(pool, "packs"))) else None
    except (OSError, MlvError):  # unreadable, or its mlv.pool is not a folder
        return None


def shared_pool_hint(ws: Workspace, lead: str = "; or ") -> str:
    """``lead`` + ``use the pool of git remote 'origin' ...`` for a message about missing data with
    no data remote to fetch it from, when a git remote's pool is on this machine; else ''."""
    found = local_remote_pool(ws)
    if found is None:
        return ""
    import shlex

    name, pool = found
    return (f"{lead}use the pool of git remote '{name}', a repository on this machine: "
            f"`git config mlv.pool {shlex.quote(pool)}`, then `git mlv pull`")
