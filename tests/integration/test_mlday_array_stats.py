"""The `std` of an array's summary (npy, npz, safetensors) was E[x^2] - E[x]^2 in float64: for a
small spread around a large mean (timestamps near 1.7e9 with std 1) the difference of two big
numbers kept no correct digit (`std 22.627417`), and an infinity gave `std 0` (max(0, nan)).
Now squared deviations merged block by block: numpy's std, at 8 significant digits."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from git_mlv.inspect.arrays import ArrayStats
from git_mlv.inspect.fmt import stat
from tests.helpers import commit_all, git, out, write


def _std_line(values: np.ndarray, blocks: int) -> str:
    st = ArrayStats()
    for part in np.array_split(values, blocks):
        st.update(part)
    return next(f for f in st.facts("") if f.startswith("std "))


def test_std_is_numpys_whatever_the_blocks() -> None:
    rng = np.random.default_rng(7)
    cases = [1.7e9 + rng.normal(0, 1, 30_000), 1e6 + rng.normal(0, 0.01, 30_000),
             rng.normal(0, 1, 30_000).astype(np.float32), np.arange(1000, dtype=np.int64) * 10**12,
             np.full(100, 3.25)]
    for values in cases:
        want = f"std {stat(float(np.std(values.astype(np.float64))))}"
        for blocks in (1, 3, 17):
            got = _std_line(values, blocks)
            assert got == want or math.isclose(float(got[4:]), float(want[4:]), rel_tol=2e-7), \
                (values.dtype, blocks, got, want)
    assert _std_line(np.array([1.0, 2.0, np.inf]), 2) == "std nan"


def test_git_diff_shows_the_true_std_of_an_array(repo: Path) -> None:
    rng = np.random.default_rng(3)
    ts = 1.7e9 + rng.normal(0, 1, 50_000)
    buf = io.BytesIO()
    np.save(buf, ts)
    write(repo / "data" / "ts.npy", buf.getvalue())
    commit_all(repo, "v1")
    show = out(git("show", "HEAD", "--", "data/ts.npy", cwd=repo))
    assert f"\n+std {stat(float(np.std(ts)))}\n" in show
