"""Pipeline verbs: define stages, reproduce them, and read metrics and params across revisions.

Everything returns data; the CLI renders. ``repro`` reports progress through an ``on_event``
callback (``pipeline.repro.Event``) so the CLI can print as stages start and finish.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..core.fsutil import FileSystemError, atomic_write, open_lock_file, unlock
from ..errors import MlvError
from ..gitio import attributes
from ..pipeline import dag as dagmod
from ..pipeline import lock as lockfile
from ..pipeline import metrics as metricsmod
from ..pipeline import spec as specfile
from ..pipeline.repro import Event, Options, Reproducer, Result
from ..pipeline.revisions import WORKSPACE, branches, tags, verify, verify_all
from ..pipeline.spec import Spec, SpecError, Stage
from .context import Workspace


@dataclass
class StageDef:
    """A stage as typed on the command line (paths relative to ``cwd``)."""

    name: str
    cmd: str
    deps: list[str] = field(default_factory=list)
    outs: list[str] = field(default_factory=list)
    outs_nocache: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)  # -p arguments: FILE or FILE:K1,K2
    wdir: str | None = None  # default: cwd relative to the root


@dataclass
class AddResult:
    """The stage written to ``.gitmlv`` and the ``.gitattributes`` patterns added for its outputs."""

    stage: Stage
    replaced: bool
    tracked: list[str]
    ignored: list[str] = field(default_factory=list)  # warnings: outputs a .gitignore line hides


def ignored_outputs(ws: Workspace, st: Stage) -> list[str]:
    """A warning for each stored output and metrics file of ``st`` that git ignores.

    `git add` leaves such a file out, so no commit versions it, though `run` said "Tracking": a
    `models/` or `data/` line of a DVC user's .gitignore hid the model from every commit. A file
    git already tracks is not ignored; a folder output not made yet is probed by a name in it."""
    probes = {p: p for p in st.outs + st.metrics}
    probes.update({f"{p}/x": p for p in st.outs})  # `models/` matches only a folder that exists
    from ..gitio.git import run

    # exit 1 when nothing is ignored
    raw = run(["check-ignore", "-v", "-z", "--stdin"], cwd=ws.repo.top, check=False,
              input=b"".join(os.fsencode(p) + b"\0" for p in probes))
    fields = raw.split(b"\0")
    found: dict[str, str] = {}
    for i in range(0, len(fields) - 3, 4):
        source, line, pattern, path = (f.decode("utf-8", "surrogateescape") for f in fields[i:i + 4])
        out = probes.get(path)
        if out is not None and out not in found and not pattern.startswith("!"):
            found[out] = (f"{out} is ignored by git ({source}:{line}: {pattern}): `git add` leaves it "
                          f"out, so no commit versions it; remove that line, or `git add -f {out}`")
    return [found[p] for p in sorted(found)]


def add_stage(ws: Workspace, d: StageDef, cwd: str | None = None, force: bool = False) -> AddResult:
    """Define (or with ``force`` replace) a stage; validates the whole pipeline before writing."""
    top = ws.repo.top
    cwd = os.path.abspath(cwd or os.getcwd())

    def norm(paths: list[str]) -> list[str]:
        return [specfile.normalize_path(p, top, cwd) for p in paths]

    # checked as typed: `-w /tmp` was named as '../../..' in the error
    at_top = os.path.relpath(os.path.normpath(os.path.join(cwd, d.wdir or ".")), top) == "."
    wdir = "" if at_top else specfile.normalize_path(d.wdir or ".", top, cwd)
    params = [e for p in d.params for e in specfile.param_args(p, top, cwd)]
    st = Stage(name=d.name, cmd=d.cmd, deps=norm(d.deps), params=params, outs=norm(d.outs),
               outs_nocache=norm(d.outs_nocache), metrics=norm(d.metrics), wdir=wdir)
    spec = specfile.load(ws.repo)
    replaced = d.name in spec.stages
    if replaced and not force:
        raise SpecError(f"stage {d.name!r} already exists; use --force to replace it")
    if replaced:
        st.extra = spec.stages[d.name].extra
    spec.stages[d.name] = st
    spec.validate()
    dagmod.build(spec)
    specfile.save(ws.repo, spec)
    return AddResult(st, replaced, track_outputs(ws, [st]), ignored_outputs(ws, st))


@contextmanager
def undo_on_failure(ws: Workspace) -> Iterator[None]:
    """Put ``.gitmlv`` and ``.gitattributes`` back as they were if the block fails: a `git mlv run`
    whose dependency is missing or whose command fails leaves no stage and no pattern behind."""
    top = ws.repo.top
    saved: dict[str, bytes | None] = {}
    for name in (specfile.FILENAME, attributes.FILENAME):
        try:
            with open(os.path.join(top, name), "rb") as f:
                saved[name] = f.read()
        except FileNotFoundError:
            saved[name] = None
    try:
        yield
    except BaseException as e:
        undone = False
        for name, data in saved.items():
            path = os.path.join(top, name)
            try:
                with open(path, "rb") as f:
                    now: bytes | None = f.read()
            except FileNotFoundError:
                now = None
            if now == data:
                continue
            undone = True
            if data is None:
                os.unlink(path)
            else:
                atomic_write(path, data)
        if undone and isinstance(e, MlvError):
            e.args = (f"{e}; .gitmlv and .gitattributes are as they were",)
        raise


def track_outputs(ws: Workspace, stages: list[Stage]) -> list[str]:
    """Route cached outputs through the mlv filter (``/path``, ``/dir/**`` for a directory) unless
    ``.gitattributes`` already does; returns the patterns added.

    An output that does not exist yet (a stage defined before it runs) may become a file or a
    folder: both patterns are written, so that `git add` after running the command by hand stores
    pointers either way (``/dir`` alone does not reach the files inside). Once it exists, the
    pattern of the other kind, if it is exactly the one written here, is taken out again."""
    top = ws.repo.top
    want: dict[str, str] = {}  # pattern -> a path it must cover
    moot: list[str] = []  # our pattern of the kind the output turned out not to be
    for st in stages:
        for o in st.outs:
            full = os.path.join(top, o)
            is_dir = os.path.isdir(full)
            if is_dir or not os.path.lexists(full):
                want[attributes.anchored(o, True)] = f"{o}/x"
            if not is_dir:
                want[attributes.anchored(o, False)] = o
            if os.path.lexists(full):
                moot.append(attributes.anchored(o, not is_dir))
    if not want:
        return []
    covered = attributes.filtered(ws.repo, list(want.values()))
    added = attributes.track(top, [p for p, path in want.items() if path not in covered])
    if moot:
        attributes.untrack(top, moot)  # only lines that are there; nothing else is touched
    return added


def still_tracked(ws: Workspace, pats: list[str]) -> list[str]:
    """Those of ``pats`` that ``.gitattributes`` still has (a run takes out the pattern of the kind
    an output turned out not to be)."""
    present = {attributes.field(p) for p in attributes.patterns(ws.repo.top)}
    return [p for p in pats if attributes.field(p) in present]


def remove_stages(ws: Workspace, names: list[str]) -> list[str]:
    """Remove stages from ``.gitmlv`` and their entries from the lock (outputs stay where they are)."""
    spec = specfile.load(ws.repo)
    for n in names:
        if n not in spec.stages:
            raise SpecError(f"unknown stage {n!r} (stages: {', '.join(sorted(spec.stages)) or 'none'})")
    for n in names:
        del spec.stages[n]
    specfile.save(ws.repo, spec)
    entries = lockfile.load(ws.repo)
    lockfile.save(ws.repo, {n: e for n, e in entries.items() if n not in names})
    return names


def list_stages(ws: Workspace) -> list[Stage]:
    """Stages in topological order."""
    spec = specfile.load(ws.repo)
    dag = dagmod.build(spec)
    return [spec.stages[n] for n in dag.order()]


@dataclass
class DagView:
    """The stages, their edges and an order to run them in."""

    order: list[str]
    edges: list[tuple[str, str]]
    stages: dict[str, Stage]


def dag(ws: Workspace) -> DagView:
    """The pipeline graph."""
    spec = specfile.load(ws.repo)
    g = dagmod.build(spec)
    return DagView(g.order(), g.edges(), spec.stages)


def repro(ws: Workspace, opts: Options, on_event: Callable[[Event], None] | None = None) -> Result:
    """Bring the selected stages up to date (see ``pipeline.repro``)."""
    from ..pipeline.fingerprint import Fingerprinter
    from ..pipeline.runcache import RunCache
    from ..pipeline.statcache import StatCache

    repo = ws.repo
    spec = specfile.load(repo)
    g = dagmod.build(spec)
    entries = lockfile.load(repo)
    fd = _repro_guard(os.path.join(repo.git_dir, "mlv-repro.lock"), opts.dry_run)  # per work tree
    cache = StatCache(repo.mlv_dir)
    try:
        r = Reproducer(repo.top, spec, g, entries, ws.pool, RunCache(ws.pool, repo.mlv_dir),
                       Fingerprinter(repo.top, cache), lambda e: lockfile.save(repo, e), on_event,
                       _remote_fetch(ws))
        try:
            result = r.run(opts)
        finally:
            if "git_mlv.ops.sync_fetch" in sys.modules:  # a fetch opened connections
                from . import sync_fetch

                sync_fetch.close_fetch(ws)
            done = {e.stage for e in r.result.events if e.kind in ("ran", "restored")}
            track_outputs(ws, [spec.stages[n] for n in sorted(done)])
    finally:
        cache.close()
        if fd is not None:
            unlock(fd)
    return result


def _repro_guard(path: str, dry_run: bool) -> int | None:
    """The work tree's repro lock, taken; None for a dry run where it cannot be (a read-only
    repository, another user's: a dry run writes nothing). Before, a lock file that could not be
    opened for writing read as "another `git mlv repro` is running"; a run now says why."""
    try:
        fd = open_lock_file(path)
    except FileSystemError:
        if not dry_run:
            raise  # the path and the reason (permission, read-only)
        try:
            fd = os.open(path, os.O_RDONLY)  # flock needs no write access
        except OSError:
            return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise MlvError("another `git mlv repro` is running in this work tree; wait for it to "
                       "finish") from None
    return fd


def _remote_fetch(ws: Workspace) -> Callable[[dict[str, int]], None]:
    """Fetching from the default data remote, for the outputs of a run-cache hit (a clone fetches
    run-cache entries, not their outputs' data); nothing without a data remote. The remote is
    looked up at the first call: the modules cost ~0.1 s (numpy), which a repro whose outputs
    are all here must not pay."""

    def fetch(sizes: dict[str, int]) -> None:
        from .remote_config import default_remote_name

        if default_remote_name(ws) is None:
            return
        from . import sync_fetch

        sync_fetch.fetch_oids(ws, list(sizes), sizes={o: n for o, n in sizes.items() if n})

    return fetch


def _revs(ws: Workspace, revs: list[str], all_tags: bool, all_branches: bool) -> list[str]:
    out = list(revs)
    if all_tags:
        out += tags(ws.repo)
    if all_branches:
        out += branches(ws.repo)
    out = list(dict.fromkeys(out)) or [WORKSPACE]
    verify_all(ws.repo, out)
    return out


def metrics_show(ws: Workspace, revs: list[str] | None = None, all_tags: bool = False,
                 all_branches: bool = False, paths: list[str] | None = None,
                 worktree_too: bool = False) -> metricsmod.MetricsTable:
    """Metric values by revision (default: the work tree; with ``worktree_too`` and
    ``all_tags``/``all_branches``, the work tree too, last, as DVC's ``-T``/``-a`` show it);
    ``paths`` as typed, relative to the current directory."""
    chosen = _revs(ws, revs or [], all_tags, all_branches)
    if worktree_too and (all_tags or all_branches) and WORKSPACE not in chosen:
        chosen.append(WORKSPACE)
    return metricsmod.show(ws.repo, chosen, ws.pool, _metric_files(ws, paths))


curves = metricsmod.curves


def plot_rows(ws: Workspace, path: str, revs: list[str] | None = None, all_tags: bool = False,
              all_branches: bool = False) -> metricsmod.RowsAt:
    """The records of the table file ``path`` (typed relative to the current directory) at each
    revision (default: every tag, then the work tree: the run just made is the curve to compare)."""
    if revs or all_tags or all_branches:
        chosen = _revs(ws, revs or [], all_tags, all_branches)
    else:
        chosen = [*dict.fromkeys(tags(ws.repo)), WORKSPACE]
    files = _metric_files(ws, [path])
    assert files is not None
    return metricsmod.rows_at(ws.repo, chosen, files[0], ws.pool)


def _metric_files(ws: Workspace, paths: list[str] | None) -> list[str] | None:
    # typed relative to the current directory, as every path of `run`; git reads root-relative
    # paths (and a path outside the work tree is a usage error, not git cat-file's "fatal")
    if not paths:
        return paths
    return [specfile.normalize_path(p, ws.repo.top, os.getcwd()) for p in paths]


def _pair(ws: Workspace, a: str | None, b: str | None) -> tuple[str, str]:
    a = a or "HEAD"
    b = b or WORKSPACE
    verify(ws.repo, a)
    verify(ws.repo, b)
    return a, b


def metrics_diff(ws: Workspace, a: str | None = None, b: str | None = None, show_all: bool = False,
                 paths: list[str] | None = None) -> metricsmod.ValuesDiff:
    """Metrics at ``a`` (default HEAD) against ``b`` (default the work tree), and a warning per
    metrics file that did not parse."""
    a, b = _pair(ws, a, b)
    return metricsmod.diff(ws.repo, a, b, ws.pool, show_all, _metric_files(ws, paths))


def params_diff(ws: Workspace, a: str | None = None, b: str | None = None, show_all: bool = False
                ) -> metricsmod.ParamsDiff:
    """Parameters at ``a`` (default HEAD) against ``b`` (default the work tree), and a warning per
    parameter file that did not parse."""
    a, b = _pair(ws, a, b)
    return metricsmod.params_diff(ws.repo, a, b, ws.pool, show_all)


__all__ = ["AddResult", "DagView", "Event", "Options", "Result", "Spec", "StageDef", "add_stage", "curves",
           "dag", "list_stages", "metrics_diff", "metrics_show", "params_diff", "plot_rows", "remove_stages",
           "repro", "still_tracked", "track_outputs", "undo_on_failure"]
