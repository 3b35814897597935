"""Metrics and parameters across revisions, read from git objects (the work tree only for
``workspace``). Which files are metrics, and which parameters matter, comes from the spec committed
at each revision. A revision without a file is a missing cell, not an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import MlvError, UsageError
from ..gitio.git import Repo
from . import spec as specfile
from .params import values as param_values
from .readers import FormatError, flatten, is_number, parse
from .readers import rows as table_rows
from .revisions import WORKSPACE, read_blobs, read_worktree

if TYPE_CHECKING:
    from ..core.pool import Pool

Values = dict[str, dict[str, Any]]  # path -> {flat key: value}


class _Missing:
    """No value at that revision (no file, or no such key): not a value of None, which is a
    file's ``null`` (``pretrained: null`` and ``pretrained: imagenet`` differ; a key added as null
    is a change, as ``repro`` calls it one)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass
class MetricsTable:
    """Metric values by revision: ``data[rev][path][key]``; ``errors`` for files (and specs) that did
    not parse; ``unparsed[rev][path]`` the parse error of each metrics file that did not;
    ``missing`` the metrics files the work tree lacks."""

    revs: list[str]
    data: dict[str, Values] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    unparsed: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # work-tree metrics files named but not there

    def columns(self) -> list[tuple[str, str]]:
        """Every (path, key) seen, sorted."""
        return sorted({(p, k) for vals in self.data.values() for p, kv in vals.items() for k in kv})

    def column_names(self) -> list[str]:
        """Column labels: the key alone when there is one metric file, else ``path:key``."""
        cols = self.columns()
        single = len({p for p, _ in cols}) <= 1
        return [k if single else f"{p}:{k}" for p, k in cols]

    def rows(self) -> list[list[Any]]:
        """One row per revision: the revision then each column's value (MISSING when missing)."""
        cols = self.columns()
        return [[rev, *(self.data.get(rev, {}).get(p, {}).get(k, MISSING) for p, k in cols)]
                for rev in self.revs]


