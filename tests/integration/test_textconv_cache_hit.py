"""`git log -p` over a table's history starts `git mlv textconv` once per side per commit, and a
summary read back from the summary cache must cost little more than the interpreter: paging through
200 commits of a CSV waited ~10 s of CPU on textconv alone. A hit imported dataclasses (and with it
the stdlib's inspect: ~9 ms of CPU), OpenSSL's sha256 (~4 ms to load) and the atomic-write helpers,
none of which a hit needs (docs/inspect.md, ops/summarycache.py).

git runs textconv here with PYTHONPROFILEIMPORTTIME set (only textconv: the filter would list its
own imports), so that each textconv process lists every module it imported on git's stderr.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import commit_all, git, out, write

# modules a cache hit must not import: the readers, and what only a miss or a parse needs
HEAVY = ("dataclasses", "_hashlib", "pyarrow", "numpy", "git_mlv.inspect.tables", "git_mlv.core.fsutil",
         "git_mlv.inspect.fallback")


def _log_p(repo: Path, profile: bool) -> tuple[str, set[str]]:
    """`git log -p` of data/t.csv (its text) and the modules its textconv processes imported."""
    textconv = out(git("config", "diff.mlv.textconv", cwd=repo)).strip()
    args = ["log", "-p", "--format=%s", "--", "data/t.csv"]
    if profile:
        args = ["-c", f"diff.mlv.textconv=PYTHONPROFILEIMPORTTIME=1 {textconv}", *args]
    res = git(*args, cwd=repo)
    mods = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \| +(\S+)$", res.stderr.decode(), re.M))
    return res.stdout.decode(), mods


def test_a_summary_read_back_from_the_cache_imports_no_reader(repo: Path) -> None:
    rows = [f"{i},{i * 0.5},{'abc'[i % 3]}\n" for i in range(200)]
    for n in range(3):
        rows[n] = f"{n},{n + 100.25},z\n"
        write(repo / "data" / "t.csv", ("id,x,s\n" + "".join(rows)).encode())
        commit_all(repo, f"v{n}")
    first, mods = _log_p(repo, profile=True)  # parsed: the readers, in textconv's forked child
    assert "git_mlv.ops.summarycache" in mods, sorted(mods)  # the profile is textconv's own
    again, mods = _log_p(repo, profile=True)  # each side read back from the cache
    assert again == first
    assert "git_mlv.ops.summarycache" in mods
    assert sorted(m for m in HEAVY if m in mods) == [], sorted(mods)
    assert again == _log_p(repo, profile=False)[0]
    assert again.startswith(V2), again  # the newest commit first, byte for byte
    assert again.count("diff --git") == 3 and again.count("\n+rows 200\n") == 1, again


V2 = """v2

diff --git a/data/t.csv b/data/t.csv
index d3d27f0..d53f963 100644
--- a/data/t.csv
+++ b/data/t.csv
@@ -1,5 +1,5 @@
 format csv
-size 2083 (2.0 KiB)
+size 2086 (2.0 KiB)
 rows 200
 columns 3
 column id int64
@@ -10,12 +10,12 @@ id min 0
 id max 199
 id mean 99.5
 x nulls 0
-x min 1.0
-x max 101.25
-x mean 50.755
+x min 1.5
+x max 102.25
+x mean 51.26125
 s nulls 0
 s distinct 4
 s top "a" 66
 s top "b" 66
-s top "c" 66
-sha256 affc0183c12417333470e952af85d9108bb1b85ba0de9f8a2e2157979225f378
+s top "c" 65
+sha256 deac4d09333dbcb219fdf5d6979c51de7af03aa45d419e9613e9663ac7ae2094
"""
