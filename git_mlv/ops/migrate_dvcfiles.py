"""DVC's files, as DVC 3 writes them (and DVC 2's, read the same way), for ``migrate from-dvc``.

- ``X.dvc``: YAML, ``outs: [{path, md5, size, nfiles?, hash: md5}]`` (+ optional ``wdir``); paths are
  relative to the file's folder.
- ``dvc.yaml``: ``stages: {NAME: {cmd, wdir?, deps, params, outs, metrics, plots}}``; an output is a
  path or ``{path: {cache: false, ...}}``; a param is ``key`` (of ``params.yaml``) or
  ``{file: [keys]}`` (no keys: the whole file). Paths are relative to the stage's ``wdir``, itself
  relative to the ``dvc.yaml``'s folder.
- ``dvc.lock``: ``stages: {NAME: {cmd, deps: [{path, md5, size, nfiles?, hash}], params: {file: {key:
  value}}, outs: [...]}}``; an entry without ``hash: md5`` is DVC 2's ``md5-dos2unix``.
- The cache: ``.dvc/cache/files/md5/<aa>/<rest>`` (DVC 3), ``.dvc/cache/<aa>/<rest>`` (DVC 2); a
  directory is a ``<md5>.dir`` object: JSON ``[{"md5", "relpath"}]`` sorted by relpath, whose md5
  is that of ``json.dumps(list, sort_keys=True)``.
- ``.dvc/config``: configobj INI, ``['remote "NAME"']`` sections with ``url``, ``[core] remote``.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .migrate_dvcexpand import expand
from .migrate_dvcvars import Context, Read, VarsError, fill_cmd, fill_paths, has_refs
from .migrate_rewrite import MigrateError

DEFAULT_PARAMS = "params.yaml"


class DvcFormatError(MigrateError):
    """A DVC file git-mlv cannot read; the message names it."""


@dataclass(frozen=True)
class Hash:
    """A DVC content hash: md5 hex, whether it names a ``.dir`` listing, and DVC 2's flavour."""

    md5: str
    is_dir: bool
    legacy: bool  # md5-dos2unix (DVC 2): text files hashed with CRLF turned into LF
    size: int | None = None


@dataclass
class Output:
    """A DVC output: root-relative path, its hash (None when never computed), and its kind."""

    path: str
    hash: Hash | None
    kind: str = "out"  # out | outnocache | metric | plot
    cache: bool = True


@dataclass
class DvcStage:
    """A ``dvc.yaml`` stage, paths made root-relative."""

    name: str
    cmd: str
    wdir: str  # root-relative ("" = the root)
    yaml_dir: str = ""  # the folder of its dvc.yaml
    deps: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)  # FILE:KEY or FILE, root-relative FILE
    outs: list[Output] = field(default_factory=list)
    # DVC settings .gitmlv has no word for, each a phrase naming what changes for `git mlv repro`
    dropped: list[str] = field(default_factory=list)
    dvc_name: str = ""  # DVC's NAME@KEY when a foreach/matrix made it (migrate_dvcexpand.py)
    dvc_cmd: str = ""  # the command as DVC runs it (and dvc.lock records it): its ${...} filled in


@dataclass
class LockedStage:
    """A ``dvc.lock`` entry: what the stage read and wrote at its last run."""

    cmd: str
    deps: dict[str, Hash] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # root-relative file -> {key: value}
    outs: dict[str, Hash] = field(default_factory=dict)


def _join(base: str, path: str, where: str) -> str:
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    if joined.startswith("../") or joined == ".." or posixpath.isabs(joined):
        raise DvcFormatError(f"{where}: path {path!r} is outside the repository")
    return "" if joined == "." else joined


# DVC's external dependencies: a URL (`https://`, `s3://`, its `remote://NAME/path`) or a path
# outside the repository (`/data/shared.csv`); DVC checks their etag or md5 at each repro
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def _external(base: str, path: str) -> bool:
    """True for a DVC path that is not in the repository: a URL, or a path that leaves it."""
    if _URL.match(path) or posixpath.isabs(path):
        return True
    joined = posixpath.normpath(posixpath.join(base, path))
    return joined == ".." or joined.startswith("../")


def _load(text: bytes, where: str) -> Any:
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise DvcFormatError(f"{where} is not valid YAML: {str(e).splitlines()[0]}") from None


def _hash(entry: dict[str, Any]) -> Hash | None:
    md5 = entry.get("md5")
    if not isinstance(md5, str) or not re.fullmatch(r"[0-9a-f]{32}(\.dir)?", md5):
        return None
    size = entry.get("size")
    return Hash(md5[:32], md5.endswith(".dir"), entry.get("hash") != "md5",
                size if isinstance(size, int) else None)


