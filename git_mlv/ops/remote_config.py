"""Data remotes: where they are recorded and how to change them (``git mlv remote ...``).

- Tracked, shared with everyone who clones: ``.gitmlv`` at the repo root, git-config syntax,
  ``[core] remote = NAME`` and ``[remote "NAME"] url = URL``.
- Local, untracked: ``.git/config``: ``mlv.remote = NAME`` (overrides the tracked default),
  ``mlv-remote.NAME.url`` (a remote only this clone knows, or a local override of a tracked URL)
  and every other per-remote setting ``mlv-remote.NAME.KEY``: S3 endpoint, region, profile,
  addressing style; SSH identity file and host-key opt-in. Credentials never go in tracked files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field

from ..core.fsutil import umask
from ..errors import UsageError
from ..gitio.git import GitError, parse_config_z, run
from ..remotes.s3 import endpoint_problem  # boto3 itself is imported only when a remote opens
from ..remotes.url import parse
from .context import Workspace
from .remote_folder import (  # noqa: F401 - base_dir, inside_worktree: part of this module's interface
    base_dir,
    create_folder,
    inside_worktree,
    refuse_pool_as_remote,
    root_relative,
    shared_pool_hint,
)

GITMLV = ".gitmlv"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")

#: settings ``remote modify`` accepts besides ``url`` (stored in .git/config), with what they do
OPTIONS = {
    "endpoint": "endpoint URL: S3 (SeaweedFS, MinIO, R2...; default boto3's, AWS_ENDPOINT_URL_S3), "
                "Azure blob service or GCS (emulators, private endpoints)",
    "account": "Azure storage account (default: the URL's az://container@ACCOUNT, AZURE_STORAGE_ACCOUNT)",
    "accountKey": "Azure account key (default: AZURE_STORAGE_KEY, else DefaultAzureCredential)",
    "sasToken": "Azure SAS token (default: AZURE_STORAGE_SAS_TOKEN)",
    "anonymous": "GCS: true to send no credentials (public buckets, emulators)",
    "region": "S3 region; default: boto3's (AWS_REGION, profile)",
    "profile": "AWS profile in ~/.aws/config to take credentials and settings from",
    "addressingStyle": "S3 addressing style: auto, path or virtual",
    "identityFile": "SSH private key to use (then only this key is tried, besides the agent)",
    "acceptNewHostKey": "true: accept and remember an SSH host key not yet in known_hosts",
}
_OPTION_KEYS = {k.lower(): k for k in OPTIONS}
#: the settings each kind of remote reads (remotes/s3.py, arrowfs.py, ssh.py); any other is refused
#: for it: `remote modify NAME region eu` on a folder remote was stored and then did nothing
KIND_OPTIONS = {
    "folder": (),
    "s3": ("endpoint", "region", "profile", "addressingStyle"),
    "gs": ("endpoint", "anonymous"),
    "az": ("endpoint", "account", "accountKey", "sasToken"),
    "ssh": ("identityFile", "acceptNewHostKey"),
}
_KIND_NAMES = {"folder": "a folder", "s3": "an S3", "gs": "a GCS", "az": "an Azure", "ssh": "an SSH"}
#: ``mlv-remote.NAME.trustedUrl``: the tracked URL this clone last accepted (ops/trust.py)
TRUSTED_KEY = "trustedUrl"
#: ``mlv.removedRemote`` (one value a name): tracked remotes `remote remove` took away here; the
#: fallback for commits whose .gitmlv names no remote (``_remembered``) leaves them out
REMOVED_KEY = "mlv.removedRemote"


@dataclass
class RemoteConfig:
    """One data remote."""

    name: str
    url: str
    default: bool = False
    scope: str = "tracked"  # "tracked" (.gitmlv) or "local" (.git/config)
    options: dict[str, str] = field(default_factory=dict)  # lower-cased keys
    url_from_tracked: bool = False  # the URL is .gitmlv's (no local mlv-remote.NAME.url)
    trusted_url: str | None = None  # mlv-remote.NAME.trustedUrl: the tracked URL this clone accepted


def check_name(name: str) -> str:
    """A remote name usable as a git config subsection and a folder name."""
    if not _NAME.match(name) or ".." in name:
        raise UsageError(f"invalid remote name {name!r} (letters, digits, '.', '_', '-')")
    return name


def _gitmlv_path(ws: Workspace) -> str | None:
    return os.path.join(ws.repo.worktree, GITMLV) if ws.repo.worktree else None


# What a config file said, per process, keyed by its path and the stat of the file then: `git mlv
# status` read .gitmlv six times and .git/config three times (nine `git config` processes, ~5 ms
# each at 200,000 files on a loaded machine). A change shows in the stat (git and _edit_gitmlv
# write a new file and rename it over the old one: a new inode), and the file is read again.
_READ: dict[str, tuple[tuple[int, int, int], dict[str, str]]] = {}


def _stat_key(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _read_config_file(ws: Workspace, path: str, *args: str) -> dict[str, str]:
    """``git config ARGS -l -z`` of the file at ``path``, once per version of it in a process."""
    key = _stat_key(path)
    hit = _READ.get(path)
    if key is not None and hit is not None and hit[0] == key:
        return dict(hit[1])
    values = parse_config_z(ws.repo.git("config", *args, "-l", "-z"))
    if key is not None and _stat_key(path) == key:  # not changed while git read it
        _READ[path] = (key, dict(values))
    return values


def read_gitmlv(ws: Workspace) -> dict[str, str]:
    """``.gitmlv`` as ``git config -l`` keys; from HEAD when the worktree has no copy (mid-clone, bare)."""
    path = _gitmlv_path(ws)
    if not (path and os.path.exists(path)):
        return read_gitmlv_at(ws, "HEAD")
    try:
        return _read_config_file(ws, path, "-f", path)
    except GitError as e:  # git's own words, e.g. "bad config line 6 in file .gitmlv"
        why = str(e).rpartition("fatal: ")[2].replace(path, GITMLV)
        raise UsageError(f"{GITMLV} cannot be read ({why}): a merge conflict left in it? Fix it, "
                         f"or take the committed one with `git checkout HEAD -- {GITMLV}`") from None


def read_gitmlv_at(ws: Workspace, rev: str) -> dict[str, str]:
    """``.gitmlv`` of commit ``rev`` as ``git config -l`` keys; {} when it has none."""
    try:
        return parse_config_z(ws.repo.git("config", f"--blob={rev}:{GITMLV}", "-l", "-z"))
    except GitError:
        return {}


def _local_config(ws: Workspace) -> dict[str, str]:
    """Repository-local config, read fresh (``ws.repo.config`` is cached for the whole process):
    again whenever the file changed (``_read_config_file``)."""
    try:
        return _read_config_file(ws, os.path.join(ws.repo.common_dir, "config"), "--local")
    except GitError:
        return {}


def _split(key: str, section: str) -> tuple[str, str] | None:
    """``section.NAME.key`` -> (NAME, key), the name keeping its case."""
    if not key.lower().startswith(section + "."):
        return None
    rest = key[len(section) + 1:]
    name, dot, k = rest.rpartition(".")
    return (name, k.lower()) if dot and name else None


def remotes(ws: Workspace) -> dict[str, RemoteConfig]:
    """Every configured data remote, local settings applied over tracked ones."""
    tracked = read_gitmlv(ws)
    local = {**ws.repo.config, **_local_config(ws)}
    found: dict[str, RemoteConfig] = {}
    for key, value in tracked.items():
        nk = _split(key, "remote")
        if nk and nk[1] == "url":
            found[nk[0]] = RemoteConfig(nk[0], value, scope="tracked", url_from_tracked=True)
    for key, value in local.items():
        nk = _split(key, "mlv-remote")
        if not nk:
            continue
        name, k = nk
        if k == "url":
            if name in found:
                found[name].url = value  # a local override of a tracked URL
                found[name].url_from_tracked = False
            else:
                found[name] = RemoteConfig(name, value, scope="local")
    fallback, fallback_default = _remembered(ws, tracked, local)
    for name, url in fallback.items():
        if name not in found:  # this commit's .gitmlv names no remote: see _remembered
            found[name] = RemoteConfig(name, url, scope="tracked", url_from_tracked=True)
    for key, value in local.items():
        nk = _split(key, "mlv-remote")
        if nk and nk[1] == TRUSTED_KEY.lower() and nk[0] in found:
            found[nk[0]].trusted_url = value
        elif nk and nk[1] != "url" and nk[0] in found:
            found[nk[0]].options[nk[1]] = value
    default = local.get("mlv.remote") or tracked.get("core.remote") or fallback_default
    if default is None and len(found) == 1:
        default = next(iter(found))  # the only one (_sole)
    if default in found:
        found[default].default = True
    return found


def default_remote_name(ws: Workspace, tracked: dict[str, str] | None = None,
                        local: dict[str, str] | None = None) -> str | None:
    """The default data remote: ``mlv.remote`` in git config, else ``core.remote`` in ``.gitmlv``."""
    local = ws.repo.config if local is None else local
    name = local.get("mlv.remote")
    if name:
        return name
    tracked = read_gitmlv(ws) if tracked is None else tracked
    if tracked.get("core.remote"):
        return tracked["core.remote"]
    fallback, chosen = _remembered(ws, tracked, local)
    return chosen if fallback else _sole(tracked, local)


def _sole(tracked: dict[str, str], local: dict[str, str]) -> str | None:
    """The one data remote when only one is configured and none is named the default: push and
    pull used it while a clone's checkout, status and the hooks fetched from nowhere."""
    names = {nk[0] for nk in (_split(k, "remote") for k in tracked) if nk and nk[1] == "url"}
    names |= {nk[0] for nk in (_split(k, "mlv-remote") for k in local) if nk and nk[1] == "url"}
    return names.pop() if len(names) == 1 else None


