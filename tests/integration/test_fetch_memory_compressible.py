"""A fetch's memory in flight counts the decompressed bytes it keeps, not only the stored ones.

Regression: a fetch reads ranges of at most 4 MiB of stored bytes, 2 x workers of them in flight,
and keeps each chunk's decompressed bytes until its file's hash takes them. A file that compresses
well (DNA letters, CSV: ~3-4x) held ~4x the budget: `git mlv pull` of a 1 GiB ACGT file peaked at
153 MB RSS (78 MB now), past the 150 MB bar. Ranges now count the kept
decompressed bytes against their size (remotes/ranges.coalesce ``held``).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import BIN, git, mlv

SIZE_MIB = 192  # several times what a fetch keeps in flight
MAX_RSS_KB = 95_000  # measured: 122 MB before, 65 MB after (the process's imports alone: ~55 MB)


def _peak_rss_kb(args: list[str], cwd: Path) -> int:
    """Peak RSS (KB) of the process ``args`` starts: its VmHWM, read until it exits (a child's
    ru_maxrss would start from pytest's own RSS: Linux carries the parent's peak into a child's)."""
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                peak = max([peak] + [int(line.split()[1]) for line in f if line.startswith("VmHWM:")])
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    return peak


@pytest.mark.slow
def test_pull_of_a_compressible_file_stays_small(repo: Path, tmp_path: Path) -> None:
    # the defaults' chunks and packs, not the suite's small ones (tests/conftest.TEST_CONFIG): a
    # range of a 256 KiB pack holds little, and per-chunk costs of 4 KiB chunks would be measured
    for key, value in (("chunkAvg", "49152"), ("chunkMin", "16384"), ("chunkMax", "262144"),
                       ("packSize", "67108864")):
        git("config", f"mlv.{key}", value, cwd=repo)
    letters = np.frombuffer(b"ACGT", np.uint8)
    rng = np.random.default_rng(3)
    with open(repo / "genome.bin", "wb") as f:
        for _ in range(SIZE_MIB):
            f.write(letters[rng.integers(0, 4, 1 << 20)].tobytes())
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "genome", cwd=repo)
    mlv("push", "-q", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "--no-checkout", str(repo), str(clone), cwd=tmp_path)
    # pointers in the work tree (no filter, so no fetch during the checkout); then the fetch alone,
    # measured without git's own processes (git holds a smudged file whole: git's RSS is git's)
    git("-c", "filter.mlv.process=", "-c", "filter.mlv.smudge=cat", "-c", "filter.mlv.required=false",
        "checkout", "-q", "main", cwd=clone)
    assert (clone / "genome.bin").stat().st_size < 1000
    rss = _peak_rss_kb([f"{BIN}/git-mlv", "fetch", "-q"], clone)
    mlv("pull", "-q", cwd=clone)
    assert (clone / "genome.bin").read_bytes() == (repo / "genome.bin").read_bytes()
    assert rss < MAX_RSS_KB, rss
