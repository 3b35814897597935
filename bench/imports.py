#!/usr/bin/env python3
"""get / import / update (issue 11 item 4): what fetching "only what is needed" costs and saves.

A source repository holds N tracked files of 2 KB under data/ (pushed to a folder data remote) and
M MB of plain git blobs elsewhere (other/), so a fetch that ignores the filter pays for them. Steps,
each timed (median of --reps, on fresh destinations):

  import_filter     git mlv import SRC data   (source allows filters: trees + data/'s pointers)
  import_nofilter   the same from a copy that does not allow filters (every blob of the commit)
  update_noop       git mlv update, the source unchanged (one ls-remote, nothing fetched)
  update_one        git mlv update after the source changed one file (one file written)
  status            git mlv status with the import recorded (one ls-remote)

    .venv/bin/python bench/imports.py --files 2000 --plain-mb 50 --reps 3

Work folder: bench/work/imports (removed at the end unless --keep); the live working files are
measured (not a snapshot).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MLV = os.path.join(os.path.dirname(sys.executable), "git-mlv")
ENV: dict[str, str] = {}


def sh(args: list[str], cwd: str) -> str:
    """Run a command; its stdout (an error with its stderr when it fails)."""
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=ENV or None)
    if p.returncode:
        raise SystemExit(f"{' '.join(args)}: {p.stderr}")
    return p.stdout


def timed(args: list[str], cwd: str) -> float:
    """Wall seconds of one command."""
    t = time.perf_counter()
    sh(args, cwd)
    return time.perf_counter() - t


def make_source(root: str, files: int, plain_mb: int) -> str:
    """The source repository, pushed to its folder data remote."""
    src = os.path.join(root, "src")
    os.makedirs(src)
    sh(["git", "init", "-q"], src)
    sh([MLV, "track", "data/**"], src)
    sh([MLV, "remote", "add", "store", os.path.join(root, "store"), "--default"], src)
    rng = random.Random(0)
    for i in range(files):
        d = os.path.join(src, "data", f"d{i % 50:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:06d}.bin"), "wb") as f:
            f.write(rng.randbytes(2048))
    os.makedirs(os.path.join(src, "other"))
    for i in range(plain_mb):
        with open(os.path.join(src, "other", f"p{i:03d}.dat"), "wb") as f:
            f.write(rng.randbytes(1 << 20))
    sh(["git", "add", "-A"], src)
    sh(["git", "commit", "-q", "-m", "v1"], src)
    sh([MLV, "push"], src)
    return src


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--plain-mb", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    root = os.path.join(HERE, "work", "imports")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    sys.path.insert(0, HERE)
    import scale_common as sc  # a HOME of its own with `git mlv install --global` (bench/scale_common.py)

    env, code = sc.make_env(os.path.join(root, "home"), ["mlv"], live=True)
    ENV.update(env)
    print(f"git-mlv {code}")
    src = make_source(root, a.files, a.plain_mb)
    nofilter = os.path.join(root, "src-nofilter")
    sh(["git", "clone", "-q", "--no-checkout", src, nofilter], root)
    sh(["git", "config", "uploadpack.allowFilter", "true"], src)
    sh(["git", "config", "uploadpack.allowFilter", "false"], nofilter)
    steps = ("import_filter", "import_nofilter", "update_noop", "update_one", "status")
    times: dict[str, list[float]] = {k: [] for k in steps}
    for rep in range(a.reps):
        for kind, url in (("import_filter", src), ("import_nofilter", nofilter)):
            dst = os.path.join(root, f"dst-{kind}-{rep}")
            os.makedirs(dst)
            sh(["git", "init", "-q"], dst)
            times[kind].append(timed([MLV, "import", url, "data"], dst))
            sh(["git", "commit", "-q", "-m", "import"], dst)
        dst = os.path.join(root, f"dst-import_filter-{rep}")
        times["update_noop"].append(timed([MLV, "update"], dst))
        times["status"].append(timed([MLV, "status"], dst))
        with open(os.path.join(src, "data", "d00", "f000000.bin"), "wb") as f:
            f.write(random.Random(100 + rep).randbytes(2048))
        sh(["git", "commit", "-q", "-am", f"change {rep}"], src)
        sh([MLV, "push"], src)
        t = time.perf_counter()
        out = sh([MLV, "update"], dst)
        times["update_one"].append(time.perf_counter() - t)
        assert "(1 written" in out, out
    print(f"files={a.files} plain_mb={a.plain_mb} reps={a.reps}")
    for k, v in times.items():
        print(f"{k:16s} median {statistics.median(v):6.2f} s   all {', '.join(f'{x:.2f}' for x in v)}")
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
