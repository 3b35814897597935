"""Import records: ``[import "OUT"]`` sections of ``.gitmlv`` (format: docs/imports.md).

An import is data copied from another repository with its source written down, so that ``git mlv
update`` can move it and ``git mlv status`` can say when the source moved. A folder is recorded as
one digest of its listing however many files it holds; the per-file ids live in the index.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import MlvError
from ..gitio.git import Repo
from .configfile import read_items, render_section, save_sections
from .spec import FILENAME, SpecError, check_path

SECTION = "import"
_KEYS = ("url", "path", "rev", "commit", "files", "size", "oid", "listing")


class ImportRecordError(MlvError):
    """An ``[import]`` section of ``.gitmlv`` is incomplete or malformed."""

    exit_code = 2


@dataclass
class ImportRecord:
    """Where the data at ``out`` came from, and what it was."""

    out: str  # root-relative path in this repository
    url: str
    path: str  # path in the source repository
    commit: str
    size: int
    rev: str = ""
    files: int | None = None  # a folder's file count
    oid: str | None = None  # a file: "sha256:<hex>"
    listing: str | None = None  # a folder: "sha256:<hex>" of its listing
    extra: list[tuple[str, str]] = field(default_factory=list)  # keys we do not know, kept

    @property
    def is_dir(self) -> bool:
        """True for a folder import."""
        return self.listing is not None

    def pairs(self) -> list[tuple[str, str]]:
        """The section's (key, value) lines in canonical order."""
        values = {"url": self.url, "path": self.path, "rev": self.rev, "commit": self.commit,
                  "files": "" if self.files is None else str(self.files), "size": str(self.size),
                  "oid": self.oid or "", "listing": self.listing or ""}
        return [(k, values[k]) for k in _KEYS if values[k]] + self.extra


def listing_digest(files: Iterable[tuple[str, int, str, int]]) -> str:
    """``sha256:<hex>`` of the listing of (relative path, mode, sha256 hex, size): docs/imports.md."""
    h = hashlib.sha256()
    for rel, mode, oid, size in sorted(files, key=lambda f: os.fsencode(f[0])):
        h.update(f"{mode:o} {oid} {size} {rel}\n".encode("utf-8", "surrogateescape"))
    return "sha256:" + h.hexdigest()


def _record(out: str, keys: dict[str, list[str]], order: list[str]) -> ImportRecord:
    where = f"{FILENAME}: import {out!r}"
    try:
        check_path(out)
    except SpecError as e:
        raise ImportRecordError(f"{where}: {e}") from None
    one: dict[str, str] = {}
    for k in _KEYS:
        vals = keys.get(k, [])
        if len(vals) > 1:
            raise ImportRecordError(f"{where}: {k} is given {len(vals)} times")
        if vals:
            one[k] = vals[0]
    missing = [k for k in ("url", "path", "commit") if not one.get(k)]
    if missing or ("oid" in one) == ("listing" in one):
        what = ", ".join(missing) or "exactly one of oid and listing"
        raise ImportRecordError(f"{where}: needs {what}; run `git mlv import` again with --force")
    try:
        size = int(one.get("size", "0"))
        files = int(one["files"]) if "files" in one else None
    except ValueError:
        raise ImportRecordError(f"{where}: size and files must be numbers") from None
    extra = [(k, v) for k in order if k not in _KEYS for v in keys[k]]
    return ImportRecord(out, one["url"], one["path"], one["commit"], size, one.get("rev", ""),
                        files, one.get("oid"), one.get("listing"), extra)


def load(repo: Repo) -> dict[str, ImportRecord]:
    """Every import recorded in the work tree's ``.gitmlv``, by ``out``."""
    path = os.path.join(repo.top, FILENAME)
    if not os.path.exists(path):
        return {}
    raw: dict[str, dict[str, list[str]]] = {}
    order: dict[str, list[str]] = {}
    for section, sub, var, value in read_items(repo, path=path):
        if section != SECTION:
            continue
        if not sub or value is None:
            raise ImportRecordError(f'{FILENAME}: write imports as [import "PATH"] with key = value')
        keys = raw.setdefault(sub, {})
        if var not in keys:
            order.setdefault(sub, []).append(var)
        keys.setdefault(var, []).append(value)
    return {out: _record(out, keys, order[out]) for out, keys in raw.items()}


def save(repo: Repo, records: dict[str, ImportRecord]) -> None:
    """Write the import sections sorted by ``out``, keeping every other section as it was."""
    rendered = "".join(render_section(SECTION, o, records[o].pairs()) for o in sorted(records))
    save_sections(os.path.join(repo.top, FILENAME), SECTION, rendered)