def parse_dvc_file(path: str, text: bytes) -> list[Output]:
    """The outputs an ``X.dvc`` file tracks (root-relative paths)."""
    doc = _load(text, path)
    if not isinstance(doc, dict):
        raise DvcFormatError(f"{path}: not a DVC file")
    base = _join(posixpath.dirname(path), str(doc.get("wdir", ".")), path)
    outs = []
    for o in doc.get("outs") or []:
        if not isinstance(o, dict) or "path" not in o:
            raise DvcFormatError(f"{path}: an output without a path")
        cache = o.get("cache", True) is not False
        outs.append(Output(_join(base, str(o["path"]), path), _hash(o), "out", cache))
    return outs


def dvc_file_sources(path: str, text: bytes) -> list[str]:
    """What a ``.dvc`` file made by `dvc import` or `dvc import-url` was imported from (its
    ``deps``), for the summary: the data is converted, the link to its source is not."""
    doc = _load(text, path)
    found = []
    for d in (doc.get("deps") if isinstance(doc, dict) else None) or []:
        if not isinstance(d, dict) or "path" not in d:
            continue
        repo = d.get("repo")
        if isinstance(repo, dict) and repo.get("url"):
            rev = str(repo.get("rev_lock") or repo.get("rev") or "")[:12]
            found.append(f"`dvc import` of {d['path']} from {repo['url']}" + (f" at {rev}" if rev else ""))
        else:
            found.append(f"`dvc import-url` of {d['path']}")
    return found


