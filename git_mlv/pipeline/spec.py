"""The pipeline spec: ``[stage "NAME"]`` sections of ``.gitmlv`` at the repository root.

Format (docs/pipelines.md)::

    [stage "train"]
        cmd = python train.py       # may name params: ${KEY}, ${FILE:KEY} (template.py)
        wdir = src                  # optional: where cmd runs, relative to the root
        dep = train.py              # multi-valued; a file or a directory
        param = params.yaml:lr      # FILE:KEY (nested keys as a.b.c) or FILE alone = every key
        out = model.h5              # stored in the pool, tracked by the mlv filter
        outnocache = log.txt        # not tracked by the filter; the pool keeps it for the run-cache
        metric = metrics.json       # kept in git as a normal file

Paths are relative to the repository root, with ``/`` separators, whatever the directory a command
was typed in. The same file holds ``[core]`` and ``[remote "x"]`` written by other verbs, and
``[import "OUT"]`` (pipeline/importrec.py); we rewrite only the stage sections: sorted by name, keys
in the order above, unknown keys kept after them. A stage may depend on an imported path like on any
other: ``git mlv update`` changes its bytes, so ``repro`` reruns the stage.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field

from ..errors import MlvError, UsageError
from ..gitio.git import Repo
from .configfile import Items, read_items, render_section, save_sections
from .template import TemplateError, param_entries, references

FILENAME = ".gitmlv"
SECTION = "stage"
# key in the file -> Stage attribute; the order is the canonical order of the file
LIST_KEYS = {"dep": "deps", "param": "params", "out": "outs", "outnocache": "outs_nocache",
             "metric": "metrics"}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


class SpecError(UsageError):
    """The pipeline spec is invalid; the message names the stage and the problem.

    What the user wrote (on the command line or in ``.gitmlv``) is wrong, so it exits 2, as a usage
    error; a dependency missing from the work tree is not this (``dag.MissingDependency``, exit 1).
    """


@dataclass
class Stage:
    """One stage: a command, what it reads and what it writes."""

    name: str
    cmd: str
    deps: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    outs: list[str] = field(default_factory=list)
    outs_nocache: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    wdir: str = ""
    extra: list[tuple[str, str]] = field(default_factory=list)  # keys we do not know, kept as is

    @property
    def all_outs(self) -> list[str]:
        """Every output: cached, not cached and metrics."""
        return [*self.outs, *self.outs_nocache, *self.metrics]

    @property
    def all_params(self) -> list[str]:
        """Every parameter: the ``param`` entries, then the ``${...}`` keys of ``cmd`` not among them."""
        return list(dict.fromkeys([*self.params, *param_entries(self.cmd)]))

    def pairs(self) -> list[tuple[str, str]]:
        """The (key, value) lines of this stage in canonical order."""
        out = [("cmd", self.cmd)]
        if self.wdir:
            out.append(("wdir", self.wdir))
        for key, attr in LIST_KEYS.items():  # sorted: the same stage always has the same text
            out += [(key, v) for v in sorted(getattr(self, attr))]
        return out + self.extra


def normalize_path(path: str, top: str, cwd: str | None = None) -> str:
    """``path`` (as typed, relative to ``cwd``) as a root-relative ``/`` path; SpecError if outside."""
    cwd = cwd or top
    absolute = os.path.normpath(os.path.join(cwd, path))
    rel = os.path.relpath(absolute, top).replace(os.sep, "/")
    check_path(rel, path)
    return rel


def check_path(rel: str, shown: str | None = None) -> None:
    """SpecError unless ``rel`` is a clean root-relative path inside the work tree (and not .git)."""
    shown = shown if shown is not None else rel
    if not rel or rel == "." or rel.startswith("/") or posixpath.normpath(rel) != rel:
        # `dep = ./data` typed into .gitmlv by hand (as DVC's dvc.yaml takes it):
        # name the spelling that works
        clean = posixpath.normpath(rel) if rel and not rel.startswith("/") else ""
        inside = clean not in ("", ".", "..") and not clean.startswith("../")
        inside = inside and clean.split("/")[0] != ".git"
        hint = f" (write {clean!r})" if inside else ""
        raise SpecError(f"{shown!r} is not a clean path relative to the repository root{hint}")
    if rel == ".." or rel.startswith("../"):
        raise SpecError(f"{shown!r} is outside the repository")
    if rel.split("/")[0] == ".git":
        raise SpecError(f"{shown!r} is inside .git")


def parse_param(text: str) -> tuple[str, str]:
    """``FILE:KEY`` -> (FILE, KEY); ``FILE`` alone -> (FILE, "") meaning every key of the file."""
    file, _, key = text.partition(":")
    return file, key


DEFAULT_PARAMS = "params.yaml"
PARAM_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".py")


def param_args(arg: str, top: str, cwd: str | None = None) -> list[str]:
    """One ``-p`` argument as spec entries.

    ``FILE:K1,K2`` -> ``FILE:K1``, ``FILE:K2``; ``FILE`` alone (an existing file, or a name ending in
    .yaml/.yml/.json/.toml/.py) -> ``FILE``, every key of it; anything else, ``K1,K2`` -> keys of
    ``params.yaml`` in the current directory (the DVC habit ``-p lr,epochs``).
    """
    file, sep, keys = arg.partition(":")
    if not sep:
        looks_like_file = file.lower().endswith(PARAM_SUFFIXES) or os.path.isfile(
            os.path.join(cwd or top, file))
        if not looks_like_file:
            file, keys = DEFAULT_PARAMS, arg
        else:
            return [normalize_path(file, top, cwd)]
    rel = normalize_path(file, top, cwd)
    names = [k.strip() for k in keys.split(",") if k.strip()]
    if not names:
        raise SpecError(f"-p {arg}: no keys after ':' (write FILE alone for every key)")
    return [f"{rel}:{k}" for k in names]


def _check_stage(st: Stage) -> None:
    where = f"stage {st.name!r}"
    if not _NAME.match(st.name):
        raise SpecError(f"{where}: a stage name is letters, digits, '_' and '-' only")
    if not st.cmd.strip():
        raise SpecError(f"{where}: has no cmd")
    try:
        for shown, ref in references(st.cmd):
            check_path(parse_param(ref)[0], shown)
    except (TemplateError, SpecError) as e:
        raise SpecError(f"{where}: cmd: {e}") from None
    if st.wdir:
        try:
            check_path(st.wdir)
        except SpecError as e:
            raise SpecError(f"{where}: wdir {e}") from None
    for attr in LIST_KEYS.values():
        values = getattr(st, attr)
        if len(set(values)) != len(values):
            dup = next(v for v in values if values.count(v) > 1)
            raise SpecError(f"{where}: {dup!r} is listed twice")
        for v in values:
            path = parse_param(v)[0] if attr == "params" else v
            try:
                check_path(path)
            except SpecError as e:
                raise SpecError(f"{where}: {e}") from None
    for p in st.params:
        key = parse_param(p)[1]
        if "=" in key or key != key.strip() or key.startswith(".") or key.endswith("."):
            raise SpecError(f"{where}: param key {key!r} is not a usable key name")
    outs = st.all_outs
    if len(set(outs)) != len(outs):
        dup = next(v for v in outs if outs.count(v) > 1)
        raise SpecError(f"{where}: output {dup!r} is declared twice")
    for d in st.deps:
        for o in outs:
            if d == o or d.startswith(o + "/") or o.startswith(d + "/"):
                raise SpecError(f"{where}: {d!r} is both a dependency and an output ({o!r})")


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


@dataclass
class Spec:
    """All stages of a pipeline, by name."""

    stages: dict[str, Stage] = field(default_factory=dict)

    def validate(self) -> None:
        """SpecError for a bad stage, or an output claimed by two stages (cycles: see dag)."""
        owners: list[tuple[str, str]] = []
        for name in sorted(self.stages):
            st = self.stages[name]
            _check_stage(st)
            for o in st.all_outs:
                for other, p in owners:
                    if _overlap(o, p) and other != name:
                        raise SpecError(
                            f"stage {name!r}: output {o!r} is already an output of stage {other!r}"
                        )
                owners.append((name, o))

    def owner_of(self, path: str) -> str | None:
        """The stage whose output is ``path`` or contains it."""
        for st in self.stages.values():
            for o in st.all_outs:
                if path == o or path.startswith(o + "/"):
                    return st.name
        return None

    def render(self) -> str:
        """The canonical text of the stage sections."""
        return "".join(render_section(SECTION, n, self.stages[n].pairs()) for n in sorted(self.stages))


def _from_items(items: list[tuple[str, str, str, str | None]], where: str) -> Spec:
    spec = Spec()
    raw: dict[str, dict[str, list[str]]] = {}
    order: dict[str, list[str]] = {}
    for section, sub, var, value in items:
        if section != SECTION:
            continue
        if not sub:
            raise SpecError(f"{where}: a [stage] section needs a name: [stage \"NAME\"]")
        if value is None:
            raise SpecError(f"{where}: stage {sub!r}: key {var!r} has no value")
        keys = raw.setdefault(sub, {})
        if var not in keys:
            order.setdefault(sub, []).append(var)
        keys.setdefault(var, []).append(value)
    for name, keys in raw.items():
        cmds = keys.get("cmd", [])
        if len(cmds) != 1:
            raise SpecError(f"{where}: stage {name!r} needs exactly one cmd (has {len(cmds)})")
        wdirs = keys.get("wdir", [""])
        if len(wdirs) != 1:
            raise SpecError(f"{where}: stage {name!r} has more than one wdir")
        st = Stage(name=name, cmd=cmds[0], wdir=wdirs[0].rstrip("/"))
        for key, attr in LIST_KEYS.items():
            setattr(st, attr, [v.rstrip("/") if key != "param" else v for v in keys.get(key, [])])
        st.extra = [(k, v) for k in order[name] if k not in LIST_KEYS and k not in ("cmd", "wdir")
                    for v in keys[k]]
        spec.stages[name] = st
    return spec


def load(repo: Repo) -> Spec:
    """The spec in the work tree's ``.gitmlv`` (empty when there is none); validated."""
    path = os.path.join(repo.top, FILENAME)
    if not os.path.exists(path):
        return Spec()
    spec = _from_items(read_items(repo, path=path), FILENAME)
    spec.validate()
    return spec


