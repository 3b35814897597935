#!/usr/bin/env python3
"""A long history of small commits (issue 9 item 6): C commits that each add 3 files and change 2
(2-40 KB each) through their own `git add`, each followed by a `git push` whose pre-push hook
uploads the data to a folder remote. Then:

  - the number of packs in the pool and of indexes and packs on the data remote;
  - whether a commit costs the same at the end as at the start (median add / commit / push time of
    the first and of the last tenth of the commits);
  - walks over the whole history: `git mlv push --all` (nothing left to send), `git mlv gc
    --dry-run`, `git mlv ls-files` of an old revision, `git mlv status`;
  - `git clone` + data of that history, against the clone of the same final tree committed at once
    (a second repository, one commit, its own remote): the ratio is the cost of the history. Each
    clone is also timed with git-mlv's filter and hooks off (git's own share, not ours to fix). The
    four clones run interleaved, three times each, and the report gives medians.

Pushes merge the data remote's small packs (docs/remotes.md "Pack merging"); `--no-merge` sets
`mlv.remoteMergePacks false` for the whole run (the figures before merging existed).

    .venv/bin/python bench/long_history.py --commits 50      # a couple of minutes
    .venv/bin/python bench/long_history.py --commits 1000

Results: bench/results/long-history-<C>[-no-merge].md (and .json, gitignored). Work folders:
bench/work/history-<C>[-no-merge] (removed at the end unless --keep). Remotes: a loop-mounted ext4 image
(bench/run.py), unless --same-fs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import time

import numpy as np
import scale_common as sc

BASE_FILES = 200
CLONE_REPS = 3  # each clone of the history and of the flat tree, interleaved; medians
# git alone: the filter and hooks off, pointers checked out as they are
GIT_ONLY = ("git -c filter.mlv.process= -c filter.mlv.smudge=cat -c filter.mlv.required=false "
            "-c core.hooksPath=/dev/null")


def write_file(path: str, rng: np.random.Generator) -> None:
    """A file of 2-40 KB of incompressible bytes."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rng.bytes(int(rng.integers(2048, 40 * 1024))))


