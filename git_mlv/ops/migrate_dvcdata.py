"""From a DVC project's state to git-mlv's: outputs -> pointers (bytes from ``.dvc/cache``), stages ->
``.gitmlv``, ``dvc.lock`` -> ``.gitmlv.lock``, ``.gitignore``/``.gitattributes`` lines.

``migrate_dvc`` applies this to the checked-out tree (one new commit) or to every commit of a
history rewrite. Files git tracks (code, params, git-kept metrics) are read through a ``Source``:
the work tree, or the original commit.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from ..core.pointer import Pointer
from ..errors import MlvError
from ..gitio import attributes
from ..gitio.fastexport import FileChange
from ..pipeline import lock as lockfile
from ..pipeline.configfile import replace_sections
from ..pipeline.fingerprint import encode_listing
from ..pipeline.lock import LockEntry, Record, canonical_json
from ..pipeline.params import values as param_values
from ..pipeline.readers import flatten
from ..pipeline.spec import Spec, SpecError, Stage
from ..pipeline.template import param_entries
from .context import Workspace
from .migrate_dvcfiles import (
    DvcFormatError,
    DvcStage,
    Hash,
    LockedStage,
    Output,
    dir_md5,
    file_md5,
    parse_dir_object,
)
from .migrate_rewrite import MigrateError

_MISSING_SHOWN = 5
_MD5_AHEAD = 8  # blocks the md5 thread may lag behind the reader


class MissingDvcData(MigrateError):
    """Data DVC tracks is neither in ``.dvc/cache`` nor in the work tree."""


class Source(Protocol):
    """Files git tracks at the state being converted (the work tree, or an original commit)."""

    def read(self, path: str) -> bytes | None:
        """A file's bytes, None when there is no such file."""
        ...

    def walk(self, path: str) -> list[str] | None:
        """Root-relative paths of the files below a folder (sorted), None when it is not one."""
        ...


class WorktreeSource:
    """The work tree as it is."""

    def __init__(self, top: str) -> None:
        self.top = top

    def read(self, path: str) -> bytes | None:
        """A file's bytes."""
        full = os.path.join(self.top, path)
        if not os.path.isfile(full):
            return None
        with open(full, "rb") as f:
            return f.read()

    def walk(self, path: str) -> list[str] | None:
        """Files below a folder."""
        base = os.path.join(self.top, path)
        if not os.path.isdir(base):
            return None
        out = []
        for d, dirs, files in os.walk(base):
            dirs.sort()
            out += [posixpath.join(path, os.path.relpath(os.path.join(d, f), base).replace(os.sep, "/"))
                    for f in files]
        return sorted(out)


