#!/usr/bin/env python3
"""In-process git reads (pygit2/libgit2) against `git` subprocesses, on the reads git-mlv does.

Issue 9 item 5 asked where pygit2 pays. This builds a synthetic repository with `git fast-import`
(BASE pointer files in 100 folders, then COMMITS commits that each add 3 pointers, change 2, and
rewrite metrics.json and params.yaml; a tag every 100 commits) and times, each in a fresh process
as a command would run it (interpreter start and imports included), the median of REPS runs:

  - `import pygit2` alone, against an empty interpreter;
  - every pointer in HEAD's tree (`git mlv ls-files REV`): git-mlv's walk (ls-tree + cat-file),
    with an empty pointer cache and a warm one, against a pygit2 tree walk + odb reads;
  - every pointer reachable from any ref (gc, `push --all`): rev-list + cat-file against a pygit2
    commit walk;
  - metrics.json and params.yaml at every commit (`metrics show` over many revisions): one
    `cat-file --batch` against pygit2 lookups.

pygit2 is not a dependency of git-mlv (this measurement is why): `pip install pygit2` in the venv
that runs this script. Results go to stdout as a markdown table.

    .venv/bin/python bench/git_reads.py --base 50000 --commits 1000
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = "https://git-mlv.dev/spec/v1"


def make_repo(path: str, base: int, commits: int) -> None:
    """The synthetic history, in one `git fast-import` stream (seconds, no filter involved)."""
    subprocess.run(["git", "init", "-q", path], check=True)

    def ptr(i: int, gen: int) -> bytes:
        h = hashlib.sha256(f"{i}-{gen}".encode()).hexdigest()
        return f"version {VERSION}\noid sha256:{h}\nsize {1000 + i}\n".encode()

    out: list[bytes] = []
    nxt = base
    for c in range(commits + 1):
        msg = b"c%d" % c
        out.append(b"commit refs/heads/main\ncommitter B <b@b> %d +0000\ndata %d\n%s\n"
                   % (1_700_000_000 + c, len(msg), msg))
        files: list[tuple[bytes, bytes]] = []
        if c == 0:
            files = [(b"data/d%03d/f%07d.bin" % (i % 100, i), ptr(i, 0)) for i in range(base)]
            files.append((b".gitattributes", b"data/** filter=mlv diff=mlv merge=mlv -text\n"))
        else:
            for _ in range(3):
                files.append((b"data/d%03d/f%07d.bin" % (nxt % 100, nxt), ptr(nxt, 0)))
                nxt += 1
            for k in range(2):
                i = (c * 7919 + k * 104729) % base
                files.append((b"data/d%03d/f%07d.bin" % (i % 100, i), ptr(i, c)))
            files.append((b"metrics.json", b'{"acc": %f, "loss": %f}\n' % (c / commits, 1 - c / commits)))
            files.append((b"params.yaml", b"lr: %d\nepochs: 10\n" % c))
        for name, data in files:
            out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (name, len(data), data))
        if c % 100 == 0:
            out.append(b"reset refs/tags/v%d\nfrom refs/heads/main\n\n" % c)
    subprocess.run(["git", "fast-import", "--quiet"], input=b"".join(out), cwd=path, check=True)


PRELUDE = f"import sys; sys.path.insert(0, {ROOT!r})\n"
CASES = {
    "empty interpreter": "pass",
    "import pygit2": "import pygit2",
    "ls-files REV, git (cold cache)": PRELUDE + """
from git_mlv.gitio.git import Repo
from git_mlv.gitio import walk
n = sum(1 for _ in walk.iter_pointers(Repo.discover(), ["main"]))
""",
    "ls-files REV, git (warm cache)": "@same",
    "ls-files REV, pygit2": PRELUDE + """
import pygit2
from git_mlv.core.pointer import Pointer
r = pygit2.Repository(".")
odb = r.odb
stack = [("", r.revparse_single("main").peel(pygit2.Tree))]
cand = {}
while stack:
    pre, tree = stack.pop()
    for e in tree:
        if e.type_str == "tree":
            stack.append((pre + e.name + "/", r[e.id]))
        elif e.type_str == "blob":
            cand.setdefault(e.id, []).append(pre + e.name)
n = 0
for b, paths in cand.items():
    if odb.read_header(b)[1] < 1024 and Pointer.try_parse(odb.read(b)[1]):
        n += len(paths)
""",
    "reachable pointers, git (cold cache)": PRELUDE + """
from git_mlv.gitio.git import Repo
from git_mlv.gitio import walk
n = len(walk.reachable_pointers(Repo.discover(), 0))
""",
    "reachable pointers, git (warm cache)": "@same",
    "reachable pointers, pygit2": PRELUDE + """
import pygit2
from git_mlv.core.pointer import Pointer
r = pygit2.Repository(".")
odb = r.odb
walker = r.walk(None)
for name in r.references:
    walker.push(r.references[name].peel(pygit2.Commit).id)
seen, blobs, found = set(), set(), set()
for c in walker:
    stack = [c.tree_id]
    while stack:
        tid = stack.pop()
        if tid in seen:
            continue
        seen.add(tid)
        for e in r[tid]:
            if e.type_str == "tree":
                stack.append(e.id)
            elif e.type_str == "blob":
                blobs.add(e.id)
for b in blobs:
    if odb.read_header(b)[1] < 1024:
        p = Pointer.try_parse(odb.read(b)[1])
        if p:
            found.add(p.oid)
""",
    "metrics+params at every commit, git": PRELUDE + """
from git_mlv.gitio.git import Repo
from git_mlv.pipeline.revisions import read_blobs
repo = Repo.discover()
revs = repo.git_text("rev-list", "main").split()
read_blobs(repo, [(r, p) for r in revs for p in ("metrics.json", "params.yaml")])
""",
    "metrics+params at every commit, pygit2": PRELUDE + """
import subprocess, pygit2
r = pygit2.Repository(".")
revs = subprocess.run(["git", "rev-list", "main"], capture_output=True, text=True).stdout.split()
out = {}
for rev in revs:
    tree = r.revparse_single(rev).peel(pygit2.Tree)
    for p in ("metrics.json", "params.yaml"):
        out[rev, p] = r[tree[p].id].data if p in tree else None
""",
}


def run_case(code: str, cwd: str, reps: int, cold: bool) -> float:
    """Median wall seconds of a fresh interpreter running ``code``."""
    times = []
    for _ in range(reps):
        if cold:
            shutil.rmtree(os.path.join(cwd, ".git", "mlv", "pointer-cache"), ignore_errors=True)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    """Build the repository, time every case, print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=int, default=50000)
    ap.add_argument("--commits", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    try:
        import pygit2  # noqa: F401
    except ImportError:
        sys.exit("bench/git_reads.py: pygit2 is not installed here (pip install pygit2)")
    with tempfile.TemporaryDirectory(prefix="mlv-gitreads-") as tmp:
        repo = os.path.join(tmp, "repo")
        make_repo(repo, a.base, a.commits)
        print(f"| case ({a.base} files, {a.commits} commits) | median wall, s |\n|---|---|")
        previous = ""
        for name, code in CASES.items():
            code = previous if code == "@same" else code
            previous = code
            secs = run_case(code, repo, a.reps, cold="cold" in name)
            print(f"| {name} | {secs:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
