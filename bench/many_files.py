#!/usr/bin/env python3
"""Many small files (issue 9 item 6): N files of 1-4 KB in 100 folders, git-mlv against DVC and
git-lfs (and plain git where it has the step), one run, the same bytes for every tool.

Steps (interleaved: every tool does a step before the next step starts):

  add_commit    git add -A + commit (DVC: dvc add data + git add/commit; git-lfs: git add + commit)
  push          git push (git-mlv's pre-push hook uploads the data; DVC: git push + dvc push)
  status_1/2    git mlv status / dvc status, twice, everything pushed (git mlv status also
                compares with the data remote, from its cached indexes; dvc status does not)
  clone_data    git clone + data (git-mlv: the filter fetches during the checkout; DVC: + dvc pull),
                checked byte for byte against the source afterwards
  checkout_old  git checkout of a commit that changes one file (DVC: + dvc checkout), and back
  checkout_back
  gc            git mlv gc / dvc gc -w -f

plus peak RSS (GNU time's %M: the largest single process of each step), the number of packs in the
pool and in the clone's pool, and the number of indexes and packs on the data remote.

    .venv/bin/python bench/many_files.py --files 2000            # a couple of minutes
    .venv/bin/python bench/many_files.py --files 50000
    .venv/bin/python bench/many_files.py --files 600000 --tools dvc,mlv   # ~1.7 GB

Results: bench/results/many-files-<N>.md (and .json, gitignored). Work folders: bench/work/many-<N>
(removed at the end unless --keep). Remotes: a loop-mounted ext4 image (bench/run.py), unless
--same-fs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

import numpy as np
import scale_common as sc

TOOLS = ["git", "lfs", "dvc", "mlv"]
CHANGED = "data/d000/f0000000.bin"  # the file the second commit changes

# per tool: shell commands; {origin} {data} {clone} are filled in. None: the tool skips the step.
SPECS: dict[str, dict[str, str | None]] = {
    "mlv": {
        "init": "git init -q && git mlv track 'data/**' >/dev/null && "
                "git mlv remote add store {data} --default >/dev/null && git add -A && "
                "git commit -q -m init && git init -q --bare {origin} && git remote add origin {origin}",
        "add_commit": "git add -A && git commit -q -m v1",
        "commit_one": "git add -A && git commit -q -m v2",
        "status": "git mlv status",
        "push": "git push -q origin main",
        "clone_data": "git clone -q --no-local {origin} {clone}",
        "checkout_old": "git checkout -q HEAD~1",
        "checkout_back": "git checkout -q main",
        "gc": "git mlv gc",
    },
    "dvc": {
        "init": "git init -q && dvc init -q && dvc remote add -q -d storage {data} && git add -A && "
                "git commit -q -m init && git init -q --bare {origin} && git remote add origin {origin}",
        "add_commit": "dvc add -q data && git add data.dvc .gitignore && git commit -q -m v1",
        "commit_one": "dvc add -q data && git add data.dvc && git commit -q -m v2",
        "status": "dvc status",
        "push": "git push -q origin main && dvc push -q",
        "clone_data": "git clone -q --no-local {origin} {clone} && cd {clone} && dvc pull -q",
        "checkout_old": "git checkout -q HEAD~1 && dvc checkout -q",
        "checkout_back": "git checkout -q main && dvc checkout -q",
        "gc": "dvc gc -w -f -q",
    },
    "lfs": {
        "init": "git init -q && git lfs install --local >/dev/null && git lfs track 'data/**' >/dev/null && "
                "git add .gitattributes && git commit -q -m init",
        "add_commit": "git add -A && git commit -q -m v1",
        "commit_one": "git add -A && git commit -q -m v2",
        "checkout_old": "git checkout -q HEAD~1",
        "checkout_back": "git checkout -q main",
    },
    "git": {
        "init": "git init -q && git commit -q --allow-empty -m init",
        "add_commit": "git add -A && git commit -q -m v1",
        "commit_one": "git add -A && git commit -q -m v2",
        "checkout_old": "git checkout -q HEAD~1",
        "checkout_back": "git checkout -q main",
    },
}
STEPS = ["add_commit", "push", "status_1", "status_2", "clone_data", "checkout_old", "checkout_back", "gc"]


STEPS = ("add_commit", "push", "status", "clone_data", "checkout", "gc")


def generate(root: str, n: int, seed: int = 7) -> int:
    """N files of 1-4 KB (incompressible) in data/d000..d099; the same bytes for the same seed.
    Returns the bytes written. Generated in blocks, so memory stays flat at any N."""
    rng = np.random.default_rng(seed)
    for d in range(100):
        os.makedirs(os.path.join(root, "data", f"d{d:03d}"), exist_ok=True)
    total = 0
    for start in range(0, n, 10_000):
        sizes = rng.integers(1024, 4097, min(10_000, n - start))
        blob = rng.bytes(int(sizes.sum()))
        pos = 0
        for k, size in enumerate(sizes.tolist()):
            i = start + k
            with open(os.path.join(root, "data", f"d{i % 100:03d}", f"f{i:07d}.bin"), "wb") as f:
                f.write(blob[pos:pos + size])
            pos += size
        total += pos
    return total


def change_one(root: str) -> None:
    """The second commit's change: one file rewritten (same bytes for every tool)."""
    with open(os.path.join(root, CHANGED), "wb") as f:
        f.write(np.random.default_rng(99).bytes(3000))


