"""How fast this machine writes fresh pages: the part of a checkout that no filter controls.

A checkout through git's filter ends with git writing each file into the page cache (and first
gathering it in freshly allocated memory). On the 2-core VM these benchmarks run on, that write
swings tenfold from one moment to the next (0.4 to 4.5 GB/s for the same 400 MB: pages the host
has taken back through the balloon's free page reporting are faulted in again), and git-lfs's and
our checkout swing with it (bench/RESULTS.md). ``bench/run.py`` runs this probe before and after the
harness and prints the range in the report, so that a reader can tell a slow machine from slow code.

    python bench/pageprobe.py [--mb 400] [--rounds 5] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def probe(directory: str, mb: int = 400, rounds: int = 5, pause: float = 1.0) -> list[float]:
    """GB/s of ``rounds`` writes of ``mb`` MB into a new file in ``directory`` (unlinked after
    each; ``pause`` seconds between them, as between a benchmark's steps)."""
    data = os.urandom(1 << 20) * mb
    speeds = []
    for i in range(rounds):
        fd, path = tempfile.mkstemp(dir=directory, prefix=".pageprobe-")
        try:
            t = time.perf_counter()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            speeds.append(len(data) / (time.perf_counter() - t) / 1e9)
        finally:
            os.close(fd)
            os.unlink(path)
        if i + 1 < rounds:
            time.sleep(pause)
    return speeds


def summary(speeds: list[float]) -> str:
    """``min-max GB/s (median m)``."""
    return (f"{min(speeds):.2f}-{max(speeds):.2f} GB/s (median {statistics.median(speeds):.2f})"
            if speeds else "not measured")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", default=".", help="a folder on the filesystem to probe")
    a = ap.parse_args()
    speeds = probe(a.dir, a.mb, a.rounds)
    print(" ".join(f"{s:.2f}" for s in speeds), "GB/s:", summary(speeds))


if __name__ == "__main__":
    main()