@dataclass
class Missing:
    """Outputs whose data could not be found."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.count += 1
        if len(self.examples) < _MISSING_SHOWN:
            self.examples.append(what)


class DvcData:
    """DVC's cache read into the pool: md5 -> (sha256, size), each object stored once.

    The md5 of every object read is checked while it is stored: a damaged cache file stops the
    migration instead of becoming git-mlv data.
    """

    def __init__(self, ws: Workspace, dvc_dir: str, store: bool = True, cache_dir: str | None = None,
                 history: bool = False) -> None:
        self.ws = ws
        self.store = store
        self.history = history  # every commit's data is wanted (--everything), not HEAD's alone
        # DVC reads a relative `cache.dir` from its config relative to .dvc/
        self.cache_dir = os.path.join(dvc_dir, os.path.expanduser(cache_dir or "cache"))
        self.files = 0
        self.bytes = 0
        self.missing = Missing()
        self._known: dict[str, tuple[str, int]] = {}  # md5 -> (sha256, size)
        self._listings: dict[str, list[tuple[str, str]]] = {}
        self.sources: dict[str, str] = {}  # sha256 -> the cache file whose bytes we stored
        self._md5_thread = ThreadPoolExecutor(1)

    def close(self) -> None:
        """Stop the md5 thread."""
        self._md5_thread.shutdown()

    def same_bytes(self, path: str, oid: str) -> bool | None:
        """Whether the file at ``path`` holds the bytes stored as ``oid`` (compared with the cache
        file they came from: reading is cheaper than hashing); None when we have no such file."""
        src = self.sources.get(oid)
        if src is None:
            return None
        try:
            with open(path, "rb") as a, open(src, "rb") as b:
                if os.fstat(a.fileno()).st_size != os.fstat(b.fileno()).st_size:
                    return False
                while True:
                    x, y = a.read(1 << 20), b.read(1 << 20)
                    if x != y:
                        return False
                    if not x:
                        return True
        except OSError:
            return False

    def cache_path(self, md5: str, is_dir: bool = False) -> str | None:
        """The cache file of an object (DVC 3's layout, then DVC 2's), None when absent."""
        name = md5[2:] + (".dir" if is_dir else "")
        for p in (os.path.join(self.cache_dir, "files", "md5", md5[:2], name),
                  os.path.join(self.cache_dir, md5[:2], name)):
            if os.path.exists(p):
                return p
        return None

    def listing(self, h: Hash, where: str) -> list[tuple[str, str]] | None:
        """(relpath, md5) of a directory output, from its ``.dir`` object."""
        if h.md5 not in self._listings:
            p = self.cache_path(h.md5, True)
            if p is None:
                return None
            with open(p, "rb") as f:
                self._listings[h.md5] = parse_dir_object(f.read(), where)
        return self._listings[h.md5]

    def file(self, md5: str, where: str, fallback: str | None = None) -> tuple[str, int] | None:
        """(sha256, size) of the object ``md5`` after storing it; None (and noted) when missing.

        ``fallback`` is a work-tree file to take the bytes from when the cache lacks the object
        (a project whose cache was cleaned after checkout); its md5 is checked all the same.
        """
        got = self._known.get(md5)
        if got is not None:
            return got
        path = self.cache_path(md5) or (fallback if fallback and os.path.isfile(fallback) else None)
        if path is None:
            self.missing.add(where)
            return None
        size = os.path.getsize(path)
        self.files += 1
        self.bytes += size
        if not self.store or self.missing.count:
            got = ("0" * 64, size)  # a dry run, or a run that stops anyway: count, store nothing
        else:
            with open(path, "rb") as f:
                reader = _Md5Reader(f, self._md5_thread)
                ptr = self.ws.pool.writer().add_stream(reader)  # type: ignore[arg-type]
            if reader.hexdigest() != md5:
                raise MigrateError(f"{path} does not hash to its DVC md5 {md5} (for {where}); "
                                   "the DVC cache is damaged: fetch it again (`dvc fetch`)")
            got = (ptr.oid, ptr.size)
            self.sources.setdefault(ptr.oid, path)
        self._known[md5] = got
        return got

    def note(self, md5: str, data: bytes) -> tuple[str, int]:
        """Remember the ids of a small object whose bytes we already hold (a git-kept file)."""
        got = self._known.get(md5)
        if got is None:
            got = self._known[md5] = (hashlib.sha256(data).hexdigest(), len(data))
        return got

    def output_files(self, out: Output) -> Iterator[tuple[str, str, int]] | None:
        """(path, sha256, size) of each file of a cached output; None when its data is missing."""
        assert out.hash is not None
        if not out.hash.is_dir:
            got = self.file(out.hash.md5, out.path, os.path.join(self.ws.repo.top, out.path))
            return None if got is None else iter([(out.path, *got)])
        listing = self.listing(out.hash, out.path)
        if listing is None:
            self.missing.add(f"{out.path}/ (its listing {out.hash.md5}.dir)")
            return None
        found = []
        for rel, md5 in listing:
            path = f"{out.path}/{rel}"
            got = self.file(md5, path, os.path.join(self.ws.repo.top, path))
            if got is not None:
                found.append((path, *got))
        return iter(found)

    def dir_record(self, h: Hash, where: str) -> Record | None:
        """Our record of a directory DVC cached: sha256 of git-mlv's listing of its files."""
        listing = self.listing(h, where)
        if listing is None:
            return None
        entries = []
        for rel, md5 in listing:
            got = self.file(md5, f"{where}/{rel}")
            if got is None:
                return None
            entries.append((rel, got[0], got[1]))
        return Record(hashlib.sha256(encode_listing(entries)).hexdigest(), sum(e[2] for e in entries), True)

    def check(self) -> None:
        """MissingDvcData naming what was not found (before anything changed)."""
        m = self.missing
        if m.count:
            more = f" and {m.count - len(m.examples)} more" if m.count > len(m.examples) else ""
            raise MissingDvcData(f"the data of {m.count} DVC file(s) is neither in .dvc/cache nor in the "
                                 f"work tree: {', '.join(m.examples)}{more}; run "
                                 # `dvc fetch` brings the workspace's data only: the old commits' was
                                 # still missing, and the same advice came back
                                 + ("`dvc fetch --all-commits` (every commit's data: --everything "
                                    "converts them all)" if self.history else "`dvc fetch` (or `dvc pull`)")
                                 + " and try again")


