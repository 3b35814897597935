"""The source side of ``get``/``import``/``update``: one revision of another repository, the files
under a path in it, and their data in a pool of ours (docs/imports.md, "What is fetched").
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.hashing import EMPTY_OID
from ..core.pointer import MAX_SIZE, Pointer
from ..errors import UsageError
from ..gitio import walk
from ..gitio.catfile import CatFile
from ..gitio.source import SourceError, SourceRepo, SourceUnreachable, TreeEntry, git_url, local_path
from ..remotes.base import RemoteError
from ..remotes.cache import RemoteIndex
from ..remotes.fetch import fetch_files
from ..remotes.transfer import RetryPolicy
from ..remotes.url import open_remote
from .remote_config import GITMLV

if TYPE_CHECKING:
    from ..core.pool import Pool

ProgressFn = Callable[[int, int], None]
_REGULAR = {"100644": 0o100644, "100755": 0o100755}
_SHOW = 5  # files named in an error about many


@dataclass(frozen=True)
class SourceFile:
    """One file of the source under PATH."""

    rel: str  # relative to PATH ("" when PATH is the file itself)
    mode: int  # 0o100644 or 0o100755
    oid: str  # sha256 hex of the content
    size: int
    pointer: bool  # tracked by git-mlv there (else a plain git file)
    pointer_text: bool = False  # a plain file whose bytes are git-mlv pointer text (a test fixture)


@dataclass
class Source:
    """What PATH is at one commit of the source repository."""

    url: str  # as the user gave it
    path: str
    rev: str
    commit: str
    kind: str  # "file" or "dir"
    files: list[SourceFile] = field(default_factory=list)
    remote_url: str | None = None  # the source's default data remote, when any file needs it
    bytes_received: int = 0

    @property
    def size(self) -> int:
        """Total bytes of the files."""
        return sum(f.size for f in self.files)


def clean_source_path(path: str) -> str:
    """PATH as a clean path relative to the source's root; UsageError otherwise."""
    p = path.strip().strip("/")
    if not p or p == "." or os.path.normpath(p) != p or p.startswith("../") or p == "..":
        raise UsageError(f"{path!r}: give a file or folder path relative to the source repository's root")
    return p


def read_source(scratch: str, url: str, path: str, rev: str, base: str, pool: Pool,
                cache_dir: str, options_for: Callable[[str], Mapping[str, str]],
                retry: RetryPolicy, progress: ProgressFn | None = None,
                known: Mapping[str, tuple[str, int]] | None = None) -> Source:
    """Fetch ``path`` at ``rev`` of ``url`` (into the scratch folder), its data into ``pool``.

    ``base``: what a relative local URL is relative to; ``options_for(remote_url)``: settings for
    the source's data remote (an S3 endpoint...); ``known``: git blob id -> (sha256, size) of
    pointers we hold already (an update's previous import): a pointer has one valid encoding, so
    the same blob id is the same pointer and is not fetched again. Raises SourceError for any part
    that cannot be read: nothing is written anywhere but the scratch folder and the pool.
    """
    gurl = git_url(url, base)
    src = SourceRepo(os.path.join(scratch, "source.git"), gurl, url)
    commit = src.fetch(rev)
    kind, entries = src.entries(commit, path)
    bad = [e for e in entries if e.kind != "blob" or e.mode not in _REGULAR]
    if bad:
        what = "a submodule" if bad[0].kind == "commit" else "a symbolic link"
        raise SourceError(f"{bad[0].path} in {url} is {what}; only regular files can be imported")
    known = known or {}
    unknown = list(dict.fromkeys(e.oid for e in entries if e.oid not in known))
    config_blob = src.blob_id(commit, GITMLV)  # fetched with the rest: one request, not two
    attrs = _attribute_files(src, commit, path, entries)
    src.fetch_blobs(unknown + [b for _, b in attrs] + ([config_blob] if config_blob else []))
    filters = _filters(src, scratch, attrs, [e.path for e in entries])
    sizes = walk.object_sizes(src.repo, unknown)
    pointers = {b: (pb.oid, pb.size) for b, pb in walk.pointer_blobs(src.repo, unknown, sizes).items()}
    pointers.update((e.oid, known[e.oid]) for e in entries if e.oid in known)
    # pointer text is a pointer only where the source's filter=mlv applies (its clone smudges it
    # there); elsewhere (a test fixture) it is the file, as a clone checks it out
    data = {e.path for e in entries if e.oid in pointers and filters.get(e.path) == b"mlv"}
    as_text = [e for e in entries if e.path not in data]
    src.fetch_blobs([e.oid for e in as_text if e.oid in known])  # our pointers: text there
    source = Source(url, path, rev, commit, kind)
    plain: dict[str, Pointer] = {}
    with CatFile(src.repo) as cat:  # plain git files go into the pool, streamed
        _refuse_lfs_pointers(cat, [e for e in as_text if filters.get(e.path) == b"lfs"], url)
        writer = pool.writer()
        for e in as_text:
            if e.oid in plain:
                continue
            got = cat.open(e.oid)
            if got is None:
                raise SourceError(f"{e.path}: its content did not come with the fetch from {url}")
            plain[e.oid] = writer.add_stream(got[1])  # type: ignore[arg-type]
        writer.flush()
    for e in entries:
        rel = "" if kind == "file" else e.path[len(path) + 1:]
        if e.path in data:
            oid, size = pointers[e.oid]
            source.files.append(SourceFile(rel, _REGULAR[e.mode], oid, size, True))
        else:
            p = plain[e.oid]
            source.files.append(SourceFile(rel, _REGULAR[e.mode], p.oid, p.size, False, e.oid in pointers))
    wanted = {f.oid: f.size for f in source.files if f.pointer and f.oid != EMPTY_OID}
    if wanted:
        _fetch_data(src, source, wanted, base, pool, cache_dir, options_for, retry, progress, scratch)
    return source