def _remembered(ws: Workspace, tracked: dict[str, str], local: dict[str, str]
                ) -> tuple[dict[str, str], str | None]:
    """Data remotes (NAME -> URL) and the default's name to use when ``.gitmlv`` names no data
    remote at all: a commit from before the remote was added, or rewritten by ``migrate
    --everything`` (a clone of such a tag, a switch to it). First the tracked remotes this clone
    accepted before (``mlv-remote.NAME.trustedUrl``); else those of the ``.gitmlv`` on the branch a
    git remote's HEAD names (``refs/remotes/origin/HEAD``: what a clone of the project's default
    branch would use; trusted on first use, as any tracked URL), except those `remote remove` took
    away here (``mlv.removedRemote``). Nothing when ``.gitmlv`` names a remote: what it says wins.
    Before, such commits fetched nothing and `git mlv pull` said there was no data remote."""
    if any(k == "core.remote" or _split(k, "remote") for k in tracked):
        return {}, None
    out = {}
    for key, value in local.items():
        nk = _split(key, "mlv-remote")
        if nk and nk[1] == TRUSTED_KEY.lower():
            out[nk[0]] = value
    if out:
        return out, next(iter(out)) if len(out) == 1 else None
    removed = set(ws.repo.git("config", "--local", "--get-all", REMOVED_KEY, check=False).decode().split())
    heads = ws.repo.git("for-each-ref", "--format=%(refname)", "refs/remotes/*/HEAD", check=False)
    names = sorted(heads.decode().split(), key=lambda r: r != "refs/remotes/origin/HEAD")
    for ref in names:
        theirs = read_gitmlv_at(ws, ref)
        for key, value in theirs.items():
            nk = _split(key, "remote")
            if nk and nk[1] == "url" and nk[0] not in removed:
                out[nk[0]] = value
        if out:
            default = theirs.get("core.remote")
            return out, default if default in out else next(iter(out)) if len(out) == 1 else None
    return {}, None