class _Md5Reader:
    """A file whose bytes are md5-hashed as they are read, on a thread of its own.

    The reading thread also cuts chunks, and was the slowest stage of the store pipeline with the
    md5 inline (scale 1, v1 + v2: 50.7 s against 38.1 s without it); the digest is computed from
    copies of the blocks, at most ``_MD5_AHEAD`` blocks behind (hashlib releases the GIL).
    """

    def __init__(self, f: object, hasher: ThreadPoolExecutor) -> None:
        self._f = f
        self._hasher = hasher
        self._md5 = hashlib.md5()
        self._pending: deque[Future[None]] = deque()

    def readinto(self, b: memoryview | bytearray) -> int:
        n = self._f.readinto(b)  # type: ignore[attr-defined]
        if n:
            self._pending.append(self._hasher.submit(self._md5.update, bytes(memoryview(b)[:n])))
            while len(self._pending) > _MD5_AHEAD:
                self._pending.popleft().result()
        return n or 0

    def hexdigest(self) -> str:
        """The md5 of everything read."""
        while self._pending:
            self._pending.popleft().result()
        return self._md5.hexdigest()


# -- outputs -> tree changes ------------------------------------------------------------------------
def output_changes(data: DvcData, out: Output, source: Source) -> list[FileChange]:
    """The tree changes that put a cached output in git: pointers (a metric: its plain bytes)."""
    changes = [FileChange("D", out.path.encode("utf-8", "surrogateescape"))]
    if out.hash is None:
        return []
    if out.kind == "metric":
        content = _metric_bytes(data, out, source)
        if content is None:
            return []
        return changes + [FileChange("M", out.path.encode("utf-8", "surrogateescape"), "100644", "inline",
                                     content)]
    files = data.output_files(out)
    if files is None:
        return []
    for path, oid, size in files:
        ptr = Pointer(oid, size).encode() if size else b""
        changes.append(FileChange("M", path.encode("utf-8", "surrogateescape"), "100644", "inline", ptr))
    return changes


def _metric_bytes(data: DvcData, out: Output, source: Source) -> bytes | None:
    assert out.hash is not None
    p = data.cache_path(out.hash.md5)
    content: bytes | None
    if p is not None:
        with open(p, "rb") as f:
            content = f.read()
    else:
        content = source.read(out.path)
        if content is None or file_md5([content], out.hash.legacy) != out.hash.md5:
            data.missing.add(out.path)
            return None
    data.note(out.hash.md5, content)
    return content


def gitignore_without(text: bytes, names: set[str]) -> bytes:
    """A ``.gitignore`` without the ``/NAME`` lines DVC wrote for outputs that git now tracks."""
    lines = text.decode("utf-8", "surrogateescape").splitlines()
    kept = [line for line in lines if line.strip().removeprefix("/") not in names or not line.startswith("/")]
    return ("\n".join(kept) + "\n").encode("utf-8", "surrogateescape") if kept else b""


def gitignore_changes(outs: list[str], read: Callable[[str], bytes | None]) -> list[FileChange]:
    """Changes to the ``.gitignore`` beside each output (``read`` gives a .gitignore's bytes)."""
    by_dir: dict[str, set[str]] = {}
    for o in outs:
        d, name = posixpath.split(o)
        by_dir.setdefault(d, set()).add(name)
    changes = []
    for d, names in sorted(by_dir.items()):
        path = posixpath.join(d, ".gitignore") if d else ".gitignore"
        old = read(path)
        if old is None:
            continue
        new = gitignore_without(old, names)
        if new != old:
            raw = path.encode("utf-8", "surrogateescape")
            changes.append(FileChange("M", raw, "100644", "inline", new) if new else FileChange("D", raw))
    return changes


def attribute_patterns(outs: list[Output]) -> list[str]:
    """``.gitattributes`` patterns routing cached outputs through git-mlv (not metrics: git keeps them)."""
    pats = []
    for o in outs:
        if o.kind == "metric" or not o.cache:
            continue
        if o.hash is None or o.hash.is_dir:  # a folder, or not known yet (never run): both
            pats.append(attributes.anchored(o.path, folder=True))
        if o.hash is None or not o.hash.is_dir:
            pats.append(attributes.anchored(o.path))
    return pats


def with_attributes(text: bytes, patterns: list[str]) -> bytes:
    """``.gitattributes`` plus our lines for ``patterns``."""
    return attributes.with_patterns(text, patterns)