def _entries(items: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """``[path | {path: {options}}]`` -> [(path, options)]."""
    out: list[tuple[str, dict[str, Any]]] = []
    for item in items or []:
        if isinstance(item, str):
            out.append((item, {}))
        elif isinstance(item, dict) and len(item) == 1:
            (p, opts), = item.items()
            out.append((str(p), opts if isinstance(opts, dict) else {}))
        else:
            raise DvcFormatError(f"{where}: cannot read entry {item!r}")
    return out


def top_level_dropped(path: str, text: bytes, stages: list[DvcStage]) -> list[str]:
    """Lines for the summary about a ``dvc.yaml``'s top-level ``metrics``, ``params`` and ``plots``
    (DVC 3 declares files there that no stage names): ``.gitmlv`` knows a stage's metrics and
    params only, so they are not converted. Before, they were dropped without a word, and
    `git mlv metrics diff v1 v2` said "No changes." where `dvc metrics diff` showed them."""
    doc = _load(text, path)
    if not isinstance(doc, dict):
        return []
    here = posixpath.dirname(path)
    named = {o.path for st in stages for o in st.outs if o.kind == "metric"}
    params = {p.split(":", 1)[0] for st in stages for p in st.params}
    out = []

    def files(section: str) -> list[str]:
        found = []
        for item in doc.get(section) or []:
            name = item if isinstance(item, str) else next(iter(item), None) if isinstance(item, dict) \
                else None
            if name is not None:
                found.append(posixpath.normpath(posixpath.join(here, str(name))))
        return found

    metrics = [f for f in files("metrics") if f not in named]
    if metrics:
        out.append(f"top-level metrics {', '.join(metrics)}: .gitmlv names a stage's metrics only; "
                   f"`git mlv metrics show/diff --file {metrics[0]}` reads it (or declare it as the "
                   "metric of the stage that writes it: `-M`)")
    unused = [f for f in files("params") if f not in params]
    if unused:
        out.append(f"top-level params {', '.join(unused)}: no stage reads them, so `git mlv params diff` "
                   "does not show them")
    if doc.get("plots"):
        out.append("top-level plots: DVC's rendering settings are not converted (`git mlv plots` draws "
                   "metrics)")
    return out


def parse_dvc_yaml(path: str, text: bytes, read: Read | None = None, survey: bool = False
                   ) -> list[DvcStage]:
    """The stages of a ``dvc.yaml`` (root-relative paths); ``read`` gives the files its templating
    reads (params.yaml, ``vars``). Without it, or in a ``survey`` of the history's outputs, a
    stage whose templating cannot be filled is left out rather than an error."""
    doc = _load(text, path)
    here = posixpath.dirname(path)
    stages = []
    defined = (doc.get("stages") if isinstance(doc, dict) else None) or {}
    if not isinstance(defined, dict):
        raise DvcFormatError(f"{path}: `stages` is not a mapping of stage names")
    # before "has no cmd": a foreach/matrix stage keeps its cmd under `do:` and uses ${item}
    defined, generated = expand(defined, path)
    dvc_names = {ours: theirs for theirs, ours in generated.items()}
    # read only for a templated stage: a vars file that is gone does not matter to the others
    ctx: Context | None = None
    for name, st in defined.items():
        where = f"{path}: stage {name!r}"
        if not isinstance(st, dict) or "cmd" not in st:
            raise DvcFormatError(f"{where}: has no cmd")
        notes: list[str] = []
        cmd = st["cmd"]
        if has_refs(st):  # DVC's templating (migrate_dvcvars.py): values from files stay references
            try:
                ctx = ctx or Context.of_yaml(path, doc, read)
                cmd, dvc_cmd, st = _templated(st, ctx, _join(here, str(st.get("wdir", ".")), where), read,
                                              where, notes)
            except VarsError:
                if read is None or survey:
                    continue
                raise
        else:
            cmd = dvc_cmd = " && ".join(map(str, cmd)) if isinstance(cmd, list) else str(cmd)
        wdir = _join(here, str(st.get("wdir", ".")), where)
        stage = DvcStage(str(name), cmd, wdir, here, dvc_name=dvc_names.get(str(name), ""), dvc_cmd=dvc_cmd,
                         dropped=notes)
        for d in map(str, st.get("deps") or []):
            if not _external(wdir, d):
                stage.deps.append(_join(wdir, d, where))
            else:  # made a path in the work tree, it was a dependency no stage makes: repro failed
                stage.dropped.append(f"external dependency {d}: a change there no longer makes it stale "
                                     f"(git-mlv reads dependencies in the work tree; `git mlv repro "
                                     f"--force -s {name}` runs it)")
        for p in st.get("params") or []:
            if isinstance(p, str):
                stage.params.append(f"{_join(wdir, DEFAULT_PARAMS, where)}:{p}")
            elif isinstance(p, dict):
                for file, keys in p.items():
                    f = _join(wdir, str(file), where)
                    if not keys:
                        stage.params.append(f)
                    else:
                        stage.params += [f"{f}:{k}" for k in keys]
        for section, kind in (("outs", "out"), ("metrics", "metric"), ("plots", "plot")):
            for p, opts in _entries(st.get(section), where):
                if _external(wdir, p):
                    raise DvcFormatError(f"{where}: output {p!r} is outside the repository (a DVC external "
                                         "output), which from-dvc does not convert; have the stage write it "
                                         "in the work tree, or remove it from dvc.yaml, first")
                cache = opts.get("cache", True) is not False
                stage.outs.append(Output(_join(wdir, p, where), None, kind, cache))
                if opts.get("persist") is True:
                    stage.dropped.append(f"persist: {p} is deleted before each run")
        if st.get("frozen") is True:
            stage.dropped.append("frozen: it is run when stale")
        if st.get("always_changed") is True:
            stage.dropped.append("always_changed: it is run only when stale")
        stages.append(stage)
    return stages


def _templated(st: dict[str, Any], ctx: Context, wdir: str, read: Read | None, where: str,
               notes: list[str]) -> tuple[str, str, dict[str, Any]]:
    """(cmd for .gitmlv, cmd as DVC runs it, the stage with its paths filled in)."""
    stage_ctx = ctx.with_vars(st.get("vars"), wdir, read, where)
    frozen: set[str] = set()
    filled = fill_paths({k: v for k, v in st.items() if k not in ("cmd", "vars")}, stage_ctx, where, notes,
                        frozen)
    cmd = st["cmd"]
    parts = [fill_cmd(str(c), stage_ctx, where, notes, frozen)
             for c in (cmd if isinstance(cmd, list) else [cmd])]
    return " && ".join(p[0] for p in parts), " && ".join(p[1] for p in parts), filled


def parse_dvc_lock(path: str, text: bytes, stages: list[DvcStage]) -> dict[str, LockedStage]:
    """The ``dvc.lock`` entries of ``stages`` (paths made root-relative with each stage's wdir)."""
    doc = _load(text, path)
    by_name = {s.dvc_name or s.name: s for s in stages}  # dvc.lock names a generated stage NAME@KEY
    out = {}
    for name, st in (doc.get("stages") or {}).items():
        if name not in by_name or not isinstance(st, dict):
            continue
        where = f"{path}: stage {name!r}"
        wdir = by_name[name].wdir
        cmd = st.get("cmd", "")
        locked = LockedStage(" && ".join(map(str, cmd)) if isinstance(cmd, list) else str(cmd))
        for key, target in (("deps", locked.deps), ("outs", locked.outs)):
            for e in st.get(key) or []:
                h = _hash(e) if isinstance(e, dict) else None
                if h is not None and not _external(wdir, str(e["path"])):  # external: not converted
                    target[_join(wdir, str(e["path"]), where)] = h
        for file, values in (st.get("params") or {}).items():
            locked.params[_join(wdir, str(file), where)] = dict(values or {})
        out[by_name[name].name] = locked
    return out


def parse_dvc_config(text: str) -> tuple[dict[str, str], str | None]:
    """(remote name -> url, default remote) from ``.dvc/config``."""
    remotes, default = parse_dvc_remotes(text)
    return {n: o["url"] for n, o in remotes.items() if "url" in o}, default


def parse_dvc_remotes(text: str) -> tuple[dict[str, dict[str, str]], str | None]:
    """(remote name -> its settings, ``url`` among them; default remote) from a DVC config file."""
    remotes: dict[str, dict[str, str]] = {}
    default = None
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]'\" ")
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip().strip("'\"")
        m = re.fullmatch(r'remote\s+"?([^"]+)"?', section)
        if m:
            remotes.setdefault(m.group(1), {})[key] = value
        elif section == "core" and key == "remote":
            default = value
    return remotes, default


