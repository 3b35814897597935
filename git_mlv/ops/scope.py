"""Fetch scope: ``mlv.fetchInclude`` / ``mlv.fetchExclude`` (docs/fetch-scope.md).

git-lfs's ``lfs.fetchinclude`` / ``lfs.fetchexclude`` with the same meaning: comma-separated
gitignore-style patterns relative to the repository root; a path is in scope when some include
pattern matches it (or there is none) and no exclude pattern does. A pattern matches a path when it
matches the path itself or one of its folders (``data`` takes everything under a folder named
``data``). ``--include`` / ``--exclude`` on fetch and pull replace the configured values for one
command; an empty value clears it.

Out of scope means "not downloaded": checkout, clone, pull and fetch leave such a file a pointer
when its data is not here, without a warning per file. Data already in the pool is written as
usual (git-lfs does the same: the filter declines only the download).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..gitio.pathmatch import ignore_matches
from .context import Workspace

INCLUDE_KEY = "mlv.fetchinclude"  # git config keys are lower-cased by Repo.config
EXCLUDE_KEY = "mlv.fetchexclude"


def split_patterns(value: str | None) -> list[str]:
    """The patterns of a comma-separated value (spaces around each are dropped, empties skipped)."""
    return [p.strip() for p in (value or "").split(",") if p.strip()]


class FetchScope:
    """Which repository paths git-mlv downloads data for."""

    def __init__(self, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> None:
        self.include = list(include)
        self.exclude = list(exclude)

    @property
    def limited(self) -> bool:
        """True when some path may be out of scope."""
        return bool(self.include or self.exclude)

    def __call__(self, path: str) -> bool:
        """True when the data of ``path`` (root-relative, ``/``-separated) may be downloaded."""
        if self.include and not any(ignore_matches(p, path) for p in self.include):
            return False
        return not any(ignore_matches(p, path) for p in self.exclude)

    def any_in_scope(self, paths: Iterable[str]) -> bool:
        """True when one of these paths (of one file version) is in scope."""
        return any(self(p) for p in paths)

    def describe(self) -> str:
        """``include=...; exclude=...`` for messages."""
        parts = [f"{k}={','.join(v)}" for k, v in (("include", self.include), ("exclude", self.exclude)) if v]
        return "; ".join(parts)


def fetch_scope(ws: Workspace, include: str | None = None, exclude: str | None = None) -> FetchScope:
    """The scope from git config, ``include`` / ``exclude`` (command-line values) replacing it."""
    cfg = ws.repo.config
    inc = cfg.get(INCLUDE_KEY) if include is None else include
    exc = cfg.get(EXCLUDE_KEY) if exclude is None else exclude
    return FetchScope(split_patterns(inc), split_patterns(exc))


def filter_oids(scope: FetchScope, paths: dict[str, list[str]]) -> tuple[dict[str, list[str]], int]:
    """(oid -> paths of the file versions with a path in scope, number of files left out)."""
    if not scope.limited:
        return paths, 0
    kept = {o: ps for o, ps in paths.items() if not ps or scope.any_in_scope(ps)}
    return kept, sum(len(ps) for o, ps in paths.items() if o not in kept)
