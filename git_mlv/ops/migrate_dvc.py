"""``git mlv migrate from-dvc``: a DVC project becomes a git-mlv one.

- every ``.dvc`` file's outputs and every cached ``dvc.yaml`` output (files and directories) become
  tracked data: pointers in git, bytes from ``.dvc/cache`` (md5-checked) in the pool; their
  ``/NAME`` lines leave ``.gitignore`` and ``.gitattributes`` routes them through git-mlv;
- ``dvc.yaml`` stages become ``.gitmlv`` stages (outs -> ``out``, ``cache: false`` -> ``outnocache``,
  metrics -> ``metric``, kept in git as DVC keeps uncached metrics; plots -> ``out``);
- ``dvc.lock`` becomes ``.gitmlv.lock`` for every stage whose locked deps and outs match the files,
  so ``git mlv repro`` says "up to date" where ``dvc status`` did;
- ``.dvc`` files, ``dvc.yaml`` and ``dvc.lock`` are removed from the tree; ``.dvc/`` itself (config,
  cache) is left for the user to delete; DVC remotes of kinds git-mlv supports are returned as
  ``git mlv remote add`` commands (printed, not run: credentials and pushes are the user's call).

Without ``--everything`` the checked-out state is converted in one new commit; with it every local
branch and tag is rewritten, each commit's DVC files converted (``migrate_rewrite``).
"""

from __future__ import annotations

import os
import posixpath
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import UsageError
from ..gitio import refs as gitrefs
from ..gitio.catfile import CatFile
from ..gitio.fastexport import Commit, FileChange
from .context import Workspace
from .migrate import ImportResult, checked_out, commit_head, ready_to_publish, tree_files
from .migrate_dvcdata import (
    DvcData,
    Source,
    WorktreeSource,
    attribute_patterns,
    gitignore_changes,
    gitignore_without,
    lock_entries,
    lock_text,
    mlv_stages,
    output_changes,
    spec_text,
    with_attributes,
)
from .migrate_dvcfiles import (
    DvcFormatError,
    DvcStage,
    LockedStage,
    Output,
    dvc_cache_dir,
    dvc_file_sources,
    mlv_remote,
    parse_dvc_file,
    parse_dvc_lock,
    parse_dvc_remotes,
    parse_dvc_yaml,
    top_level_dropped,
)
from .migrate_dvcignore import unhidden, untracked_data
from .migrate_rewrite import (
    BACKUP,
    MigrateError,
    ProgressFn,
    RefChange,
    Rewriter,
    check_attributes_clean,
    check_can_rewrite,
    choose_refs,
    remote_only_branches,
)


@dataclass
class DvcResult(ImportResult):
    """What ``from-dvc`` did, and what is left for the user."""

    stages: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)  # stages `git mlv repro` finds up to date
    stale: list[str] = field(default_factory=list)  # stages it will run (DVC's lock did not match)
    remotes: list[str] = field(default_factory=list)  # `git mlv remote add ...` commands
    unsupported: list[str] = field(default_factory=list)  # DVC remotes we cannot talk to
    dropped: list[str] = field(default_factory=list)  # "dvc.yaml: stage 'x': frozen: ..." (not converted)


def is_dvc_file(path: str) -> bool:
    """A ``X.dvc`` file (not something inside ``.dvc/``)."""
    return path.endswith(".dvc") and not path.startswith(".dvc/") and posixpath.basename(path) != ".dvc"


def _is_pipeline(path: str) -> bool:
    return posixpath.basename(path) in ("dvc.yaml", "dvc.lock")


class CommitSource:
    """Files of an original commit, read through cat-file."""

    def __init__(self, ws: Workspace, cat: CatFile, commit: str) -> None:
        self.ws = ws
        self.cat = cat
        self.commit = commit

    def read(self, path: str) -> bytes | None:
        """A file's bytes at the commit."""
        got = self.cat.open(f"{self.commit}:{path}")
        if got is None or got[0] != "blob":
            return None
        return got[1].read()

    def walk(self, path: str) -> list[str] | None:
        """Files below a folder at the commit."""
        raw = self.ws.repo.git("ls-tree", "-r", "-z", "--name-only", self.commit, "--", path + "/")
        files = sorted(os.fsdecode(p) for p in raw.split(b"\0") if p)
        return files or None


@dataclass
class _Pipeline:
    stages: list[DvcStage]
    locked: dict[str, LockedStage]
    yamls: list[str]
    dropped: list[str] = field(default_factory=list)  # "dvc.yaml: top-level metrics ..."


