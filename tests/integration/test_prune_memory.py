"""`git mlv prune`'s walk of what it must keep (gitio/retain.py) grows by packed ids, not by Python
objects per file: before, every tracked file's id was a Python string in a set, and the index's
and history's listings were held whole (~1 KB a tracked file: 136 MB for `git mlv prune --dry-run`
at 100,000 files, 74 MB after). Synthetic pointers through ``git fast-import``, as in
test_flat_memory.py: the walk reads git only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.gitio import retain
from git_mlv.gitio.git import Repo
from tests.helpers import git
from tests.integration.test_flat_memory import LARGE, SMALL, peak_of, small_and_large

# the ids (32 bytes a file) and their merge copies: ~235 bytes measured; before, ~835 (a Python
# string a file in a set, and the listings held whole)
MAX_BYTES = 350


def test_prune_retained_walk_grows_by_arrays(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, large = small_and_large(repo, monkeypatch)
    git("branch", "large", large, cwd=repo)
    git("update-ref", "-d", "refs/heads/main", cwd=repo)
    kept: dict[str, int] = {}

    def kept_at(branch: str, other: str) -> int:
        """Peak of the walk with only ``branch``: HEAD's tree, the index and the unpushed commits
        (no remote-tracking ref: all of them) name its pointers. Not checked out: no data."""
        git("symbolic-ref", "HEAD", f"refs/heads/{branch}", cwd=repo)
        git("branch", "-q", "-D", other, cwd=repo)
        git("read-tree", branch, cwd=repo)
        repo_ = Repo.discover(str(repo))
        retain.retained(repo_, 0)  # warm: imports and the pointer cache
        return peak_of(lambda: kept.__setitem__(branch, len(retain.retained(repo_, 0).oids)))

    few = kept_at("small", "large")
    git("branch", "large", large, cwd=repo)
    many = kept_at("large", "small")
    assert kept == {"small": SMALL, "large": LARGE}
    per_file = (many - few) / (LARGE - SMALL)
    assert per_file < MAX_BYTES, f"prune's walk: {per_file:.0f} B/file"
