#!/usr/bin/env python3
"""The migration bars of issue 11, on the shared workload (v1 and v2), in one run, interleaved.

  import:   a plain-git repository holding v1 and v2 (two commits, tags v1 and v2), copied fresh
            for every run: `git mlv migrate import --everything` against
            `git lfs migrate import --everything`, same --include; wall time, peak RSS (GNU time's
            %M: the largest single process), and the store each leaves (.git/mlv, .git/lfs/objects).
  from-dvc: a DVC project made by the real `dvc` (`dvc add data`, commit v1, then v2): `git mlv
            migrate from-dvc --everything` (both commits converted) against git-mlv's own
            `git add -A data && git commit` of v1 plus that of v2 in a fresh repository.

Runs alternate A B A B on fresh copies (copying is not timed); the report gives each run's ratio and
the median. The machine is shared: compare ratios within a run. Everything goes to --workdir (default
/tmp/mlv-bench-migrate; about 9 GB at scale 1); the templates are kept there for the next run.

  .venv/bin/python bench/migrate.py --scale 1 --reps 3            # both bars
  .venv/bin/python bench/migrate.py --scale 0.25 --only import
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATTERNS = "*.jpg,*.csv,*.bin"


def log(msg: str) -> None:
    """A progress line on stderr."""
    print(f"bench-migrate: {datetime.datetime.now():%H:%M:%S} {msg}", file=sys.stderr, flush=True)


def _load(name: str, path: str):  # noqa: ANN202 - a module loaded by path
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RUN = _load("bench_run", os.path.join(ROOT, "bench", "run.py"))  # snapshot, peers' venv, harness path


class Bench:
    """Paths, environment and helpers of one run."""

    def __init__(self, workdir: str, scale: float) -> None:
        self.work = os.path.abspath(workdir)
        self.scale = scale
        self.home = os.path.join(self.work, "home")
        os.makedirs(self.home, exist_ok=True)
        snap, self.code = RUN.snapshot_code()
        own = os.path.join(ROOT, ".venv-dvc", "bin")  # `make venv-dvc`, else the bench's own
        self.peers = own if os.path.exists(os.path.join(own, "dvc")) else RUN.ensure_peers()
        self.env = dict(os.environ, HOME=self.home, GIT_CONFIG_NOSYSTEM="1", PYTHONPATH=snap,
                        PATH=os.pathsep.join([os.path.dirname(sys.executable), self.peers,
                                              os.environ.get("PATH", "")]),
                        DVC_GLOBAL_CONFIG_DIR=os.path.join(self.home, "dvc"),
                        DVC_SYSTEM_CONFIG_DIR=os.path.join(self.home, "dvc-system"),
                        DVC_SITE_CACHE_DIR=os.path.join(self.work, "dvc-site-cache"),
                        GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
                        GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
        for cmd in (["git", "config", "--global", "init.defaultBranch", "main"],
                    ["git", "config", "--global", "advice.detachedHead", "false"],
                    ["git", "lfs", "install", "--skip-repo"], ["git", "mlv", "install", "--global"],
                    ["dvc", "config", "--global", "core.analytics", "false"],
                    ["dvc", "config", "--global", "core.check_update", "false"]):
            self.sh(cmd, self.home)
        self.workload = wl = _load("make_workload", os.path.join(RUN.find_shared_bench(), "make_workload.py"))
        self.trees = wl.build_cache(os.path.join(self.work, f"cache-s{scale:g}"), scale, log=log)

    def sh(self, cmd: list[str], cwd: str) -> None:
        """Run a set-up command; stop on failure."""
        proc = subprocess.run(cmd, cwd=cwd, env=self.env, capture_output=True)
        if proc.returncode:
            sys.exit(f"bench-migrate: {' '.join(cmd)} failed in {cwd}: {proc.stderr.decode()[-2000:]}")

    def timed(self, cmd: str, cwd: str) -> tuple[float, float]:
        """(wall seconds, peak RSS MB of the largest process) of a shell command."""
        t = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "sh", "-c", cmd], cwd=cwd, env=self.env,
                              capture_output=True)
        wall = time.perf_counter() - t
        if proc.returncode:
            sys.exit(f"bench-migrate: `{cmd}` failed: {proc.stderr.decode()[-3000:]}")
        return wall, int(proc.stderr.decode().strip().splitlines()[-1]) / 1024

    def put_tree(self, version: str, repo: str) -> None:
        """v1: copy the workload's v1 tree into repo/data; v2: apply v2's edits in place, as the
        shared harness does (unchanged files keep their stat data, so git looks at changed ones)."""
        if version == "v1":
            shutil.rmtree(os.path.join(repo, "data"), ignore_errors=True)
            subprocess.run(["cp", "-a", os.path.join(self.trees["v1"], "data"), repo], check=True)
        else:
            self.workload.apply_v2(repo, self.scale, 0)


def du(path: str) -> float:
    """Bytes under ``path``, in MB (apparent sizes of regular files)."""
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total / 1e6


def fresh_copy(src: str, dest: str) -> str:
    """A copy of the template repository (``cp -a``), replacing ``dest``."""
    shutil.rmtree(dest, ignore_errors=True)
    subprocess.run(["cp", "-a", src, dest], check=True)
    return dest


def plain_template(b: Bench) -> str:
    """The plain-git repository with v1 and v2 (made once; kept in the workdir)."""
    path = os.path.join(b.work, f"plain-s{b.scale:g}")
    if os.path.exists(path + ".done"):  # beside it: an untracked file would make the repo dirty
        return path
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    b.sh(["git", "init", "-q"], path)
    for v in ("v1", "v2"):
        log(f"plain-git template: committing {v} (plain git, slow)")
        b.put_tree(v, path)
        b.sh(["git", "add", "-A", "data"], path)
        b.sh(["git", "commit", "-q", "-m", v], path)
        b.sh(["git", "tag", v], path)
    open(path + ".done", "w").close()
    return path


def dvc_template(b: Bench) -> str:
    """The DVC project with v1 and v2 (``dvc add data``, as the shared harness does)."""
    path = os.path.join(b.work, f"dvc-s{b.scale:g}")
    if os.path.exists(path + ".done"):
        return path
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    b.sh(["git", "init", "-q"], path)
    b.sh(["dvc", "init", "-q"], path)
    b.sh(["git", "commit", "-q", "-m", "dvc init"], path)
    for v in ("v1", "v2"):
        log(f"DVC template: dvc add of {v}")
        b.put_tree(v, path)
        b.sh(["dvc", "add", "-q", "data"], path)
        b.sh(["git", "add", "data.dvc", ".gitignore"], path)
        b.sh(["git", "commit", "-q", "-m", v], path)
        b.sh(["git", "tag", v], path)
    open(path + ".done", "w").close()
    return path


def bench_import(b: Bench, reps: int) -> list[dict]:
    """git mlv migrate import --everything vs git lfs migrate import --everything."""
    template = plain_template(b)
    rows = []
    for rep in range(reps):
        for tool in ("mlv", "lfs"):
            repo = fresh_copy(template, os.path.join(b.work, f"run-{tool}"))
            cmd = f"git {tool} migrate import --everything --include='{PATTERNS}'"
            if tool == "mlv":
                cmd += " -q"
            else:
                b.sh(["git", "lfs", "install", "--local"], repo)
            log(f"import rep {rep + 1}: {cmd}")
            wall, rss = b.timed(cmd + " >/dev/null", repo)
            store = du(os.path.join(repo, ".git", "mlv" if tool == "mlv" else "lfs/objects"))
            status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, env=b.env,
                                    capture_output=True).stdout.decode()
            rows.append({"bench": "import", "rep": rep + 1, "tool": tool, "wall_s": wall, "rss_mb": rss,
                         "store_mb": store, "clean": status == ""})
            log(f"  {tool}: {wall:.1f} s, {rss:.0f} MB RSS, store {store:.0f} MB, clean={status == ''}")
            shutil.rmtree(repo, ignore_errors=True)
    return rows


def bench_from_dvc(b: Bench, reps: int) -> list[dict]:
    """git mlv migrate from-dvc --everything vs git-mlv's own commit of v1 + v2."""
    template = dvc_template(b)
    rows = []
    for rep in range(reps):
        repo = fresh_copy(template, os.path.join(b.work, "run-from-dvc"))
        log(f"from-dvc rep {rep + 1}")
        wall, rss = b.timed("git mlv migrate from-dvc --everything -q >/dev/null", repo)
        rows.append({"bench": "from-dvc", "rep": rep + 1, "tool": "mlv from-dvc", "wall_s": wall,
                     "rss_mb": rss, "store_mb": du(os.path.join(repo, ".git", "mlv"))})
        shutil.rmtree(repo, ignore_errors=True)
        repo = os.path.join(b.work, "run-commit")
        shutil.rmtree(repo, ignore_errors=True)
        os.makedirs(repo)
        b.sh(["git", "init", "-q"], repo)
        b.sh(["git", "mlv", "track", "*.jpg", "*.csv", "*.bin"], repo)
        b.sh(["git", "add", "-A"], repo)
        b.sh(["git", "commit", "-q", "-m", "init"], repo)
        total, peak = 0.0, 0.0
        for v in ("v1", "v2"):
            b.put_tree(v, repo)
            wall2, rss2 = b.timed(f"git add -A data && git commit -q -m {v}", repo)
            total += wall2
            peak = max(peak, rss2)
        rows.append({"bench": "from-dvc", "rep": rep + 1, "tool": "mlv commit v1+v2", "wall_s": total,
                     "rss_mb": peak, "store_mb": du(os.path.join(repo, ".git", "mlv"))})
        log(f"  from-dvc {wall:.1f} s ({rss:.0f} MB) vs commit v1+v2 {total:.1f} s ({peak:.0f} MB)")
        shutil.rmtree(repo, ignore_errors=True)
    return rows