def _pipeline(read: Source, yamls: list[str]) -> _Pipeline:
    stages: list[DvcStage] = []
    locked: dict[str, LockedStage] = {}
    present = []
    dropped = []
    for y in sorted(yamls):
        text = read.read(y)
        if text is None:
            continue
        present.append(y)
        st = parse_dvc_yaml(y, text, read.read)
        dropped += [f"{y}: {d}" for d in top_level_dropped(y, text, st)]
        lock_path = posixpath.join(posixpath.dirname(y), "dvc.lock")
        lock = read.read(lock_path)
        lk = parse_dvc_lock(lock_path, lock, st) if lock is not None else {}
        for s in st:
            entry = lk.get(s.name)
            for o in s.outs:
                o.hash = entry.outs.get(o.path) if entry else None
        stages += st
        locked.update(lk)
    return _Pipeline(stages, locked, present, dropped)


class _Converter:
    """One DVC state (a commit's, or the checked-out one) into tree changes."""

    def __init__(self, ws: Workspace, cat: CatFile, data: DvcData, result: DvcResult) -> None:
        self.ws = ws
        self.cat = cat
        self.data = data
        self.result = result

    def dvc_file(self, path: str, text: bytes, source: Source) -> tuple[list[FileChange], list[Output]]:
        outs = [o for o in parse_dvc_file(path, text) if o.cache]
        for src in dvc_file_sources(path, text):  # once each, however many commits hold it
            line = (f"{path}: {src}: its data is converted, the link to its source is not (`git mlv "
                    f"import URL PATH -o OUT` links data from a git-mlv repository)")
            if line not in self.result.dropped:
                self.result.dropped.append(line)
        changes = [FileChange("D", path.encode("utf-8", "surrogateescape"))]
        for o in outs:
            changes += output_changes(self.data, o, source)
        return changes, outs

    def pipeline(self, pipe: _Pipeline, source: Source, committed: Source) -> list[FileChange]:
        """The changes that turn ``pipe`` into stages of ``.gitmlv`` and entries of ``.gitmlv.lock``
        (``source`` holds the files, ``committed`` the commit's own ``.gitmlv`` and lock)."""
        changes = [FileChange("D", p.encode()) for y in pipe.yamls
                   for p in (y, posixpath.join(posixpath.dirname(y), "dvc.lock"))]
        if not pipe.stages:
            # no DVC stage left: the commit's own .gitmlv and .gitmlv.lock stand as they are. They
            # had their stages stripped, and a HEAD-only migration's commit (which deletes dvc.yaml
            # and writes the stages), rewritten by --everything as its summary advises, lost the
            # pipeline: HEAD had no .gitmlv stages and no .gitmlv.lock left
            for name in (".gitmlv", ".gitmlv.lock"):
                text = committed.read(name)
                changes.append(FileChange("M", name.encode(), "100644", "inline", text) if text is not None
                               else FileChange("D", name.encode()))
            return changes
        for st in pipe.stages:
            for o in st.outs:
                if (o.cache or o.kind == "metric") and o.hash is not None:
                    changes += output_changes(self.data, o, source)
        multi = len({posixpath.dirname(y) for y in pipe.yamls}) > 1
        spec = mlv_stages(pipe.stages, multi)
        entries, stale = lock_entries(self.data, spec, pipe.stages, pipe.locked, source, multi)
        old_spec = committed.read(".gitmlv") or b""
        changes.append(FileChange("M", b".gitmlv", "100644", "inline", spec_text(old_spec, spec)))
        lock = lock_text(entries)
        changes.append(FileChange("M", b".gitmlv.lock", "100644", "inline", lock) if lock
                       else FileChange("D", b".gitmlv.lock"))
        self.result.stages = sorted(spec.stages)
        for line in pipe.dropped:  # once each, however many commits hold it
            if line not in self.result.dropped:
                self.result.dropped.append(line)
        for y_st in pipe.stages:  # once each, however many commits hold the stage
            for d in y_st.dropped:
                line = f"{posixpath.join(y_st.yaml_dir, 'dvc.yaml')}: stage {y_st.name!r}: {d}"
                if line not in self.result.dropped:
                    self.result.dropped.append(line)
        self.result.locked, self.result.stale = sorted(entries), stale
        return changes