def main() -> int:
    """Set up, run every step for every tool, write the report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"subset of {','.join(TOOLS)}")
    ap.add_argument("--same-fs", action="store_true", help="remotes on the repos' filesystem")
    ap.add_argument("--keep", action="store_true", help="keep bench/work/many-<N> afterwards")
    ap.add_argument("--live", action="store_true", help="run the working files, not a snapshot of HEAD")
    ap.add_argument("--render", metavar="JSON", help="only rewrite the report of an earlier run")
    ap.add_argument("--steps", default=",".join(STEPS),
                    help=f"timed steps, a subset of {','.join(STEPS)} (add_commit and push always run)")
    a = ap.parse_args()
    steps = set(a.steps.split(",")) | {"add_commit", "push"}
    if not steps <= set(STEPS):
        ap.error(f"--steps: unknown step(s) {', '.join(sorted(steps - set(STEPS)))}")
    if a.render:
        bench = sc.load(a.render)
        markdown = report(bench, bench.meta.get("argv", sys.argv))
        bench.save(markdown)
        print(markdown)
        return 0
    tools = [t for t in TOOLS if t in a.tools.split(",")]
    started = time.time()
    work = sc.fresh_dir(os.path.join(sc.WORK, f"many-{a.files}"))
    env, code = sc.make_env(os.path.join(work, "home"), tools, a.live)
    bench = sc.Bench(f"many-files-{a.files}", env, code)
    bench.meta.update(started=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      files=a.files, tools=tools, load_start=sc.loadavg(), argv=sys.argv,
                      versions=sc.versions(env, tools))
    # remotes: DVC keeps one file per object (inodes), git-mlv packs; ~3x the data for both
    size_gib = max(3, int(3 * a.files * 2600 / 2**30) + 2)
    try:  # whatever happens, the report says what was measured and the work folder goes
        with sc.remotes_folder(bench, work, a.same_fs, size_gib, f"remote-many-{a.files}",
                               bytes_per_inode=4096) as remotes:
            run_steps(bench, tools, work, remotes, a.files, steps)
            if "mlv" in tools:
                data = os.path.join(remotes, "mlv", "data")
                bench.count("mlv", "remote indexes", sc.count_files(data, ".idx"))
                bench.count("mlv", "remote packs", sc.count_files(data, ".pack"))
            if "dvc" in tools:
                bench.count("dvc", "remote files", sc.count_files(os.path.join(remotes, "dvc", "data"), ""))
    finally:
        sc.finish(bench, lambda: report(bench, sys.argv), work, a.keep, started)
    return 0


def run_steps(bench: sc.Bench, tools: list[str], work: str, remotes: str, n: int,
              steps: set[str] = frozenset(STEPS)) -> None:
    """Every step of ``steps``, interleaved across tools."""
    dirs = {}
    for t in tools:
        repo = sc.fresh_dir(os.path.join(work, t, "repo"))
        fill = {"origin": os.path.join(remotes, t, "origin.git"), "data": os.path.join(remotes, t, "data"),
                "clone": os.path.join(work, t, "clone")}
        os.makedirs(os.path.join(remotes, t), exist_ok=True)
        dirs[t] = (repo, fill)
        bench.sh(t, None, SPECS[t]["init"].format(**fill), repo)
        sc.log(f"{t}: writing {n} files")
        size = generate(repo, n)
    bench.meta["bytes"] = size
    source = sc.tree_digest(dirs[tools[0]][0], "data")

    def step(name: str, key: str | None = None) -> None:
        if (name.split("_")[0] if name.startswith(("status", "checkout")) else name) not in steps:
            return
        for t in tools:
            cmd = SPECS[t].get(key or name)
            if cmd:
                repo, fill = dirs[t]
                bench.sh(t, name, cmd.format(**fill), repo, check=False)  # a failure is reported

    step("add_commit")
    if "mlv" in tools:
        repo = dirs["mlv"][0]
        bench.count("mlv", "packs after add", sc.pool_packs(repo))
    step("push")
    step("status_1", "status")
    step("status_2", "status")
    step("clone_data")
    for t in tools:
        if SPECS[t].get("clone_data") and "clone_data" in steps:
            clone = dirs[t][1]["clone"]
            ok = sc.tree_digest(clone, "data") == source
            bench.count(t, "clone bytes equal", int(ok))
            if not ok:
                sc.log(f"{t}: the clone's data differs from the source!")
            if t == "mlv":
                bench.count(t, "packs in the clone", sc.pool_packs(clone))
    if "checkout" not in steps:
        step("gc")
        return
    for t in tools:  # the commit that changes one file, then settle the index (untimed)
        repo, _ = dirs[t]
        change_one(repo)
        bench.sh(t, None, SPECS[t]["commit_one"], repo)
        bench.sh(t, None, "git status --porcelain >/dev/null", repo)
    step("checkout_old")
    step("checkout_back")
    step("gc")


def report(bench: sc.Bench, argv: list[str]) -> str:
    """The markdown report."""
    tools = bench.meta["tools"]
    assert isinstance(tools, list)
    peers = [p for p in ("dvc", "lfs", "git") if p in tools]
    lines = sc.header(bench, f"Many small files: {bench.meta['files']:,} files of 1-4 KB "
                             f"({int(bench.meta.get('bytes', 0)) / 1e6:.0f} MB) in 100 folders", argv)
    head = ["step, s", *tools] + [f"mlv/{p}" for p in peers if "mlv" in tools]
    lines += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for s in STEPS:
        cells = [bench.wall(t, s) for t in tools]
        if all(c is None for c in cells) and not any(bench.failed(t, s) for t in tools):
            continue
        row = [s] + [sc.fmt("failed" if bench.failed(t, s) else c) for t, c in zip(tools, cells)]
        if "mlv" in tools:
            row += [sc.ratio(bench.wall("mlv", s), bench.wall(p, s)) for p in peers]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Ratios below 1: git-mlv is faster. Peak RSS, MB (the largest single process of the step):",
              "",
              "| step | " + " | ".join(tools) + " |", "|---" * (len(tools) + 1) + "|"]
    for s in STEPS:
        cells = [bench.peak(t, [s]) for t in tools]
        if any(c is not None for c in cells):
            lines.append(f"| {s} | " + " | ".join(sc.fmt(c) for c in cells) + " |")
    lines += ["", "| count | " + " | ".join(tools) + " |", "|---" * (len(tools) + 1) + "|"]
    whats = sorted({w for t in tools for w in bench.counts.get(t, {})})
    for w in whats:
        lines.append(f"| {w} | " + " | ".join(sc.fmt(bench.counts.get(t, {}).get(w)) for t in tools) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