def _attribute_files(src: SourceRepo, commit: str, path: str, entries: list[TreeEntry]
                     ) -> list[tuple[str, str]]:
    """(path, blob id) of the ``.gitattributes`` files of ``commit`` that apply under ``path``: at
    the root, in each folder above it (one ``rev-parse`` each) and under it (among ``entries``)."""
    parts = path.split("/")
    found = []
    for depth in range(len(parts)):
        name = "/".join(parts[:depth] + [".gitattributes"])
        blob = src.blob_id(commit, name)
        if blob:
            found.append((name, blob))
    found += [(e.path, e.oid) for e in entries if e.path.rsplit("/", 1)[-1] == ".gitattributes"
              and e.path not in dict(found)]
    return found


def _filters(src: SourceRepo, scratch: str, attrs: list[tuple[str, str]], paths: list[str]
             ) -> dict[str, bytes]:
    """path -> the ``filter`` attribute the source's committed ``.gitattributes`` give it, by git's
    own rules (``check-attr --cached`` over an index holding only those files; the user's
    ``core.attributesFile`` is left out: the source's files, not ours, decide). One process each."""
    if not attrs or not paths:
        return {}
    env = {**os.environ, "GIT_INDEX_FILE": os.path.join(scratch, "attributes.index")}
    try:
        subprocess.run(["git", "update-index", "-z", "--index-info"], cwd=src.repo.git_dir, env=env,
                       input=b"".join(b"100644 %s\t%s\0" % (b.encode(), os.fsencode(p)) for p, b in attrs),
                       check=True, capture_output=True)
        raw = subprocess.run(["git", "-c", "core.attributesFile=" + os.devnull, "check-attr", "--cached",
                              "-z", "--stdin", "filter"], cwd=src.repo.git_dir, env=env, check=True,
                             input=b"".join(os.fsencode(p) + b"\0" for p in paths),
                             capture_output=True).stdout
    except subprocess.CalledProcessError as e:
        why = e.stderr.decode(errors="replace").strip().splitlines()
        raise SourceError(f"cannot read the .gitattributes of {src.shown}: "
                          f"{why[-1] if why else f'exit {e.returncode}'}") from None
    records = raw.split(b"\0")
    return {os.fsdecode(p): v for p, v in zip(records[0::3], records[2::3])}


def _refuse_lfs_pointers(cat: CatFile, entries: list[TreeEntry], url: str) -> None:
    """SourceError when files git-lfs filters in the source are git-lfs pointers (a dataset kept
    with git-lfs): their bytes are on a git-lfs server git-mlv does not talk to, and the pointer
    text would have been written as the file, reported as imported."""
    from .migrate_lfs import parse_lfs_pointer

    found = [e.path for e in entries if (cat.info(e.oid) or ("", MAX_SIZE))[1] < MAX_SIZE
             and parse_lfs_pointer(cat.read(e.oid) or b"")]
    if found:
        named = ", ".join(found[:_SHOW]) + (f" and {len(found) - _SHOW} more" if len(found) > _SHOW else "")
        raise SourceError(f"{len(found)} file(s) in {url} are git-lfs pointers, whose data git-mlv cannot "
                          f"fetch: {named}; in a clone of the source, `git lfs pull` brings the files "
                          "(or its owner converts them: `git mlv migrate from-lfs`)")