def from_dvc(ws: Workspace, everything: bool = False, dry_run: bool = False,
             progress: ProgressFn | None = None) -> DvcResult:
    """Run ``migrate from-dvc`` (see the module docstring)."""
    check_can_rewrite(ws)
    notes = [] if dry_run else check_attributes_clean(ws)
    dvc_dir = _dvc_dir(ws.repo.top)
    result = DvcResult("rewrite" if everything else "no-rewrite", dry_run, [])
    result.warnings += notes
    hidden_before = set() if dry_run else set(untracked_data(ws))
    with CatFile(ws.repo) as cat:
        data = DvcData(ws, dvc_dir, store=not dry_run, cache_dir=dvc_cache_dir(_configs(dvc_dir)),
                       history=everything)
        conv = _Converter(ws, cat, data, result)
        try:
            if everything:
                refs = choose_refs(ws, [], True)
                transform = DvcTransform(ws, cat, conv, [r.name for r in refs])
                done = Rewriter(ws, cat, transform, progress, data.same_bytes).run(refs, dry_run=dry_run)
                result.commits, result.rewritten = done.commits, done.rewritten
                result.refs, result.backups = done.refs, done.backups
                result.warnings += done.warnings + (remote_only_branches(ws) if done.refs else [])
            else:
                _head(ws, cat, conv, dry_run, result)
        finally:
            data.close()
        result.files, result.bytes = data.files, data.bytes
        if dry_run:
            data.check()
    _remotes(ws, result, dvc_dir)
    if not dry_run:
        result.push, hooks = ready_to_publish(ws, result.refs, forced=everything)
        result.warnings += hooks
        if result.refs:
            result.warnings += unhidden(ws, hidden_before)
    return result


def _head(ws: Workspace, cat: CatFile, conv: _Converter, dry_run: bool, result: DvcResult) -> None:
    repo = ws.repo
    branch, head = checked_out(ws, "from-dvc")
    paths = [c.name for c in tree_files(ws, head)]
    dvc_files = [p for p in paths if is_dvc_file(p)]
    yamls = [p for p in paths if posixpath.basename(p) == "dvc.yaml"]
    if not dvc_files and not yamls:
        if not _had_dvc_files(ws, head):
            raise MigrateError("no DVC files in HEAD or its history (no X.dvc file, no dvc.yaml): DVC "
                               "tracks nothing here, so there is nothing to convert")
        result.commits = 1  # converted before (or the DVC files were removed): a second run is a no-op
        result.warnings += ["no DVC files left in HEAD (no X.dvc file, no dvc.yaml): already converted"]
        return
    source = WorktreeSource(repo.top)
    committed = CommitSource(ws, cat, head)
    changes: list[FileChange] = []
    outs: list[Output] = []
    for p in dvc_files:
        ch, o = conv.dvc_file(p, committed.read(p) or b"", source)
        changes += ch
        outs += o
    pipe = _pipeline(committed, yamls)
    changes += conv.pipeline(pipe, source, committed) if yamls else []
    outs += [o for st in pipe.stages for o in st.outs if o.cache]
    changes += gitignore_changes([o.path for o in outs], committed.read)
    old_attrs = committed.read(".gitattributes") or b""
    new_attrs = with_attributes(old_attrs, attribute_patterns(outs))
    if new_attrs != old_attrs:
        changes.append(FileChange("M", b".gitattributes", "100644", "inline", new_attrs))
    result.commits, result.rewritten = 1, 1
    result.patterns = attribute_patterns(outs)
    if dry_run:
        result.refs = [RefChange(branch, head, "")]  # the branch a commit would go on; no id yet
        return
    conv.data.check()
    commit_head(ws, cat, branch, head, changes, b"Convert the DVC project to git-mlv\n", result,
                conv.data.same_bytes)


# Every .dvc file and dvc.yaml at any depth (`**/` also matches no folder); `:(glob)` so that `*`
# does not cross `/` and GIT_*_PATHSPECS settings do not change the meaning.
_DVC_PATHSPECS = [":(glob)**/*.dvc", ":(glob)**/dvc.yaml"]


def _had_dvc_files(ws: Workspace, head: str) -> bool:
    """Whether a commit before ``head``, or one a rewrite kept under ``refs/mlv-migrate/``, has DVC
    files: the evidence that the project was converted (or its DVC files removed) already."""
    kept = [r.name for r in gitrefs.list_refs(ws.repo, [BACKUP])]
    return bool(ws.repo.git("rev-list", "-1", head, *kept, "--", *_DVC_PATHSPECS).strip())


