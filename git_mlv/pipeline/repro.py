"""Reproduce a pipeline: run the stages whose command, deps or params changed, or whose outputs are
missing or modified; restore outputs from the run-cache or the pool instead of running when the same
inputs were seen before. Independent stages run in parallel with ``jobs > 1``.

A stage whose command fails stops the stages that need it (others go on), keeps its old lock entry,
and is reported with its exit code once the rest is done.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.fsutil import temp_dir_beside, umask
from ..errors import MlvError
from . import lock as lockfile
from .dag import Dag, check_deps
from .fingerprint import Fingerprinter, decode_listing, encode_listing
from .lock import LockEntry, Record, canonical_json, same_value
from .params import ParamError, stage_command, stage_values
from .runcache import RunCache, make_key
from .spec import Spec, Stage

if TYPE_CHECKING:
    from ..core.pool import Pool

# Event kinds, in the order a stage may see them
RUNNING, RAN, RESTORED, UP_TO_DATE, WOULD_RUN, FAILED, SKIPPED = (
    "running", "ran", "restored", "up-to-date", "would-run", "failed", "skipped")
WARNING = "warning"  # a stage's run-cache outputs could not be fetched: it runs instead

# Downloads the data of these oids (oid -> size, 0 when unknown) into the pool from the data remote;
# MlvError when the remote cannot be read. What it could not find is simply not in the pool after.
Fetch = Callable[[dict[str, int]], None]


class StageFailed(MlvError):
    """One or more stages failed; the message names them and their exit codes."""


@dataclass(frozen=True)
class Event:
    """Something that happened to a stage; ``detail`` is the command, the reason or the source."""

    kind: str
    stage: str
    detail: str = ""


@dataclass
class Options:
    """What ``repro`` should do."""

    targets: list[str] = field(default_factory=list)
    single: bool = False  # only the targets, not what they need
    force: bool = False  # run even when up to date (and bypass the run-cache)
    dry_run: bool = False
    jobs: int = 1
    run_cache: bool = True
    stdout_to_stderr: bool = False  # the commands' output (stdout is kept for a JSON report)


@dataclass
class Result:
    """Every event of a run, in the order they happened."""

    events: list[Event] = field(default_factory=list)

    def stages(self, kind: str) -> list[str]:
        """Names of the stages that saw an event of ``kind``."""
        return [e.stage for e in self.events if e.kind == kind]


class _Failure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Current:
    deps: dict[str, Record]
    params: dict[str, Any]
    outs: dict[str, Record | None]
    command: str  # cmd with its ${...} values in: what runs


class Reproducer:
    """One ``repro`` over a spec, its lock and the pool."""

    def __init__(self, top: str, spec: Spec, dag: Dag, entries: dict[str, LockEntry], pool: Pool,
                 runcache: RunCache, fp: Fingerprinter, save_lock: Callable[[dict[str, LockEntry]], None],
                 on_event: Callable[[Event], None] | None = None, fetch: Fetch | None = None) -> None:
        self.top = top
        self.spec = spec
        self.dag = dag
        self.entries = dict(entries)
        self.pool = pool
        self.runcache = runcache
        self.fp = fp
        self.save_lock = save_lock
        self.on_event = on_event
        self.fetch = fetch  # the outputs of a run-cache hit whose data is on the remote only
        self.result = Result()
        self._lock = threading.Lock()  # events, lock entries
        self._pool_lock = threading.Lock()  # one writer per pool; reads share its state
        self._would_run: set[str] = set()
        # a dry run's stages that would be restored: the records their outputs would then have,
        # for the stages downstream to be judged on (a restore brings back known bytes)
        self._predicted: dict[str, Record] = {}
        umask()  # read it once here, before threads exist: reading it means setting it

    # -- driving ------------------------------------------------------------------------------
    def run(self, opts: Options) -> Result:
        """Reproduce the selected stages; StageFailed after the others finished if any failed."""
        selected = self.dag.select(opts.targets, opts.single)
        check_deps(self.spec, self.dag, selected, lambda p: os.path.lexists(self.fp.abspath(p)))
        chosen = set(selected)
        pending = list(selected)
        failed: dict[str, str] = {}
        finished: set[str] = set()
        jobs = max(1, opts.jobs)
        with ThreadPoolExecutor(jobs) as ex:
            running: dict[Future[None], str] = {}
            while pending or running:
                for name in list(pending):
                    ups = self.dag.upstream[name] & chosen
                    if ups & set(failed):
                        pending.remove(name)
                        failed[name] = ""
                        self._emit(Event(SKIPPED, name, ", ".join(sorted(ups & set(failed)))))
                    elif ups <= finished and len(running) < jobs:
                        pending.remove(name)
                        running[ex.submit(self._guarded, name, opts)] = name
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    name = running.pop(fut)
                    try:
                        fut.result()
                        finished.add(name)
                    except _Failure as e:
                        failed[name] = e.message
                        self._emit(Event(FAILED, name, e.message))
        if self.fp.cache:
            self.fp.cache.flush()
        real = {n: m for n, m in failed.items() if m}
        if real:
            first = min(real, key=selected.index)
            msg = f"stage {first!r} failed: {real[first]}"
            others = [n for n in selected if n in failed and n != first]
            if others:
                msg += f" ({len(others)} more stage(s) failed or not run: {', '.join(others)})"
            raise StageFailed(msg)
        return self.result

    def _emit(self, event: Event) -> None:
        with self._lock:
            self.result.events.append(event)
        if self.on_event:
            self.on_event(event)

    # -- one stage ----------------------------------------------------------------------------
    def _guarded(self, name: str, opts: Options) -> None:
        """``_one``, with a file-system or pool error turned into this stage's failure."""
        try:
            self._one(name, opts)
        except (OSError, MlvError) as e:
            detail = f"{e.strerror}: {e.filename}" if isinstance(e, OSError) and e.filename else str(e)
            raise _Failure(detail) from None

    def _one(self, name: str, opts: Options) -> None:
        st = self.spec.stages[name]
        if opts.dry_run:
            ups = self.dag.upstream[name] & self._would_run
            if ups:
                self._mark_would_run(name, f"upstream {', '.join(sorted(ups))} would run")
                return
        cur = self._current(st)
        entry = self.entries.get(name)
        reason = "forced" if opts.force else self._why_stale(st, entry, cur)
        if reason is None:
            self._emit(Event(UP_TO_DATE, name))
            return
        source = None if opts.force else self._restorable(st, entry, cur, opts.run_cache,
                                                          may_fetch=not opts.dry_run)
        if opts.dry_run:
            if source is not None:
                with self._lock:
                    self._predicted.update((p, r) for p, (_, r) in source[1].items())
                self._emit(Event(WOULD_RUN, name, f"{reason}; would restore from the {source[0]}"))
            else:
                self._mark_would_run(name, reason)
            return
        if source is not None:
            self._restore(st, source[1], cur)
            if source[0] == "run-cache":
                self.runcache.touch(self._key(st, cur))  # in use: gc keeps it (mlv.gcRunCacheDays)
            self._commit(st, cur, source[1])
            self._emit(Event(RESTORED, name, source[0]))
            return
        self._no_pointers_among_deps(st)
        self._emit(Event(RUNNING, name, cur.command))
        self._execute(st, cur.command, opts.stdout_to_stderr)
        outs = self._store_outputs(st)
        self._commit(st, cur, outs)
        self._emit(Event(RAN, name, reason))

    def _no_pointers_among_deps(self, st: Stage) -> None:
        """Fail the stage when a dependency is still in pointer form (data not pulled). A pointer
        counts as its data when judging staleness, but a command reads the bytes on disk: a clone
        ran train.py over pointer text, and a command that did not crash recorded its outputs in
        the lock and the run-cache under the real data's oid, for every clone to restore."""
        pointers = [p for d in st.deps for p in self.fp.pointers_in(d)]
        if pointers:
            more = f" (and {len(pointers) - 1} more file(s))" if len(pointers) > 1 else ""
            raise _Failure(f"dependency {pointers[0]!r}{more} is still a git-mlv pointer, its data not "
                           "in the work tree: `git mlv pull` writes it, then repro")

    def _mark_would_run(self, name: str, reason: str) -> None:
        with self._lock:
            self._would_run.add(name)
        self._emit(Event(WOULD_RUN, name, reason))

    def _current(self, st: Stage) -> _Current:
        deps: dict[str, Record] = {}
        for d in st.deps:
            rec = self._predicted_record(d) if self._predicted else None
            rec = rec or self.fp.record(d)
            if rec is None:
                owner = self.spec.owner_of(d)
                hint = f"; run `git mlv repro {owner}` first" if owner else ""
                raise _Failure(f"dependency {d!r} is missing{hint}")
            deps[d] = rec
        try:
            params = stage_values(st, self._read)
            command = stage_command(st, params)
        except ParamError as e:
            raise _Failure(str(e).removeprefix(f"stage {st.name!r}: ")) from None
        outs = {o: self.fp.record(o) for o in st.all_outs}
        return _Current(deps, params, outs, command)

    def _predicted_record(self, path: str) -> Record | None:
        """What ``path`` would hold once the stages a dry run would restore are restored: the
        output itself, or a file inside a restored folder; None when no restore touches it."""
        with self._lock:
            predicted = dict(self._predicted)
        if path in predicted:
            return predicted[path]
        for out, rec in predicted.items():
            if rec.is_dir and path.startswith(out + "/"):
                with self._pool_lock:
                    listing = decode_listing(b"".join(self.pool.iter_file(rec.oid)))
                rel = path[len(out) + 1:]
                for sub, oid, size in listing:
                    if sub == rel:
                        return Record(oid, size)
        return None

    def _read(self, rel: str) -> bytes | None:
        try:
            with open(self.fp.abspath(rel), "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    @staticmethod
    def _kinds(st: Stage) -> dict[str, str]:
        kinds = {o: "out" for o in st.outs}
        kinds.update({o: "outnocache" for o in st.outs_nocache})
        kinds.update({o: "metric" for o in st.metrics})
        return kinds

    def _why_stale(self, st: Stage, entry: LockEntry | None, cur: _Current) -> str | None:
        if entry is None:
            return "never run"
        if entry.cmd != st.cmd or entry.wdir != st.wdir:
            return "command changed"
        if set(entry.deps) != set(cur.deps):
            return "dependencies changed"
        for d in st.deps:
            if entry.deps[d].oid != cur.deps[d].oid:
                return f"{d} changed"
        if set(entry.params) != set(cur.params):
            return "parameters changed"
        for k in sorted(cur.params):
            if not same_value(entry.params[k], cur.params[k]):
                return f"param {k} changed"
        if {p: k for p, (k, _) in entry.outs.items()} != self._kinds(st):
            return "outputs changed"
        for o in st.all_outs:
            now = cur.outs[o]
            if now is None:
                return f"{o} missing"
            if now.oid != entry.outs[o][1].oid:
                return f"{o} modified"
        return None

    # -- restoring ----------------------------------------------------------------------------
    def _restorable(self, st: Stage, entry: LockEntry | None, cur: _Current, use_cache: bool,
                    may_fetch: bool = False) -> tuple[str, dict[str, tuple[str, Record]]] | None:
        """Where the outputs for the current inputs can come from without running, or None. With
        ``may_fetch``, outputs whose data is not here are fetched from the data remote first (a
        clone has the run-cache entries a push sent, not their outputs' data)."""
        if not use_cache:
            return None  # the user wants a real run
        kinds = self._kinds(st)
        candidates: list[tuple[str, dict[str, tuple[str, Record]]]] = []
        hit = self.runcache.lookup(self._key(st, cur))
        if hit is not None:
            outs = {p: (kinds.get(p, ""), _record_of(v))
                    for p, v in hit["outs"].items() if isinstance(v, dict)}
            candidates.append(("run-cache", outs))
        if entry is not None and self._inputs_match(st, entry, cur):
            candidates.append(("pool", dict(entry.outs)))
        fitting = [(source, outs) for source, outs in candidates
                   if set(outs) == set(kinds) and all(k == kinds[p] for p, (k, _) in outs.items())]
        for source, outs in fitting:
            if all(self._in_pool(r) for _, r in outs.values()):
                return source, outs
        if may_fetch and self.fetch is not None:
            try:
                for source, outs in fitting:
                    if self._fetched([r for _, r in outs.values()]):
                        return source, outs
            except MlvError as e:  # once a stage: the next candidate would meet the same remote
                self._emit(Event(WARNING, st.name, f"its outputs are known but could not be fetched "
                                                   f"({e}); running it"))
        return None

    def _fetched(self, recs: list[Record]) -> bool:
        """Fetch what the pool lacks of ``recs`` (a folder: its listing, then its files); True when
        all of it is here then. MlvError when the remote cannot be read."""
        assert self.fetch is not None
        for _ in range(2):  # a folder's listing names its files only once it is here
            lacking = self._lacking(recs)
            if not lacking:
                return True
            with self._pool_lock:
                self.fetch(lacking)
        return not self._lacking(recs)

    def _lacking(self, recs: list[Record]) -> dict[str, int]:
        """oid -> size of what the pool lacks of these outputs."""
        lacking: dict[str, int] = {}
        with self._pool_lock:
            for rec in recs:
                if not self.pool.has_file(rec.oid, refresh=True):
                    lacking[rec.oid] = 0 if rec.is_dir else rec.size  # a listing's size is unknown
                elif rec.is_dir:
                    listing = decode_listing(b"".join(self.pool.iter_file(rec.oid)))
                    lacking.update((oid, size) for _, oid, size in listing if not self.pool.has_file(oid))
        return lacking

    def _inputs_match(self, st: Stage, entry: LockEntry, cur: _Current) -> bool:
        return (entry.cmd == st.cmd and entry.wdir == st.wdir
                and {p: r.oid for p, r in entry.deps.items()} == {p: r.oid for p, r in cur.deps.items()}
                and set(entry.params) == set(cur.params)
                and all(same_value(entry.params[k], v) for k, v in cur.params.items()))

    def _in_pool(self, rec: Record) -> bool:
        with self._pool_lock:
            if not self.pool.has_file(rec.oid, refresh=True):
                return False
            if not rec.is_dir:
                return True
            listing = decode_listing(b"".join(self.pool.iter_file(rec.oid)))
            return all(self.pool.has_file(oid) for _, oid, _ in listing)

    def _restore(self, st: Stage, outs: dict[str, tuple[str, Record]], cur: _Current) -> None:
        for path, (_, rec) in sorted(outs.items()):
            now = cur.outs.get(path)
            if now is not None and now.oid == rec.oid and now.is_dir == rec.is_dir:
                continue
            target = self.fp.abspath(path)
            with self._pool_lock:
                if rec.is_dir:
                    self._restore_dir(target, rec.oid)
                else:
                    _remove(target)
                    self._restore_file(target, rec.oid)

    def _restore_file(self, target: str, oid: str) -> None:
        self.pool.restore_to(oid, target)
        self.fp.remember(target, oid)

    def _restore_dir(self, target: str, oid: str) -> None:
        listing = decode_listing(b"".join(self.pool.iter_file(oid)))
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        # in the pool's tmp/ when on the same file system: not left among the outputs by a kill
        tmp = tempfile.mkdtemp(dir=temp_dir_beside(self.pool.tmp_dir, parent), prefix=".mlv-restore-")
        try:
            for rel, file_oid, _ in listing:
                self._restore_file(os.path.join(tmp, *rel.split("/")), file_oid)
            os.chmod(tmp, 0o777 & ~umask())
            _remove(target)
            os.replace(tmp, target)
        except BaseException:
            _remove(tmp)
            raise

    # -- running ------------------------------------------------------------------------------
    def _execute(self, st: Stage, command: str, stdout_to_stderr: bool = False) -> None:
        for o in st.all_outs:  # a command must not see (or append to) the outputs of an old run
            target = self.fp.abspath(o)
            _remove(target)
            os.makedirs(os.path.dirname(target), exist_ok=True)
        cwd = self.fp.abspath(st.wdir) if st.wdir else self.top
        if not os.path.isdir(cwd):  # else "cannot start the command: [Errno 2] No such file ..."
            raise _Failure(f"its working directory {st.wdir!r} (wdir) does not exist")
        try:
            proc = subprocess.run(command, shell=True, cwd=cwd, stdin=subprocess.DEVNULL,
                                  stdout=sys.stderr.fileno() if stdout_to_stderr else None)
        except OSError as e:
            raise _Failure(f"cannot start the command: {e}") from None
        if proc.returncode != 0:
            code = proc.returncode
            how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
            raise _Failure(f"command {how}: {command}")

    def _store_outputs(self, st: Stage) -> dict[str, tuple[str, Record]]:
        outs: dict[str, tuple[str, Record]] = {}
        for path, kind in sorted(self._kinds(st).items()):
            target = self.fp.abspath(path)
            if not os.path.lexists(target):
                raise _Failure(f"the command did not create output {path!r}")
            # every kind is stored: an ``outnocache`` output (a log, a plots file kept in git)
            # is not routed through the filter, but the pool keeps its bytes for the run-cache
            # to restore, as DVC's run-cache keeps its ``cache: false`` outputs
            with self._pool_lock:
                rec = self._store(path, target)
            outs[path] = (kind, rec)
        return outs

    def _store(self, path: str, target: str) -> Record:
        w = self.pool.writer()
        if not os.path.isdir(target):
            ptr = w.add_path(target)
            self.fp.remember(target, ptr.oid)
            return Record(ptr.oid, ptr.size)
        entries = []
        for sub, full in self.fp.walk(path):
            ptr = w.add_path(full)
            self.fp.remember(full, ptr.oid)
            entries.append((sub, ptr.oid, ptr.size))
        listing = w.add_bytes(encode_listing(entries))
        return Record(listing.oid, sum(e[2] for e in entries), True)

    def _key(self, st: Stage, cur: _Current) -> str:
        return make_key(st.cmd, {p: r.oid for p, r in cur.deps.items()}, cur.params, st.wdir)

    def _commit(self, st: Stage, cur: _Current, outs: dict[str, tuple[str, Record]]) -> None:
        """Record a successful run in the lock and the run-cache."""
        entry = LockEntry(cmd=st.cmd, wdir=st.wdir, deps=dict(cur.deps),
                          params={k: canonical_json(v) for k, v in cur.params.items()}, outs=outs)
        with self._lock:
            self.entries[st.name] = entry
            self.save_lock({n: e for n, e in self.entries.items() if n in self.spec.stages})
        doc: dict[str, Any] = {
            "cmd": st.cmd,
            "deps": {p: r.oid for p, r in cur.deps.items()},
            "params": cur.params,
            "outs": {p: {"oid": r.oid, "size": r.size, **({"dir": True} if r.is_dir else {})}
                     for p, (_, r) in outs.items()},
        }
        if st.wdir:
            doc["wdir"] = st.wdir
        with self._pool_lock:
            self.runcache.record(self._key(st, cur), doc)


def _record_of(out: dict[str, Any]) -> Record:
    return Record(str(out.get("oid")), int(out.get("size", 0)), bool(out.get("dir")))


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def save_lock_for(repo: Any) -> Callable[[dict[str, LockEntry]], None]:
    """A ``save_lock`` callback writing the work tree's ``.gitmlv.lock``."""
    return lambda entries: lockfile.save(repo, entries)