def get(ws: Workspace, name: str | None) -> RemoteConfig:
    """The remote called ``name``, or the default one; a clear error when there is none."""
    all_ = remotes(ws)
    known = ", ".join(sorted(all_)) or "none"
    if name is None:
        name = default_remote_name(ws)
        if name is not None and name not in all_:
            # the user typed no name: say which setting names it (before: "no data remote named
            # 'gone'", with no word of where 'gone' came from)
            if ws.repo.config.get("mlv.remote") == name:
                raise UsageError(f"the default data remote '{name}' (git config mlv.remote) is not "
                                 f"configured (known: {known}); `git config --unset mlv.remote`, or "
                                 "set it to one of those")
            raise UsageError(f"the default data remote '{name}' (core.remote in .gitmlv) is not "
                             f"configured (known: {known}); `git mlv remote modify NAME default "
                             "true` makes one of those the default")
        if name is None:
            if len(all_) == 1:
                return next(iter(all_.values()))
            if all_:
                raise UsageError(f"no default data remote among {', '.join(sorted(all_))}; name one, "
                                 "or choose the default: `git mlv remote modify NAME default true`")
            raise UsageError("no default data remote; add one with "
                             "`git mlv remote add NAME URL --default` or name one" + shared_pool_hint(ws))
    if name not in all_:
        raise UsageError(f"no data remote named {name!r} (known: {known}); see `git mlv remote list`")
    return all_[name]