@contextmanager
def _in_history(sha: str) -> Iterator[None]:
    """A DVC file the rewrite cannot read names the version: HEAD's may be fine, and the message
    alone sent the user to a file that has no fault."""
    try:
        yield
    except DvcFormatError as e:
        raise DvcFormatError(f"{e} (the version in blob {sha[:12]}: `git log --all --find-object="
                             f"{sha[:12]}` names the commits that have it; without --everything "
                             f"only HEAD's files are converted)") from None


class DvcTransform:
    """The rewrite transform of ``from-dvc --everything``."""

    def __init__(self, ws: Workspace, cat: CatFile, conv: _Converter, refs: list[str]) -> None:
        self.ws = ws
        self.cat = cat
        self.conv = conv
        self.originals = bytearray()  # 20 bytes per mark: the commit each mark rewrites
        self.yamls, all_outs = self._survey(refs)
        self.patterns = attribute_patterns(all_outs)
        self.ignored: dict[str, set[str]] = {}
        for o in all_outs:
            d, name = posixpath.split(o.path)
            self.ignored.setdefault(d, set()).add(name)

    def _survey(self, refs: list[str]) -> tuple[list[str], list[Output]]:
        """Every dvc.yaml path and every cached output in the history (so that every commit gets
        the same .gitattributes and .gitignore lines, as migrate import gives)."""
        raw = self.ws.repo.git("rev-list", "--objects", *refs)
        self._refs = refs
        yamls: dict[str, list[DvcStage]] = {}
        locks: dict[str, list[str]] = {}
        outs: dict[str, Output] = {}
        for line in raw.decode("utf-8", "surrogateescape").splitlines():
            sha, _, path = line.partition(" ")
            with _in_history(sha):
                self._survey_one(sha, path, yamls, locks, outs)
        for path, shas in locks.items():  # whether each stage output is a file or a folder
            stages = yamls.get(posixpath.join(posixpath.dirname(path), "dvc.yaml"), [])
            for sha in shas:
                with _in_history(sha):
                    for lk in parse_dvc_lock(path, self._blob(sha), stages).values():
                        for p, h in lk.outs.items():
                            if p in outs and outs[p].hash is None:
                                outs[p].hash = h
        return sorted(yamls), list(outs.values())

    def _survey_one(self, sha: str, path: str, yamls: dict[str, list[DvcStage]],
                    locks: dict[str, list[str]], outs: dict[str, Output]) -> None:
        """One object of the history's listing, for ``_survey``."""
        if is_dvc_file(path):
            for o in parse_dvc_file(path, self._blob(sha)):
                if o.cache:
                    outs.setdefault(o.path, o)
        elif posixpath.basename(path) == "dvc.yaml":
            stages = parse_dvc_yaml(path, self._blob(sha), self._at_refs, survey=True)
            yamls.setdefault(path, stages)
            for st in stages:
                for o in st.outs:
                    if o.cache or o.kind == "metric":
                        outs.setdefault(o.path, o)
        elif posixpath.basename(path) == "dvc.lock":
            locks.setdefault(path, []).append(sha)

    def _at_refs(self, path: str) -> bytes | None:
        """``path`` at the first of the refs that has it: the params and vars files a templated
        dvc.yaml's output paths come from (which commit holds a blob of the listing is unknown
        here; output paths rarely follow a params edit, and each commit's conversion reads its own)."""
        for ref in self._refs:
            got = self.cat.open(f"{ref}:{path}")
            if got is not None and got[0] == "blob":
                return got[1].read()
        return None

    def _blob(self, sha: str) -> bytes:
        got = self.cat.open(sha)
        return got[1].read() if got is not None and got[0] == "blob" else b""

    def attributes(self, text: bytes) -> bytes:
        """Our lines for every output the history ever had."""
        return with_attributes(text, self.patterns)

    def _remember(self, commit: Commit) -> None:
        end = commit.mark * 20
        if len(self.originals) < end:
            self.originals.extend(bytes(end - len(self.originals)))
        self.originals[end - 20:end] = bytes.fromhex(commit.original)

    def _original(self, ref: str) -> str | None:
        if not ref.startswith(":"):
            return ref
        i = int(ref[1:]) * 20
        raw = bytes(self.originals[i - 20:i])
        return raw.hex() if raw.strip(b"\0") else None

    def commit(self, commit: Commit) -> bool:
        """DVC files of this commit become git-mlv's."""
        self._remember(commit)
        source = CommitSource(self.ws, self.cat, commit.original)
        new: list[FileChange] = []
        changed = pipeline = False
        for ch in commit.changes:
            if ch.op not in ("M", "D") or not (is_dvc_file(ch.name) or _is_pipeline(ch.name)
                                              or posixpath.basename(ch.name) == ".gitignore"):
                new.append(ch)
                continue
            if posixpath.basename(ch.name) == ".gitignore":
                edited = self._gitignore(ch)
                new.append(edited)
                changed = changed or edited is not ch  # a .gitignore without our lines is not a change
                continue
            changed = True
            if _is_pipeline(ch.name):
                pipeline = True
            elif ch.op == "M":
                new += self.conv.dvc_file(ch.name, self.cat.read(ch.dataref) or b"", source)[0]
            else:
                new += self._removed_dvc_file(commit, ch)
        if pipeline:
            new += self.conv.pipeline(_pipeline(source, self.yamls), source, source)
        commit.changes = new
        return changed

    def _gitignore(self, ch: FileChange) -> FileChange:
        """``ch`` itself when it keeps no line of a converted output, else the edited change."""
        if ch.op == "D":
            return ch
        names = self.ignored.get(posixpath.dirname(ch.name), set())
        old = self.cat.read(ch.dataref) or b""
        text = gitignore_without(old, names)
        if text == old:
            return ch
        return FileChange("M", ch.path, ch.mode, "inline", text) if text else FileChange("D", ch.path)

    def _removed_dvc_file(self, commit: Commit, ch: FileChange) -> list[FileChange]:
        parent = self._original(commit.parents[0]) if commit.parents else None
        text = self.cat.read(f"{parent}:{ch.name}") if parent else None
        outs = parse_dvc_file(ch.name, text) if text else []
        return [ch] + [FileChange("D", o.path.encode("utf-8", "surrogateescape")) for o in outs]

    def done(self) -> None:
        """Stop before any ref moves when DVC data was missing."""
        self.conv.data.check()


