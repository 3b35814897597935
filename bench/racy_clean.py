#!/usr/bin/env python3
"""A racily clean file's re-clean, in process: the normal clean against the verified one (issue 10).

Run inside a repository whose index holds FILE clean (committed, not touched since)::

    cd REPO && /work/wt/rel/.venv/bin/python /work/wt/rel/bench/racy_clean.py data/table.csv --reps 3

Each repetition runs both, alternated (normal, verified, normal, ...), on the file read from disk as
git would send it, and prints wall and CPU seconds (this process's user + system, both threads);
The check's size threshold is lifted, so that files below it can be measured too (how it was chosen).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from git_mlv.ops import racyclean
from git_mlv.ops.context import Workspace
from git_mlv.ops.filter import PoolFilter


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", help="a tracked file, relative to the worktree top")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    racyclean.RACY_MIN_CHUNKS = 0
    ws = Workspace.discover(with_config=True)
    flt = PoolFilter(ws)
    expected = None
    totals = {"normal": 0.0, "verified": 0.0}
    for rep in range(args.reps):
        for kind in ("normal", "verified"):
            with open(args.path, "rb", buffering=0) as f:
                w0, c0 = time.perf_counter(), _cpu()
                if kind == "normal":
                    ptr = ws.pool.writer().add_stream(f).encode()
                else:
                    before = flt._racy.verified if flt._racy is not None else 0
                    ptr = flt.clean(args.path, f)
                    assert flt._racy is not None and flt._racy.verified == before + 1, "not verified"
                w1, c1 = time.perf_counter(), _cpu()
            expected = expected or ptr
            assert ptr == expected, "the two cleans disagree"
            print(f"rep {rep} {kind:9s} wall {w1 - w0:6.3f} s  cpu {c1 - c0:6.3f} s", flush=True)
            if rep:  # the first repetition pays the imports and the pool's first lookups
                totals[kind] += c1 - c0
    flt.close()
    if args.reps > 1:
        print(f"{args.path}: {os.path.getsize(args.path)} bytes; CPU verified/normal after the first "
              f"repetition: {totals['verified'] / totals['normal']:.2f}")


if __name__ == "__main__":
    main()