def _gitmlv_set(ws: Workspace, *args: str) -> None:
    path = _gitmlv_path(ws)
    if path is None:
        raise UsageError("tracked remotes need a work tree; use --local in a bare repository")
    _edit_gitmlv(path, [list(args)])


def _edit_gitmlv(path: str, edits: list[list[str]], check: bool = True) -> None:
    """Apply ``git config`` ``edits`` to ``.gitmlv`` through a copy renamed over it.

    Not ``git config -f .gitmlv`` itself: git locks a config file by creating ``<file>.lock``,
    and ``.gitmlv.lock`` is the pipeline's lock file (DESIGN.md), there as soon as a stage has
    run: every edit then failed with "could not lock config file" (and ``remove``, which ignores
    git's answer, said it removed a remote it had not). ``check=False``: an edit that finds
    nothing to change (an absent section) is not an error."""
    import tempfile

    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".gitmlv-edit-")
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                with open(path, "rb") as old:
                    shutil.copyfileobj(old, f)
                mode = os.stat(path).st_mode & 0o777
            except FileNotFoundError:
                mode = 0o666 & ~umask()  # as git creates a worktree file
        for args in edits:
            run(["config", "-f", tmp, *args], cwd=folder, check=check)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def add(ws: Workspace, name: str, url: str, default: bool = False, local: bool = False) -> RemoteConfig:
    """Record a new remote (tracked in ``.gitmlv``, or in ``.git/config`` with ``local``); a
    relative folder URL is taken relative to the current folder (``root_relative``)."""
    check_name(name)
    parse(url)  # reject what we could not open later
    url = root_relative(ws, url)
    create_folder(ws, name, url)
    if name in remotes(ws):
        raise UsageError(f"data remote {name!r} already exists; use `git mlv remote modify {name} url URL`")
    ws.repo.git("config", "--local", "--unset-all", REMOVED_KEY, f"^{re.escape(name)}$", check=False)
    if local:
        ws.repo.git("config", "--local", f"mlv-remote.{name}.url", url)
        if default:
            ws.repo.git("config", "--local", "mlv.remote", name)
    else:
        _gitmlv_set(ws, f"remote.{name}.url", url)
        if default:
            _gitmlv_set(ws, "core.remote", name)
        remember_url(ws, name, url)  # the user chose it: this clone trusts it
    ws.repo._config = None  # the cached config is stale now
    return remotes(ws)[name]