def _configs(dvc_dir: str) -> list[str]:
    """The text of ``.dvc/config`` and ``.dvc/config.local`` (the local one last: it wins)."""
    texts = []
    for name in ("config", "config.local"):
        try:
            with open(os.path.join(dvc_dir, name), encoding="utf-8") as f:
                texts.append(f.read())
        except FileNotFoundError:
            continue
    return texts


def _dvc_dir(top: str) -> str:
    """The DVC project's ``.dvc`` folder: the nearest from the current folder up to the repository
    root. A project made by `dvc init --subdir` (one of several in a repository) has it in its own
    folder: "no .dvc folder here" was said there too, where the .dvc folder was."""
    root = os.path.realpath(top)
    here = os.path.realpath(os.getcwd())
    while True:
        if os.path.isdir(os.path.join(here, ".dvc")):
            return os.path.join(here, ".dvc")
        if here == root or not here.startswith(root + os.sep):
            raise UsageError("no .dvc folder here or in a folder above it: run from-dvc in the DVC "
                             "project's folder (where `dvc init` made .dvc)")
        here = os.path.dirname(here)


def _remotes(ws: Workspace, result: DvcResult, dvc_dir: str) -> None:
    from ..remotes.url import parse

    remotes: dict[str, dict[str, str]] = {}
    default = None
    for text in _configs(dvc_dir):  # config.local's settings over config's
        r, d = parse_dvc_remotes(text)
        for name, settings in r.items():
            remotes.setdefault(name, {}).update(settings)
        default = d or default
    for name, settings in sorted(remotes.items()):
        if "url" not in settings:
            continue
        url, extra = mlv_remote(settings["url"], settings)
        if "://" not in url and not os.path.isabs(url):  # DVC reads it relative to .dvc/, a
            # command typed here reads it relative to the current folder
            url = os.path.relpath(os.path.normpath(os.path.join(dvc_dir, url)), os.getcwd())
        try:
            parse(url)
        except UsageError:
            result.unsupported.append(f"{name} ({url})")
            continue
        flag = " --default" if name == default else ""
        result.remotes.append(f"git mlv remote add {shlex.quote(name)} {shlex.quote(url)}{flag}")
        result.remotes += [f"git mlv remote modify {shlex.quote(name)} {key} {shlex.quote(value)}"
                           for key, value in extra]