def _default_remote(src: SourceRepo, commit: str) -> str | None:
    """The URL of the default data remote the committed ``.gitmlv`` of ``commit`` names, if any."""
    cfg = src.config_at(commit, GITMLV)
    urls = {k[len("remote."):-len(".url")]: v for k, v in cfg.items()
            if k.lower().startswith("remote.") and k.lower().endswith(".url")}
    name = cfg.get("core.remote") or (next(iter(urls)) if len(urls) == 1 else None)
    return urls.get(name) if name is not None else None


def _source_remote(src: SourceRepo, commit: str, scratch: str) -> str:
    """The URL of the source's default data remote: from the committed ``.gitmlv`` of ``commit``,
    else (an old tag of a history migrated from git-lfs or DVC, or made before the remote was
    added, has none) from that of the source's HEAD, whose remote ``git mlv push --all`` fills."""
    url = _default_remote(src, commit)
    if url is not None:
        return url
    head = SourceRepo(os.path.join(scratch, "head.git"), src.url, src.shown)
    head_commit = head.fetch("")
    url = _default_remote(head, head_commit) if head_commit != commit else None
    if url is None:
        nor = "" if head_commit == commit else ", nor does its HEAD"
        raise SourceError(f"{src.shown} at {commit[:12]} names no default data remote in its {GITMLV}{nor}; "
                          "its data cannot be fetched (its owner sets one with "
                          "`git mlv remote add NAME URL --default`)")
    return url


def _fetch_data(src: SourceRepo, source: Source, wanted: dict[str, int], base: str, pool: Pool,
                cache_dir: str, options_for: Callable[[str], Mapping[str, str]],
                retry: RetryPolicy, progress: ProgressFn | None, scratch: str) -> None:
    """Fetch the data of ``wanted`` (oid -> size) from the source's data remote into ``pool``."""
    from ..remotes.url import parse
    from .data import present_oids

    here = present_oids(pool, wanted)  # one vectorised lookup: the remote is opened only if needed
    todo = {o: s for o, s in wanted.items() if o not in here}
    if not todo:
        return
    rurl = _source_remote(src, source.commit, scratch)
    source.remote_url = rurl
    root = local_path(src.url)
    if parse(rurl).scheme == "folder" and not os.path.isabs(os.path.expanduser(rurl)) and root is None:
        raise SourceError(f"the data remote of {source.url} is a relative folder ({rurl}); it can be "
                          "read only when the source repository is a local path")
    remote_base = root or base
    where = parse(rurl, remote_base)
    if where.scheme == "folder" and not os.path.isdir(where.path):
        # a folder remote reads a missing folder as an empty one: each file was "not on the remote"
        raise SourceUnreachable(f"the data remote of {source.url} is the folder {where.path}, which "
                                "does not exist here; its data cannot be fetched (is it on another machine "
                                "or drive?)")
    try:
        remote = open_remote(rurl, options_for(rurl), remote_base, "source")
        rindex = RemoteIndex(remote, os.path.join(cache_dir, hashlib.sha256(
            remote.url.encode()).hexdigest()[:16]), retry.run)
    except RemoteError as e:
        # a remote error (README: exit 5), not the caller's mistake (2) as it was
        raise SourceUnreachable(f"cannot open the data remote {rurl} of {source.url}: {e}") from None
    try:
        stats = fetch_files(pool, remote, rindex, todo, retry, progress, sizes=todo)
    except RemoteError as e:
        raise SourceUnreachable(f"cannot read the data remote {rurl} of {source.url}: {e}") from None
    finally:
        pool.writer().flush()
        rindex.close()
        remote.close()
    source.bytes_received = stats.bytes_received
    lacking = [o for o in todo if o not in stats.present]
    if lacking:
        names = {f.oid: f.rel or source.path for f in source.files}
        shown = ", ".join(f"{names[o]} ({stats.failed.get(o, 'not there')})" for o in lacking[:_SHOW])
        more = f" and {len(lacking) - _SHOW} more" if len(lacking) > _SHOW else ""
        raise SourceError(f"{len(lacking)} file(s) of {source.path} have no data on {rurl}, the "
                          f"data remote of {source.url}: {shown}{more}; nothing was written "
                          "(the source's owner should `git mlv push`)")
