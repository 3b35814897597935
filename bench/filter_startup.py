#!/usr/bin/env python3
"""The filter's start-up for a one-file checkout (issue 9): start `git-mlv filter-process`, speak
protocol v2 to it as git does (handshake, one smudge, close), time each phase, and take its CPU
(the filter and the git processes it waits for) from the kernel's accounting.

    .venv/bin/python bench/filter_startup.py --build /tmp/fs --files 50000   # once: the repository
    .venv/bin/python bench/filter_startup.py --repo /tmp/fs --runs 10 [--exe PATH/git-mlv]

The repository: N files of 1-4 KB in 100 folders, tracked by git-mlv, committed (the shape of
issue 9's many-files workload). For the import list of one run, add PYTHONPROFILEIMPORTTIME=1 and
--stderr FILE. Unset PYTHONDONTWRITEBYTECODE first: start-up is measured with warm .pyc files.
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
from typing import BinaryIO

PATH = "data/d000/f0000001.bin"


def _pkt(data: bytes) -> bytes:
    return b"%04x" % (len(data) + 4) + data


def _text(line: str) -> bytes:
    return _pkt(line.encode() + b"\n")


def _until_flush(f: BinaryIO) -> list[bytes]:
    out = []
    while True:
        n = int(f.read(4), 16)
        if n == 0:
            return out
        out.append(f.read(n - 4))


def build(root: str, files: int) -> None:
    """A repository of ``files`` files of 1-4 KB in 100 folders, tracked and committed."""
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    rng = random.Random(1)
    per = max(1, files // 100)
    for i in range(files):
        d = os.path.join(root, "data", f"d{i // per:03d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:07d}.bin"), "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 4096)))
    for cmd in (["git", "init", "-q"], ["git", "mlv", "track", "data/**"], ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "v1"]):
        subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.DEVNULL)


def once(exe: str, repo: str, blob: bytes, stderr: BinaryIO | None) -> tuple[float, float, float, float]:
    """(handshake done, smudge answered, exited: seconds from start; CPU seconds)."""
    t = time.perf_counter()
    p = subprocess.Popen([exe, "filter-process"], cwd=repo, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=stderr or subprocess.DEVNULL)
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write(_text("git-filter-client") + _text("version=2") + b"0000" + _text("capability=clean")
                  + _text("capability=smudge") + _text("capability=delay") + b"0000")
    p.stdin.flush()
    _until_flush(p.stdout)
    _until_flush(p.stdout)
    hand = time.perf_counter() - t
    p.stdin.write(_text("command=smudge") + _text(f"pathname={PATH}") + b"0000" + _pkt(blob) + b"0000")
    p.stdin.flush()
    assert _until_flush(p.stdout) == [b"status=success\n"]
    _until_flush(p.stdout)
    _until_flush(p.stdout)
    answered = time.perf_counter() - t
    p.stdin.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return hand, answered, time.perf_counter() - t, ru.ru_utime + ru.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", metavar="DIR", help="make the repository in DIR, then stop")
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--repo", metavar="DIR")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--exe", default=shutil.which("git-mlv") or "git-mlv")
    ap.add_argument("--stderr", metavar="FILE", help="append the filter's stderr here")
    a = ap.parse_args()
    if a.build:
        build(a.build, a.files)
        return 0
    if not a.repo:
        ap.error("--repo or --build is needed")
    blob = subprocess.run(["git", "cat-file", "-p", f"HEAD:{PATH}"], cwd=a.repo, check=True,
                          capture_output=True).stdout
    err = open(a.stderr, "ab") if a.stderr else None  # noqa: SIM115
    rows = [once(a.exe, a.repo, blob, err) for _ in range(a.runs + 1)][1:]  # the first warms caches
    for i, name in enumerate(("handshake", "smudge answered", "exited", "CPU (filter + its git)")):
        v = [r[i] * 1000 for r in rows]
        print(f"{name:24s} median {statistics.median(v):7.1f} ms   min {min(v):7.1f}   max {max(v):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