def report(rows: list[dict], b: Bench, command: str) -> str:
    """Markdown: every run, then the medians and ratios."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    lines = [f"### Migration bars, scale {b.scale:g} ({now} UTC)", "", f"- command: `{command}`",
             f"- git-mlv code: {b.code}", "",
             "| bench | rep | tool | wall s | peak RSS MB | store MB |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['bench']} | {r['rep']} | {r['tool']} | {r['wall_s']:.1f} | {r['rss_mb']:.0f} | "
                     f"{r['store_mb']:.0f} |")
    lines.append("")
    for bench, a, bb in (("import", "mlv", "lfs"), ("from-dvc", "mlv from-dvc", "mlv commit v1+v2")):
        pa = [r for r in rows if r["bench"] == bench and r["tool"] == a]
        pb = [r for r in rows if r["bench"] == bench and r["tool"] == bb]
        if not pa or not pb:
            continue
        ratios = [x["wall_s"] / y["wall_s"] for x, y in zip(pa, pb)]
        store = [x["store_mb"] / y["store_mb"] for x, y in zip(pa, pb) if y["store_mb"]]
        pairs = ", ".join(f"{r:.2f}" for r in ratios)
        lines.append(f"- **{bench}**: time {a} / {bb} per pair {pairs}, median "
                     f"**{statistics.median(ratios):.2f}**; peak RSS of {a}: "
                     f"{max(r['rss_mb'] for r in pa):.0f} MB; store ratio "
                     f"{statistics.median(store) if store else float('nan'):.2f}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benches and print the report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", choices=["import", "from-dvc"])
    ap.add_argument("--workdir", default="/tmp/mlv-bench-migrate")
    a = ap.parse_args(argv)
    b = Bench(a.workdir, a.scale)
    rows: list[dict] = []
    if a.only in (None, "import"):
        rows += bench_import(b, a.reps)
    if a.only in (None, "from-dvc"):
        rows += bench_from_dvc(b, a.reps)
    command = "bench/migrate.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = report(rows, b, command)
    out = os.path.join(b.work, f"migrate-s{a.scale:g}.md")
    with open(out, "w") as f:
        f.write(text)
    print(text)
    log(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