# DVC remote settings that say where the data is, as git-mlv's `remote modify` keys (credentials
# are never carried: they belong in each user's own settings)
_DVC_SETTINGS = {"s3": {"endpointurl": "endpoint", "region": "region", "profile": "profile"},
                 "gs": {"endpointurl": "endpoint"}}


def mlv_remote(url: str, settings: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    """A DVC remote's URL as git-mlv spells it, and the ``remote modify`` settings it needs.

    DVC's ``azure://CONTAINER/PATH`` with ``account_name`` is git-mlv's ``az://CONTAINER@ACCOUNT/PATH``
    (it was called a kind git-mlv does not support); an S3 ``endpointurl`` (MinIO...), ``region`` or
    ``profile`` was dropped, and the first push went to AWS."""
    if url.startswith("azure://"):
        container, _, path = url[len("azure://"):].partition("/")
        account = settings.get("account_name", "")
        return f"az://{container}{'@' + account if account else ''}{'/' + path if path else ''}", []
    if url.startswith("ssh://") and (settings.get("user") or settings.get("port")):
        # `dvc remote modify NAME user|port`: in the URL, where git-mlv (and ssh) read them
        host, slash, path = url[len("ssh://"):].partition("/")
        user, at, hostport = host.rpartition("@")
        name, colon, port = hostport.partition(":")
        user = user if at else settings.get("user", "")
        port = port if colon else settings.get("port", "")
        return f"ssh://{user + '@' if user else ''}{name}{':' + port if port else ''}{slash}{path}", []
    keys = _DVC_SETTINGS.get(url.partition("://")[0], {})
    return url, sorted((keys[k], v) for k, v in settings.items() if k in keys)


def dvc_cache_dir(texts: list[str]) -> str | None:
    """``[cache] dir`` of ``.dvc/config`` files (later ones win), as written (relative to ``.dvc/``)."""
    found = None
    for text in texts:
        section = ""
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("["):
                section = line.strip("[]'\" ")
            elif section == "cache" and line.partition("=")[0].strip() == "dir":
                found = line.partition("=")[2].strip().strip("'\"")
    return found


def dir_md5(listing: list[tuple[str, str]]) -> str:
    """DVC's md5 of a directory from its (relpath, md5) files."""
    entries = [{"md5": md5, "relpath": rel} for rel, md5 in sorted(listing)]
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest()


def parse_dir_object(data: bytes, where: str) -> list[tuple[str, str]]:
    """(relpath, md5) of a ``.dir`` cache object."""
    try:
        entries = json.loads(data)
        return [(str(e["relpath"]), str(e["md5"])) for e in entries]
    except (ValueError, KeyError, TypeError):
        raise DvcFormatError(f"{where}: not a DVC directory listing") from None


def file_md5(data_iter: Any, legacy: bool) -> str:
    """DVC's md5 of a file's content (an iterable of byte blocks); ``legacy``: DVC 2's dos2unix
    flavour, CRLF -> LF for files without NUL in their first 8 KiB."""
    h = hashlib.md5()
    if not legacy:
        for block in data_iter:
            h.update(block)
        return h.hexdigest()
    data = b"".join(data_iter)
    if b"\0" not in data[:8192]:
        data = data.replace(b"\r\n", b"\n")
    h.update(data)
    return h.hexdigest()