def load_at(repo: Repo, rev: str) -> Spec:
    """The spec as committed at ``rev`` (empty when that revision has no ``.gitmlv``); not validated."""
    got = load_at_many(repo, [rev])[rev]
    if isinstance(got, MlvError):
        raise got
    return got


def load_at_many(repo: Repo, revs: list[str]) -> dict[str, Spec | MlvError]:
    """``load_at`` for each of ``revs`` (the error instead, for a malformed one): one git process
    finds every revision's ``.gitmlv``, and one more reads each distinct one (a spec rarely changes:
    1,000 tags are a handful of files, not 3,000 git processes)."""
    from ..gitio.walk import resolve

    found = resolve(repo, [f"{rev}:{FILENAME}" for rev in revs])
    parsed: dict[str, tuple[str, Items | MlvError]] = {}  # blob id -> (first name, its items)
    out: dict[str, Spec | MlvError] = {}
    for rev, hit in zip(revs, found):
        name = f"{rev}:{FILENAME}"
        if hit is None or hit[1] != "blob":
            out[rev] = Spec()
            continue
        if hit[0] not in parsed:
            try:
                parsed[hit[0]] = (name, read_items(repo, blob=hit[0], name=name))
            except MlvError as e:
                parsed[hit[0]] = (name, e)
        first, got = parsed[hit[0]]
        try:
            if isinstance(got, MlvError):  # named after this revision, as load_at names it
                raise type(got)(str(got).replace(first, name, 1))
            out[rev] = _from_items(got, name)
        except MlvError as e:
            out[rev] = e
    return out


def save(repo: Repo, spec: Spec) -> None:
    """Write the stage sections canonically, keeping every other section of ``.gitmlv`` as it was."""
    save_sections(os.path.join(repo.top, FILENAME), SECTION, spec.render())
