"""The lock: ``.gitmlv.lock``, what each stage read and wrote at its last successful run.

Tracked in git, git-config syntax, one section per stage, rewritten whole and canonically (stages
sorted; keys in the order below; records sorted by path) so it diffs and merges cleanly::

    [stage "train"]
        cmd = python train.py
        wdir = src                                  # only when the stage has one
        dep = <sha256 hex> <size> train.py
        dep = <sha256 hex> <size> data/             # a directory: trailing '/', oid of its listing
        param = params.yaml:lr=0.01                 # FILE:KEY=canonical JSON of the value
        out = <sha256 hex> <size> model.h5
        outnocache = <sha256 hex> <size> log.txt
        metric = <sha256 hex> <size> metrics.json

The oid of a file is the sha256 of its content (the same id a pointer carries); the oid of a
directory is the sha256 of its listing (see ``fingerprint``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..core.fsutil import atomic_write
from ..errors import MlvError
from ..gitio.git import Repo
from .configfile import ConfigFileError, read_items, render_section

FILENAME = ".gitmlv.lock"
OUT_KINDS = ("out", "outnocache", "metric")
_RECORD = re.compile(r"([0-9a-f]{64}) (0|[1-9][0-9]*) (.+)\Z")


class LockError(MlvError):
    """``.gitmlv.lock`` cannot be read."""


@dataclass(frozen=True)
class Record:
    """The content id and size of a dep or an out; ``is_dir`` for a directory."""

    oid: str
    size: int
    is_dir: bool = False

    def render(self, path: str) -> str:
        """``<oid> <size> <path>`` (with a trailing ``/`` for a directory)."""
        return f"{self.oid} {self.size} {path}{'/' if self.is_dir else ''}"


def canonical_json(value: Any) -> str:
    """One spelling of a JSON value: sorted keys, no spaces, unicode kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def same_value(locked: str, now: Any) -> bool:
    """True when a locked parameter value (canonical JSON) is ``now``. A lock written before the
    YAML reader took ``1e-3`` for a number (pipeline/readers.py) holds it as the string "1e-3":
    the same value, not a change that reruns the stage."""
    if locked == canonical_json(now):
        return True
    if not isinstance(now, float) or not locked.startswith('"'):
        return False
    try:
        return float(json.loads(locked)) == now
    except (ValueError, TypeError):
        return False


@dataclass
class LockEntry:
    """One stage's last successful run."""

    cmd: str
    wdir: str = ""
    deps: dict[str, Record] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # "FILE:KEY" -> canonical JSON of the value
    outs: dict[str, tuple[str, Record]] = field(default_factory=dict)  # path -> (kind, record)

    def pairs(self) -> list[tuple[str, str]]:
        """The lines of this entry in canonical order."""
        out = [("cmd", self.cmd)]
        if self.wdir:
            out.append(("wdir", self.wdir))
        out += [("dep", self.deps[p].render(p)) for p in sorted(self.deps)]
        out += [("param", f"{k}={self.params[k]}") for k in sorted(self.params)]
        for kind in OUT_KINDS:
            out += [(kind, r.render(p)) for p, (k, r) in sorted(self.outs.items()) if k == kind]
        return out


def _record(value: str, where: str) -> tuple[str, Record]:
    m = _RECORD.match(value)
    if not m:
        raise LockError(f"{where}: malformed record {value!r}")
    path = m.group(3)
    is_dir = path.endswith("/")
    return path.rstrip("/"), Record(m.group(1), int(m.group(2)), is_dir)


def parse(items: list[tuple[str, str, str, str | None]], where: str = FILENAME) -> dict[str, LockEntry]:
    """Lock entries by stage from git-config items."""
    entries: dict[str, LockEntry] = {}
    for section, sub, var, value in items:
        if section != "stage" or not sub:
            continue
        here = f"{where}: stage {sub!r}"
        if value is None:
            raise LockError(f"{here}: key {var!r} has no value")
        e = entries.setdefault(sub, LockEntry(cmd=""))
        if var == "cmd":
            e.cmd = value
        elif var == "wdir":
            e.wdir = value
        elif var == "dep":
            path, rec = _record(value, here)
            e.deps[path] = rec
        elif var == "param":
            name, eq, val = value.partition("=")
            if not eq:
                raise LockError(f"{here}: malformed param {value!r}")
            e.params[name] = val
        elif var in OUT_KINDS:
            path, rec = _record(value, here)
            e.outs[path] = (var, rec)
    return entries


def load(repo: Repo) -> dict[str, LockEntry]:
    """The work tree's lock (empty when there is none)."""
    path = os.path.join(repo.top, FILENAME)
    if not os.path.exists(path):
        return {}
    try:
        return parse(read_items(repo, path=path))
    except (ConfigFileError, LockError) as e:
        # a record it cannot read (a hand edit; a copy of .gitmlv that `git config -f .gitmlv`,
        # which writes through this very name, left when it was killed) said nothing of the way out
        raise LockError(f"{e}; resolve it by hand, or delete {FILENAME} and run `git mlv repro`") from None


def render(entries: dict[str, LockEntry]) -> str:
    """The canonical text of a lock."""
    return "".join(render_section("stage", n, entries[n].pairs()) for n in sorted(entries))


def save(repo: Repo, entries: dict[str, LockEntry]) -> None:
    """Replace the lock atomically (only when its text changes)."""
    path = os.path.join(repo.top, FILENAME)
    text = render(entries)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        if not entries:
            return
    atomic_write(path, text.encode("utf-8"))