def remove(ws: Workspace, name: str) -> RemoteConfig:
    """Forget a remote (both places), its default status and its cached indexes."""
    rc = get(ws, check_name(name))
    path = _gitmlv_path(ws)
    if path and os.path.exists(path):
        edits = [["--remove-section", f"remote.{name}"]]
        if read_gitmlv(ws).get("core.remote") == name:
            edits.append(["--unset", "core.remote"])
        _edit_gitmlv(path, edits, check=False)
    ws.repo.git("config", "--local", "--remove-section", f"mlv-remote.{name}", check=False)
    if rc.scope == "tracked" and not any(_split(k, "remote") for k in read_gitmlv(ws)):
        # no remote left in .gitmlv: without this, _remembered took the removed one back from
        # origin/HEAD's .gitmlv: `remote list` still showed it, `git push` uploaded to it (and
        # trusted it again), `remote add NAME URL` said it already existed
        ws.repo.git("config", "--local", "--add", REMOVED_KEY, name)
    if _local_config(ws).get("mlv.remote") == name:
        ws.repo.git("config", "--local", "--unset", "mlv.remote", check=False)
    shutil.rmtree(cache_dir(ws, name), ignore_errors=True)
    ws.repo._config = None
    return rc


def rename(ws: Workspace, old: str, new: str) -> tuple[RemoteConfig | None, list[str]]:
    """Rename a data remote everywhere this clone records it: its ``.gitmlv`` section and the
    default, its ``.git/config`` settings (endpoint, keys, trusted URL) and its cache (indexes,
    verified commits, pending uploads), so nothing is downloaded or uploaded again.

    After pulling a teammate's rename (``old`` gone, ``new`` there), the same command carries this
    clone's settings and cache over to the new name: (None, the settings moved)."""
    check_name(old)
    check_name(new)
    found = remotes(ws)
    local_keys = sorted(_local_only_keys(ws, old))
    if old not in found and new in found and local_keys:  # a teammate's rename, pulled
        _move_local(ws, old, new)
        return None, local_keys
    rc = get(ws, old)
    if new in found:
        raise UsageError(f"data remote {new!r} already exists; choose another name or remove it first")
    path = _gitmlv_path(ws)
    tracked = read_gitmlv(ws) if path else {}
    if path and f"remote.{old}.url" in tracked:
        edits = [["--rename-section", f"remote.{old}", f"remote.{new}"]]
        if tracked.get("core.remote") == old:
            edits.append(["core.remote", new])
        _edit_gitmlv(path, edits)
    elif rc.scope == "tracked" and path:  # taken from origin/HEAD's .gitmlv (_remembered)
        _edit_gitmlv(path, [["remote." + new + ".url", rc.url]]
                     + ([["core.remote", new]] if rc.default else []))
    _move_local(ws, old, new)
    ws.repo._config = None
    return remotes(ws)[new], local_keys


def _move_local(ws: Workspace, old: str, new: str) -> None:
    """``mlv-remote.OLD.*``, ``mlv.remote`` and the cache folder to the name ``new``."""
    ws.repo.git("config", "--local", "--rename-section", f"mlv-remote.{old}", f"mlv-remote.{new}",
                check=False)
    if _local_config(ws).get("mlv.remote") == old:
        ws.repo.git("config", "--local", "mlv.remote", new)
    src, dst = cache_dir(ws, old), cache_dir(ws, new)
    if os.path.isdir(src) and not os.path.exists(dst):
        os.replace(src, dst)
    ws.repo._config = None


