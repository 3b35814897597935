#!/usr/bin/env python3
"""Why `migrate import` rewrites history with fast-export | fast-import rather than pygit2.

A long history (1,000 commits over 5,000 files in 50 folders, 3 files changed a commit) is rewritten
so that every commit gets a root .gitattributes, no blob converted: the cost of the plumbing alone.

  A: `git mlv migrate import --include='*.nomatch' --everything` (fast-export --no-data, our
     per-commit edit, fast-import; refs moved in one transaction; index synced);
  B: a pygit2 prototype of the same rewrite at its cheapest: a topological walk, only the root tree
     rebuilt per commit (TreeBuilder), tree rewrites cached by tree id, commits created in order.

Runs alternate A B A B on fresh copies; wall time and peak RSS (GNU time). The other half of the
choice needs no benchmark: libgit2 reads a blob whole (no streaming read), so pygit2 would hold a
400 MB model in memory where cat-file streams it.

  .venv/bin/python bench/migrate_plumbing.py [--reps 3] [--commits 1000] [--files 5000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PYGIT2_REWRITE = r"""
import sys, pygit2
repo = pygit2.Repository(sys.argv[1])
attrs = repo.create_blob(b"*.nomatch filter=mlv diff=mlv merge=mlv -text\n")
trees, commits = {}, {}
order = pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE
for c in repo.walk(repo.head.target, order):
    new_tree = trees.get(c.tree_id)
    if new_tree is None:
        tb = repo.TreeBuilder(c.tree)
        tb.insert(".gitattributes", attrs, pygit2.enums.FileMode.BLOB)
        new_tree = trees[c.tree_id] = tb.write()
    commits[c.id] = repo.create_commit(None, c.author, c.committer, c.message, new_tree,
                                       [commits[p] for p in c.parent_ids])
repo.references["refs/heads/main"].set_target(commits[repo.head.target])
"""


def make_history(path: str, commits: int, files: int) -> None:
    """A linear history written with fast-import (fast to make)."""
    subprocess.run(["git", "init", "-q", "-b", "main", path], check=True)
    r = random.Random(1)
    parts = []
    mark = 0
    prev = 0
    for c in range(commits):
        changes = []
        picks = range(files) if c == 0 else [r.randrange(files) for _ in range(3)]
        for i in picks:
            mark += 1
            data = b"v%d %d\n" % (c, i)
            parts.append(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
            changes.append(b"M 100644 :%d d%d/f%d.txt\n" % (mark, i % 50, i))
        mark += 1
        parts.append(b"commit refs/heads/main\nmark :%d\ncommitter a <a@b> %d +0000\ndata 3\nc%d\n"
                     % (mark, 1700000000 + c, c % 10))
        if prev:
            parts.append(b"from :%d\n" % prev)
        parts += changes + [b"\n"]
        prev = mark
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(parts), check=True)
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=path, check=True)


def timed(cmd: list[str], cwd: str) -> tuple[float, float]:
    """(wall s, peak RSS MB) of a command."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], cwd=cwd, capture_output=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        sys.exit(proc.stderr.decode()[-2000:])
    return wall, int(proc.stderr.decode().split()[-1]) / 1024


def main() -> int:
    """Make the history, then time A and B in turn."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--commits", type=int, default=1000)
    ap.add_argument("--files", type=int, default=5000)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mlv-plumbing-")
    try:
        template = os.path.join(work, "template")
        make_history(template, a.commits, a.files)
        ratios = []
        for rep in range(a.reps):
            row = {}
            for name, cmd in (("A fast-export|fast-import", ["git", "mlv", "migrate", "import",
                                                             "--include=*.nomatch", "--everything", "-q"]),
                              ("B pygit2", [sys.executable, "-c", PYGIT2_REWRITE, "."])):
                repo = os.path.join(work, "run")
                shutil.rmtree(repo, ignore_errors=True)
                shutil.copytree(template, repo, symlinks=True)
                wall, rss = timed(cmd, repo)
                row[name] = wall
                print(f"rep {rep + 1}  {name:28s} {wall:6.2f} s  {rss:5.0f} MB")
            ratios.append(row["A fast-export|fast-import"] / row["B pygit2"])
        print(f"A/B per rep: {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