# -- pipeline -> .gitmlv and .gitmlv.lock -------------------------------------------------------------
def mlv_stages(stages: list[DvcStage], multi: bool) -> Spec:
    """The ``.gitmlv`` stages of DVC stages (named ``DIR-NAME`` for a dvc.yaml below the root when
    several dvc.yaml files exist)."""
    spec = Spec()
    for st in stages:
        name = _stage_name(st, multi)
        if name in spec.stages:
            raise MigrateError(f"two DVC stages become {name!r}; rename one of them first")
        s = Stage(name=name, cmd=st.cmd, wdir=st.wdir, deps=list(st.deps), params=list(st.params))
        for o in st.outs:
            if o.kind == "metric":
                s.metrics.append(o.path)
            elif o.cache:
                s.outs.append(o.path)
            else:
                s.outs_nocache.append(o.path)
        spec.stages[name] = s
    try:
        spec.validate()
    except SpecError as e:
        raise MigrateError(f"the DVC pipeline does not fit git-mlv's rules: {e}") from None
    return spec


def _stage_name(st: DvcStage, multi: bool) -> str:
    base = st.name.replace("@", "-")
    return base if not multi or not st.yaml_dir else f"{st.yaml_dir.replace('/', '-')}-{base}"


def spec_text(old: bytes, spec: Spec) -> bytes:
    """``.gitmlv`` with its stage sections replaced by ``spec``'s."""
    return replace_sections(old.decode("utf-8", "surrogateescape"), "stage", spec.render()).encode(
        "utf-8", "surrogateescape")


def lock_entries(data: DvcData, spec: Spec, stages: list[DvcStage], locked: dict[str, LockedStage],
                 source: Source, multi: bool) -> tuple[dict[str, LockEntry], list[str]]:
    """Lock entries for the DVC stages whose ``dvc.lock`` entry matches what the files hold now;
    returns (entries, names of stages left without one: git-mlv will run them)."""
    entries: dict[str, LockEntry] = {}
    stale: list[str] = []
    for st in stages:
        name = _stage_name(st, multi)
        lk = locked.get(st.name)
        mst = spec.stages[name]
        # a templated stage: dvc.lock holds the command with the values in, as DVC ran it
        entry = _entry(data, mst, lk, source) if lk is not None and lk.cmd == (st.dvc_cmd or st.cmd) else None
        if entry is not None:
            # the values of cmd's ${...}: those the files hold now, which the command DVC ran holds
            # too (dvc.lock records them only when the stage also lists them as params)
            implicit = [e for e in param_entries(mst.cmd) if e not in entry.params]
            try:
                got = param_values(implicit, source.read)
            except MlvError:
                entry = None
            else:
                entry.params.update((k, canonical_json(v)) for k, v in got.items())
        if entry is None:
            stale.append(name)
        else:
            entries[name] = entry
    return entries, stale


def _entry(data: DvcData, st: Stage, lk: LockedStage, source: Source) -> LockEntry | None:
    entry = LockEntry(cmd=st.cmd, wdir=st.wdir)
    for d in st.deps:
        h = lk.deps.get(d)
        rec = _record(data, d, h, source) if h is not None else None
        if rec is None:
            return None
        entry.deps[d] = rec
    kinds = {**{o: "out" for o in st.outs}, **{o: "outnocache" for o in st.outs_nocache},
             **{o: "metric" for o in st.metrics}}
    for path, kind in kinds.items():
        h = lk.outs.get(path)
        rec = _record(data, path, h, source) if h is not None else None
        if rec is None:
            return None
        entry.outs[path] = (kind, rec)
    for file, values in lk.params.items():
        for key, value in flatten(values).items():
            entry.params[f"{file}:{key}"] = canonical_json(value)
    return entry


def _record(data: DvcData, path: str, h: Hash, source: Source) -> Record | None:
    """Our record of ``path`` in the state DVC locked, or None when the files hold something else."""
    if h.is_dir:
        rec = data.dir_record(h, path) if data.cache_path(h.md5, True) else None
        if rec is not None:
            return rec
        files = source.walk(path)
        if files is None:
            return None
        listing, entries = [], []
        for f in files:
            content = source.read(f) or b""
            rel = f[len(path) + 1:]
            listing.append((rel, file_md5([content], h.legacy)))
            entries.append((rel, hashlib.sha256(content).hexdigest(), len(content)))
        if dir_md5(listing) != h.md5:
            return None
        return Record(hashlib.sha256(encode_listing(entries)).hexdigest(), sum(e[2] for e in entries), True)
    if data.cache_path(h.md5) is not None:
        got = data.file(h.md5, path)
        return None if got is None else Record(*got)
    text = source.read(path)
    if text is None or file_md5([text], h.legacy) != h.md5:
        return None
    oid, size = data.note(h.md5, text)
    return Record(oid, size)


def lock_text(entries: dict[str, LockEntry]) -> bytes:
    """The canonical ``.gitmlv.lock``."""
    return lockfile.render(entries).encode("utf-8")


__all__ = ["DvcFormatError", "DvcData", "Source", "WorktreeSource"]