def modify(ws: Workspace, name: str, key: str, value: str) -> RemoteConfig:
    """Change ``url`` (where the remote is recorded) or a local setting (see ``OPTIONS``)."""
    rc = get(ws, check_name(name))
    if key.lower() == "url":
        parse(value)
        value = root_relative(ws, value)
        create_folder(ws, name, value)
        if rc.scope == "tracked" and "url" not in _local_only_keys(ws, name):
            _gitmlv_set(ws, f"remote.{name}.url", value)
            remember_url(ws, name, value)
        else:
            ws.repo.git("config", "--local", f"mlv-remote.{name}.url", value)
    elif key.lower() == "default":
        _set_default(ws, rc, value)
    elif key.lower() in _OPTION_KEYS:
        key = _OPTION_KEYS[key.lower()]
        kind = parse(rc.url, base_dir(ws)).scheme
        takes = KIND_OPTIONS.get(kind, ())
        if key not in takes:
            raise UsageError(f"{key} means nothing for {name!r}, {_KIND_NAMES.get(kind, kind)} remote; "
                             "it takes url, default" + "".join(", " + k for k in takes))
        if kind == "s3" and key == "endpoint":
            problem = endpoint_problem(value)
            if problem:
                raise UsageError(problem)
        _check_choice(key, value)
        ws.repo.git("config", "--local", f"mlv-remote.{name}.{key}", value)
    else:
        raise UsageError(f"unknown remote setting {key!r}; known: url, default, " + ", ".join(OPTIONS))
    ws.repo._config = None
    return remotes(ws)[name]


# settings whose reader takes one of a few words: any other was stored, said 'Updated', and then
# read as false ('treu') or refused only at the next push (an addressing style)
_CHOICES = {
    "addressingStyle": ("auto", "path", "virtual"),
    "acceptNewHostKey": ("true", "false", "yes", "no", "on", "off", "1", "0"),
    "anonymous": ("true", "false", "yes", "no", "on", "off", "1", "0"),
}


def _check_choice(key: str, value: str) -> None:
    words = _CHOICES.get(key)
    if words and value.strip().lower() not in words:
        shown = ", ".join(words[:3]) if key == "addressingStyle" else "true or false"
        raise UsageError(f"{key} takes {shown}, not {value!r}")


def _set_default(ws: Workspace, rc: RemoteConfig, value: str) -> None:
    """``remote modify NAME default true|false``: where the remote is recorded (``core.remote`` in
    ``.gitmlv`` for a tracked one, ``mlv.remote`` in .git/config for a local one)."""
    on = value.strip().lower()
    if on not in ("true", "false"):
        raise UsageError(f"default takes true or false, not {value!r}")
    tracked = rc.scope == "tracked"
    if on == "true":
        if tracked:
            _gitmlv_set(ws, "core.remote", rc.name)
        else:
            ws.repo.git("config", "--local", "mlv.remote", rc.name)
    elif tracked and read_gitmlv(ws).get("core.remote") == rc.name:
        _gitmlv_set(ws, "--unset", "core.remote")
    elif _local_config(ws).get("mlv.remote") == rc.name:
        ws.repo.git("config", "--local", "--unset", "mlv.remote")


def remember_url(ws: Workspace, name: str, url: str) -> None:
    """Record ``url`` as the tracked URL of ``name`` this clone trusts (``.git/config``)."""
    ws.repo.git("config", "--local", f"mlv-remote.{name}.{TRUSTED_KEY}", url)
    ws.repo._config = None


def _local_only_keys(ws: Workspace, name: str) -> set[str]:
    keys = set()
    for key in _local_config(ws):
        nk = _split(key, "mlv-remote")
        if nk and nk[0] == name:
            keys.add(nk[1])
    return keys


def cache_dir(ws: Workspace, name: str) -> str:
    """Where the remote's indexes are cached: ``<pool>/remotes/<name>``."""
    return os.path.join(ws.repo.mlv_dir, "remotes", check_name(name))
