"""`git mlv du`'s last row: the pool's files against every version whole. Before, it showed
logical/stored ("1.00x overall") beside a pool twice the size of the data a deleted branch left in
it; now the ratio is logical/on-disk, and du says gc may free the rest."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, commit_on_dropped_branch, mlv, out, random_bytes, write


def test_du_overall_ratio_is_against_the_pool_on_disk(repo: Path) -> None:
    write(repo / "a.bin", random_bytes(1_500_000, seed=741))
    commit_all(repo, "kept")
    commit_on_dropped_branch(repo, "b.bin", random_bytes(3_000_000, seed=742))
    res = json.loads(out(mlv("du", "--json", cwd=repo)))
    assert res["files"] == 1 and res["logical"] == 1_500_000
    assert res["on_disk"] > 4_500_000  # b.bin's data is still in the pool (the reflog keeps it)
    assert res["disk_ratio"] == round(res["logical"] / res["on_disk"], 3) < 0.4
    text = out(mlv("du", cwd=repo))
    assert f"{res['disk_ratio']:.2f}x overall" in text
    assert "`git mlv gc --dry-run` says what gc would free" in text