@dataclass(frozen=True)
class DiffRow:
    """One value at two revisions (MISSING on a side without it); ``change`` = new - old when both
    are numbers."""

    path: str
    key: str
    old: Any
    new: Any

    @property
    def change(self) -> float | int | None:
        """new - old for numbers, else None; of the numbers as written (0.3 - 0.1 = 0.2)."""
        if not (is_number(self.old) and is_number(self.new)):
            return None
        if isinstance(self.old, int) and isinstance(self.new, int):
            return self.new - self.old
        if not (math.isfinite(self.old) and math.isfinite(self.new)):
            return self.new - self.old  # nan, inf - inf: as float arithmetic has it
        # binary floats showed 0.3 - 0.1 as 0.19999999999999998 (--json, --csv); the decimal
        # difference of the values' shortest forms is what a reader of the two files computes
        return float(Decimal(repr(self.new)) - Decimal(repr(self.old)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (a missing side is null, as DVC writes it)."""
        return {"path": self.path, "key": self.key, "old": None if self.old is MISSING else self.old,
                "new": None if self.new is MISSING else self.new, "change": self.change}


def _spec(repo: Repo, rev: str) -> specfile.Spec:
    if rev == WORKSPACE:
        return specfile.load(repo)
    return specfile.load_at(repo, rev)


def metric_paths(spec: specfile.Spec) -> list[str]:
    """Every metric file a spec names, sorted."""
    return sorted({m for st in spec.stages.values() for m in st.metrics})


def _read(repo: Repo, wanted: list[tuple[str, str]], pool: Pool | None
          ) -> dict[tuple[str, str], bytes | None]:
    in_git = [(r, p) for r, p in wanted if r != WORKSPACE]
    got = read_blobs(repo, in_git, pool)
    for r, p in wanted:
        if r == WORKSPACE:
            got[(r, p)] = read_worktree(repo.top, p, pool)
    return got


def show(repo: Repo, revs: list[str], pool: Pool | None = None, paths: list[str] | None = None
         ) -> MetricsTable:
    """Metric values at each revision (``WORKSPACE`` = the work tree); ``paths`` overrides the spec."""
    table = MetricsTable(revs=list(revs))
    wanted = []
    specs = {} if paths else specfile.load_at_many(repo, [r for r in revs if r != WORKSPACE])
    for rev in revs:
        if paths:
            wanted += [(rev, p) for p in paths]
            continue
        try:
            spec = specs[rev] if rev in specs else _spec(repo, rev)  # the work tree: from disk
            if isinstance(spec, MlvError):
                raise spec
            wanted += [(rev, p) for p in metric_paths(spec)]
        except MlvError as e:  # one bad revision should not hide the others
            table.errors.append(_at(rev, e))
    blobs = _read(repo, wanted, pool)
    for (rev, path), data in blobs.items():
        if data is None:
            if rev == WORKSPACE:  # named by the spec or --file, not there
                table.missing.append(path)
            continue
        try:
            values = flatten(_mapping(path, parse(path, data)))
        except MlvError as e:
            table.errors.append(f"{rev}: {e}")
            table.unparsed.setdefault(rev, {})[path] = str(e)
            continue
        table.data.setdefault(rev, {})[path] = values
    return table


@dataclass
class RowsAt:
    """The records of one table file (plot data) at each revision: ``rows[rev]``; ``errors`` for
    revisions where it does not parse, ``absent`` the revisions without it."""

    revs: list[str]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)


def rows_at(repo: Repo, revs: list[str], path: str, pool: Pool | None = None) -> RowsAt:
    """``path``'s records at each revision (``WORKSPACE`` = the work tree)."""
    out = RowsAt(revs=list(revs))
    blobs = _read(repo, [(rev, path) for rev in revs], pool)
    for rev in revs:
        data = blobs.get((rev, path))
        if data is None:
            out.absent.append(rev)
            continue
        try:
            out.rows[rev] = table_rows(path, data)
        except MlvError as e:
            out.errors.append(f"{rev}: {e}")
    return out


def curves(by_rev: dict[str, list[dict[str, Any]]], x: str | None, only: list[str] | None
           ) -> tuple[str, dict[str, dict[str, list[tuple[float, float]]]]]:
    """(the x column's name, column -> revision -> (x, y) points): x is ``x``, else the first
    column when its values are numbers, else the row number ('row'); rows where x or y is not a
    number are left out."""
    columns = list(dict.fromkeys(k for rows in by_rev.values() for r in rows for k in r))
    if x is not None and x not in columns:
        raise UsageError(f"no column {x!r} to put along x (columns: {', '.join(columns) or 'none'})")
    if x is None and columns and all(is_number(r.get(columns[0])) for rows in by_rev.values()
                                     for r in rows):
        x = columns[0]
    wanted = [c for c in columns if c != x and (not only or c in only)]
    if only:
        unknown = sorted(set(only) - set(columns))
        if unknown:
            raise MlvError(f"no column named {unknown[0]!r} (columns: {', '.join(columns)})")
    panels: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for col in wanted:
        lines = {}
        for rev, rows in by_rev.items():
            pts = [(r[x] if x else i, r[col]) for i, r in enumerate(rows)
                   if is_number(r.get(col)) and (x is None or is_number(r.get(x)))]
            if pts:
                lines[rev] = pts
        if lines:
            panels[col] = lines
    return x or "row", panels


def _at(rev: str, e: MlvError) -> str:
    """``REV: message``, unless the message names the revision already: a spec that did not parse
    at a tag said "v4: v4:.gitmlv is malformed" (the file is named ``REV:.gitmlv``, as git names a
    blob)."""
    msg = str(e)
    return msg if msg.startswith(f"{rev}:") else f"{rev}: {msg}"


def _mapping(path: str, doc: Any) -> dict[str, Any]:
    """``doc`` when it is a mapping of metrics (an empty file: none); a list or a lone value was
    read as no metrics at all, silently ("No metrics found.")."""
    if doc is None or isinstance(doc, dict):
        return doc or {}
    kind = "a list" if isinstance(doc, list) else f"a lone value ({doc!r:.40})"
    raise FormatError(f"cannot read {path} as metrics: it holds {kind}, not a mapping of names to "
                      "values")


def diff_values(old: Values, new: Values, show_all: bool = False) -> list[DiffRow]:
    """Rows for every (path, key) on either side; unchanged ones only with ``show_all``."""
    rows = []
    keys = sorted({(p, k) for side in (old, new) for p, kv in side.items() for k in kv})
    for p, k in keys:
        a, b = old.get(p, {}).get(k, MISSING), new.get(p, {}).get(k, MISSING)
        if show_all or not _same(a, b):
            rows.append(DiffRow(p, k, a, b))
    return rows


def _same(a: Any, b: Any) -> bool:
    # NaN != NaN in Python, but a loss that was NaN and still is has not changed
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


@dataclass
class ValuesDiff:
    """Metric or parameter rows, and one warning per file that did not parse at a revision: its
    values are left out of ``rows`` (unknown values, not removed ones)."""

    rows: list[DiffRow]
    warnings: list[str] = field(default_factory=list)


ParamsDiff = ValuesDiff


def _drop_unparsed(old: Values, new: Values, bad: dict[str, dict[str, str]], what: str) -> list[str]:
    # A file that does not parse on one side is compared on neither: its values there are unknown,
    # and rows saying "removed" (or "added") would lie.
    warnings = []
    for rev, files in bad.items():
        for file, err in sorted(files.items()):
            warnings.append(f"{rev}: {err}; the {what} of {file} are not compared")
    for file in {f for files in bad.values() for f in files}:
        old.pop(file, None)
        new.pop(file, None)
    return warnings


def diff(repo: Repo, a: str, b: str, pool: Pool | None = None, show_all: bool = False,
         paths: list[str] | None = None) -> ValuesDiff:
    """Metric values at ``a`` against ``b``. A metrics file that does not parse on one side is a
    warning and is compared on neither side, as ``params_diff`` does; a spec that does not parse
    is an error (which files are metrics is then unknown)."""
    table = show(repo, [a, b], pool, paths)
    parse_errors = {f"{rev}: {err}" for rev, files in table.unparsed.items() for err in files.values()}
    for err in table.errors:
        if err not in parse_errors:
            raise MlvError(err)
    old, new = dict(table.data.get(a, {})), dict(table.data.get(b, {}))
    bad = {rev: table.unparsed.get(rev, {}) for rev in dict.fromkeys((a, b))}
    warnings = _drop_unparsed(old, new, bad, "metrics")
    return ValuesDiff(diff_values(old, new, show_all), warnings)


def params_at(repo: Repo, rev: str, pool: Pool | None = None, unparsed: dict[str, str] | None = None
              ) -> Values:
    """Every parameter the spec at ``rev`` names, by file: ``{file: {key: value}}``; files that do not
    parse are left out (and put in ``unparsed`` with their error when given)."""
    spec = _spec(repo, rev)
    entries = sorted({p for st in spec.stages.values() for p in st.all_params})
    files = sorted({specfile.parse_param(e)[0] for e in entries})
    blobs = _read(repo, [(rev, f) for f in files], pool)
    flat = param_values(entries, lambda f: blobs.get((rev, f)), strict=False, unparsed=unparsed)
    out: Values = {}
    for name, value in flat.items():
        file, _, key = name.partition(":")
        out.setdefault(file, {})[key] = value
    return out


def params_diff(repo: Repo, a: str, b: str, pool: Pool | None = None, show_all: bool = False
                ) -> ParamsDiff:
    """Parameter values at ``a`` against ``b``. A file that does not parse on one side is a warning
    and is compared on neither: its values there are unknown, and rows saying "removed" would lie."""
    bad: dict[str, dict[str, str]] = {a: {}, b: {}}
    old, new = params_at(repo, a, pool, bad[a]), params_at(repo, b, pool, bad[b])
    warnings = _drop_unparsed(old, new, {rev: bad[rev] for rev in dict.fromkeys((a, b))}, "parameters")
    return ParamsDiff(diff_values(old, new, show_all), warnings)


__all__ = ["MISSING", "WORKSPACE", "DiffRow", "curves", "MetricsTable", "ParamsDiff", "diff", "diff_values",
           "flatten", "params_diff", "params_at", "rows_at", "RowsAt", "show", "ValuesDiff"]