def main() -> int:
    """Build the history, measure, write the report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commits", type=int, default=1000)
    ap.add_argument("--same-fs", action="store_true", help="remotes on the repos' filesystem")
    ap.add_argument("--keep", action="store_true", help="keep bench/work/history-<C> afterwards")
    ap.add_argument("--live", action="store_true", help="run the working files, not a snapshot of HEAD")
    ap.add_argument("--no-merge", action="store_true", help="pushes do not merge remote packs")
    ap.add_argument("--reuse", action="store_true",
                    help="only the clones, against the history a `--keep --same-fs` run left (its "
                         "origins are gc'ed by the second round: the first round is then not raw)")
    ap.add_argument("--render", metavar="JSON", help="only rewrite the report of an earlier run")
    a = ap.parse_args()
    if a.render:
        bench = sc.load(a.render)
        markdown = report(bench, bench.meta.get("argv", sys.argv))
        bench.save(markdown)
        print(markdown)
        return 0
    started = time.time()
    name = f"long-history-{a.commits}{'-no-merge' if a.no_merge else ''}"
    if a.reuse:
        return reuse(a, name, started)
    work = sc.fresh_dir(os.path.join(sc.WORK, name[5:]))
    env, code = sc.make_env(os.path.join(work, "home"), ["mlv"], a.live)
    bench = sc.Bench(name, env, code)
    if a.no_merge:
        bench.sh("mlv", None, "git config --global mlv.remoteMergePacks false", work)
    bench.meta.update(merge=not a.no_merge,
                      started=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      commits=a.commits, tools=["mlv"], load_start=sc.loadavg(), argv=sys.argv,
                      versions=sc.versions(env, ["mlv"]))
    size_gib = max(3, int(2 * (BASE_FILES + 5 * a.commits) * 22_000 / 2**30) + 2)
    try:  # whatever happens, the report says what was measured and the work folder goes
        with sc.remotes_folder(bench, work, a.same_fs, size_gib, f"remote-{name[5:]}") as remotes:
            run(bench, work, remotes, a.commits)
    finally:
        sc.finish(bench, lambda: report(bench, sys.argv), work, a.keep, started)
    return 0


def reuse(a: argparse.Namespace, name: str, started: float) -> int:
    """The clones alone, against a kept history (``--keep --same-fs``); the report goes to
    ``<name>-reuse``."""
    work = os.path.join(sc.WORK, name[5:])
    remotes = os.path.join(work, "remotes")
    if not os.path.isdir(os.path.join(remotes, "flat-origin.git")):
        sys.exit(f"no kept history in {work}: run with --keep --same-fs first")
    env, code = sc.make_env(os.path.join(work, "home-reuse"), ["mlv"], a.live)
    bench = sc.Bench(name + "-reuse", env, code)
    bench.meta.update(merge=not a.no_merge, commits=a.commits, tools=["mlv"], load_start=sc.loadavg(),
                      started=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      argv=sys.argv, versions=sc.versions(env, ["mlv"]), remotes="kept, same filesystem")
    try:
        source = sc.tree_digest(os.path.join(work, "repo"), "data")
        origin, forigin = os.path.join(remotes, "origin.git"), os.path.join(remotes, "flat-origin.git")
        compare(bench, work, origin, forigin, source)
    finally:
        sc.finish(bench, lambda: report(bench, sys.argv), work, True, started)
    return 0


def compare(bench: sc.Bench, work: str, origin: str, forigin: str, source: str) -> None:
    """Both rounds of clones: the origins as pushed, then after `git gc` on both."""
    # git's own part of the history clone is mostly upload-pack packing ~12 loose objects a push
    # (receive.unpackLimit keeps pushes of < 100 objects loose) with a fresh delta search. A hosting
    # server repacks (GitHub, GitLab, receive.autoGC): the clones run once against the origins as
    # pushed and once after `git gc` on BOTH bare origins (untimed), and the report gives both.
    for kind, bare in (("history", origin), ("one commit", forigin)):
        bench.count("mlv", f"loose objects in the {kind} origin", _loose_objects(bench, bare))
    clones(bench, work, origin, forigin, source, "")
    for bare in (origin, forigin):
        bench.sh("mlv", None, "git gc -q", bare)
    for kind, bare in (("history", origin), ("one commit", forigin)):
        bench.count("mlv", f"loose objects in the {kind} origin after gc", _loose_objects(bench, bare))
    clones(bench, work, origin, forigin, source, GC)


def run(bench: sc.Bench, work: str, remotes: str, commits: int) -> None:
    """The history, the walks, the two clones."""
    repo = sc.fresh_dir(os.path.join(work, "repo"))
    origin, data = os.path.join(remotes, "origin.git"), os.path.join(remotes, "data")
    bench.sh("mlv", None, f"git init -q && git mlv track 'data/**' >/dev/null && "
                          f"git mlv remote add store {data} --default >/dev/null && "
                          f"git init -q --bare {origin} && git remote add origin {origin}", repo)
    rng = np.random.default_rng(11)
    for i in range(BASE_FILES):
        write_file(os.path.join(repo, "data", f"d{i % 20:02d}", f"f{i:05d}.bin"), rng)
    bench.sh("mlv", "base_add", "git add -A", repo)
    bench.sh("mlv", None, "git commit -q -m base", repo)
    bench.sh("mlv", "base_push", "git push -q -u origin main", repo)
    nxt = BASE_FILES
    for c in range(1, commits + 1):
        for _ in range(3):
            write_file(os.path.join(repo, "data", f"d{nxt % 20:02d}", f"f{nxt:05d}.bin"), rng)
            nxt += 1
        for _ in range(2):
            i = int(rng.integers(0, nxt))
            write_file(os.path.join(repo, "data", f"d{i % 20:02d}", f"f{i:05d}.bin"), rng)
        bench.sh("mlv", "add", "git add -A", repo)
        bench.sh("mlv", "commit", f"git commit -q -m c{c}", repo)
        bench.sh("mlv", "push", "git push -q origin main", repo)
        if c % 100 == 0:
            bench.sh("mlv", None, f"git tag v{c}", repo)
    bench.meta["files"] = nxt
    bench.count("mlv", "packs in the pool", sc.pool_packs(repo))
    bench.count("mlv", "remote indexes", sc.count_files(data, ".idx"))
    bench.count("mlv", "remote packs (files)", sc.count_files(data, ".pack"))
    bench.count("mlv", "remote packs (committed: an index names them)", sc.committed_packs(data))
    old = f"HEAD~{commits // 2}"
    for step, cmd in (("push --all (nothing to send)", "git mlv push --all"),
                      ("gc --dry-run", "git mlv gc --dry-run"),
                      (f"ls-files {old}", f"git mlv ls-files {old} >/dev/null"),
                      ("status", "git mlv status >/dev/null"),
                      ("checkout HEAD~1 (5 files)", "git checkout -q HEAD~1"),
                      ("checkout back", "git checkout -q main")):
        bench.sh("mlv", step, cmd, repo)
    source = sc.tree_digest(repo, "data")
    # the same final tree, committed at once, in its own repository and remotes
    flat = sc.fresh_dir(os.path.join(work, "flat"))
    forigin, fdata = os.path.join(remotes, "flat-origin.git"), os.path.join(remotes, "flat-data")
    shutil.copytree(os.path.join(repo, "data"), os.path.join(flat, "data"))
    bench.sh("mlv", None, f"git init -q && git mlv track 'data/**' >/dev/null && "
                          f"git mlv remote add store {fdata} --default >/dev/null && "
                          f"git init -q --bare {forigin} && git remote add origin {forigin} && "
                          "git add -A && git commit -q -m flat && git push -q -u origin main", flat)
    compare(bench, work, origin, forigin, source)
    bench.count("mlv", "remote indexes (one commit)", sc.count_files(fdata, ".idx"))


GC = " after server gc"  # suffix of the steps of the second round of clones


def _loose_objects(bench: sc.Bench, bare: str) -> int:
    """Loose objects in a bare repository (``git count-objects``)."""
    import subprocess

    out = subprocess.run(["git", "-C", bare, "count-objects"], env=bench.env, capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[0])


def clones(bench: sc.Bench, work: str, origin: str, forigin: str, source: str, label: str) -> None:
    """The four clones (history / one commit, with git-mlv / git alone), interleaved, CLONE_REPS
    times each: one clone is a single sample of a few seconds, and the ratio of two single samples
    moved by 0.2 between runs on a loaded machine. ``label`` suffixes the step names."""
    for rep in range(CLONE_REPS):
        for kind, src, only_git in (("history", origin, False), ("one commit", forigin, False),
                                    ("history", origin, True), ("one commit", forigin, True)):
            dest = os.path.join(work, f"clone-{kind.replace(' ', '-')}{'-git' if only_git else ''}")
            if os.path.exists(dest):
                shutil.rmtree(dest)
            if only_git:
                cmd = f"{GIT_ONLY} clone -q --no-local {src} {dest}"
                bench.sh("mlv", f"git-only clone ({kind}){label}", cmd, work)
                continue
            bench.sh("mlv", f"clone_data ({kind}){label}", f"git clone -q --no-local {src} {dest}", work)
            if rep == 0:
                bench.count("mlv", f"{kind} clone bytes equal{label}",
                            int(sc.tree_digest(dest, "data") == source))
                bench.count("mlv", f"packs in the {kind} clone{label}", sc.pool_packs(dest))


def _tenths(bench: sc.Bench, step: str) -> tuple[float | None, float | None]:
    xs = [r.wall_s for r in bench.records if r.step == step and r.ok]
    k = max(1, len(xs) // 10)
    return (statistics.median(xs[:k]) if xs else None, statistics.median(xs[-k:]) if xs else None)


def report(bench: sc.Bench, argv: list[str]) -> str:
    """The markdown report."""
    n = bench.meta["commits"]
    lines = sc.header(bench, f"Long history: {n} commits, each through its own `git add` and `git push` "
                             f"({bench.meta.get('files', '?')} files at the end)", argv)
    lines += ["| per commit, s | first tenth (median) | last tenth (median) | last/first |",
              "|---|---|---|---|"]
    for step in ("add", "commit", "push"):
        first, last = _tenths(bench, step)
        lines.append(f"| {step} | {sc.fmt(first)} | {sc.fmt(last)} | {sc.ratio(last, first)} |")
    lines += ["", "| step | s | peak RSS, MB |", "|---|---|---|"]
    once = []
    for r in bench.records:
        if r.step not in ("add", "commit", "push") and r.step not in once:
            once.append(r.step)
    for step in once:
        lines.append(f"| {step} | {sc.fmt(bench.wall('mlv', step))} | {sc.fmt(bench.peak('mlv', [step]))} |")
    lines.append(f"| every add/commit/push | - | {sc.fmt(bench.peak('mlv', ['add', 'commit', 'push']))} |")
    lines += ["", f"Clones: medians of {CLONE_REPS}, the four kinds interleaved; first against the bare "
              "origins as the pushes left them, then after `git gc` on both (what a hosting server's "
              "maintenance does; untimed)."]
    for label, what in (("", "origins as pushed"), (GC, "after `git gc` on both origins")):
        hist = bench.wall("mlv", f"clone_data (history){label}")
        flat = bench.wall("mlv", f"clone_data (one commit){label}")
        ghist = bench.wall("mlv", f"git-only clone (history){label}")
        gflat = bench.wall("mlv", f"git-only clone (one commit){label}")
        if hist is None and flat is None:
            continue
        ours = (hist - ghist if hist is not None and ghist is not None else None,
                flat - gflat if flat is not None and gflat is not None else None)
        lines += ["", f"{what}: clone + data of the history / of the same tree in one commit: "
                  f"**{sc.ratio(hist, flat)}** ({sc.fmt(hist)} s / {sc.fmt(flat)} s); git alone (filter "
                  f"and hooks off): {sc.ratio(ghist, gflat)}; git-mlv's part (the difference, "
                  f"{sc.fmt(ours[0])} s / {sc.fmt(ours[1])} s): {sc.ratio(*ours)}"]
    lines += ["", "| count | value |", "|---|---|"]
    for what, value in bench.counts.get("mlv", {}).items():
        lines.append(f"| {what} | {sc.fmt(value)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
