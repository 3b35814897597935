"""`git mlv du` in a partial clone (`git clone --filter=blob:none`) walked every pointer of history,
and git fetched each old pointer blob the clone never had, one `git fetch` per old version of a
data file. It leaves them out now, as gc does (b6066b3): their data cannot be in this pool."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import mlv, out
from tests.integration.test_partial_clone_gc import _missing, _partial_clone


def test_du_in_a_partial_clone_fetches_no_old_pointers(repo: Path, tmp_path: Path) -> None:
    clone = _partial_clone(repo, tmp_path, commits=8, files=2, size=4_000)
    missing = _missing(clone)
    assert missing >= 6  # the old versions' pointers stayed on the server
    res = json.loads(out(mlv("du", "--json", cwd=clone)))
    assert _missing(clone) == missing  # before: every old pointer blob fetched, one by one
    # HEAD's two versions, checked out with their data; the old ones are not counted
    assert (res["files"], res["missing"], res["logical"], res["partial_clone"]) == (2, 0, 8_000, True)
    assert "versions whose pointer git has not fetched are not counted" in out(mlv("du", cwd=clone))
    assert json.loads(out(mlv("du", "--json", cwd=repo)))["partial_clone"] is False
