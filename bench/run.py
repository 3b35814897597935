#!/usr/bin/env python3
"""`make bench`: git-mlv against git, git-lfs and DVC on the shared workload, in one run.

Runs ../shared/bench/anchor_bench.py (the shared harness, read-only; CI has it at <repo>/../shared)
with our tool spec, then writes bench/results/s<scale>.md: the harness's tables, the command used, and
a table of git-mlv's ratios to git-lfs and DVC. The JSON next to it holds every record (gitignored).

What it sets up on a fresh machine, without touching the project's own virtualenv:
  - git-lfs through apt-get when it is missing (the harness skips a tool it cannot find);
  - DVC in its own virtualenv, bench/work/venv-peers (gitignored), so its dependencies never meet ours;
  - remotes on a separate filesystem (a loop-mounted ext4 image under bench/work) when we may mount
    one: on the repo's filesystem git-lfs hard-links its objects into a file:// remote instead of
    copying them, which flatters its push and clone. --same-fs or a failed mount falls back, and
    the table's header says which it was.

Examples:
  .venv/bin/python bench/run.py --scale 0.25                 # what `make bench` runs (3 reps)
  .venv/bin/python bench/run.py --scale 1 --reps 1 --tools lfs,dvc,mlv
  .venv/bin/python bench/run.py --render bench/results/s0.25.json   # re-print, no run
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pageprobe  # bench/ is on sys.path: the script's own folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")  # gitignored: peers' venv, runs, the remote filesystem
RESULTS = os.path.join(ROOT, "bench", "results")
PEERS_VENV = os.path.join(WORK, "venv-peers")
DVC_REQUIREMENT = "dvc>=3,<4"

# rows of the ratio table: (label, kind, key); kind "time" reads step records, "size" size records
RATIO_ROWS = [
    ("commit_v1", "time", "commit_v1"), ("commit_v2", "time", "commit_v2"),
    ("status (2nd, nothing changed)", "time", "status_2"), ("checkout_v1", "time", "checkout_v1"),
    ("checkout_v2", "time", "checkout_v2"), ("status after switch", "time", "status_switch"),
    ("push", "time", "push"), ("clone_pull", "time", "clone_pull"),
    ("tool store after v2, MB", "size", "store_v2"), (".git + store after git gc, MB", "size", "total_gc"),
    ("remote (git + data), MB", "size", "remote"), ("fresh clone .git + store, MB", "size", "clone_total"),
    ("peak RSS over all steps, MB", "rss", ""),
]


def log(msg: str) -> None:
    """A progress line on stderr."""
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def find_shared_bench() -> str:
    """The shared harness folder: $MLV_SHARED_BENCH, else <repo>/../shared/bench."""
    for cand in (os.environ.get("MLV_SHARED_BENCH"), os.path.join(os.path.dirname(ROOT), "shared", "bench")):
        if cand and os.path.isfile(os.path.join(cand, "anchor_bench.py")):
            return os.path.abspath(cand)
    sys.exit("bench: error: ../shared/bench/anchor_bench.py not found next to the repository "
             "(set MLV_SHARED_BENCH=DIR)")


def ensure_git_lfs() -> None:
    """Install git-lfs with apt-get when it is missing (as root, or through sudo)."""
    if shutil.which("git-lfs"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    log("git-lfs is missing: apt-get install git-lfs")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "git-lfs"]):
        if subprocess.run(sudo + cmd, env=env).returncode:
            log("could not install git-lfs; the harness will skip it")
            return


def ensure_peers() -> str:
    """bench/work/venv-peers with DVC in it (created on first use); its bin folder."""
    bindir = os.path.join(PEERS_VENV, "bin")
    if os.path.exists(os.path.join(bindir, "dvc")):
        return bindir
    log(f"installing DVC into its own virtualenv {os.path.relpath(PEERS_VENV, ROOT)} (once)")
    base_python = shutil.which("python3") or sys.executable
    subprocess.run([base_python, "-m", "venv", PEERS_VENV], check=True)
    pip = [os.path.join(bindir, "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    if subprocess.run(pip + [DVC_REQUIREMENT]).returncode:
        log("could not install DVC; the harness will skip it")
    return bindir


@contextmanager
def remote_filesystem(scale: float, same_fs: bool, given: str | None, size_gib: int | None = None,
                      bytes_per_inode: int | None = None, name: str = "remote-fs") -> Iterator[str | None]:
    """A folder for the remotes on another filesystem than the repos, or None for the same one.

    A sparse ext4 image, loop-mounted for the run and removed afterwards; sized for every tool's
    remotes of one repetition (about 7 GB at scale 1: git 0.85, git-lfs and DVC 1.8 each, git-mlv
    less, plus their git remotes), or ``size_gib``; ``bytes_per_inode`` for remotes of many small
    files (mkfs's default of one inode per 16 KiB runs out first). Mounting needs root; without it
    we say so and use the same fs.
    """
    if given or same_fs:
        yield given
        return
    image, mnt = os.path.join(WORK, f"{name}.img"), os.path.join(WORK, name)
    os.makedirs(mnt, exist_ok=True)
    mounted_here = False
    if not os.path.ismount(mnt):
        size_gib = size_gib or max(3, int(10 * scale + 1.5))
        inodes = ["-i", str(bytes_per_inode)] if bytes_per_inode else []
        try:
            with open(image, "wb") as f:
                f.truncate(size_gib << 30)
            subprocess.run(["mkfs.ext4", "-q", "-F", *inodes, image], check=True, capture_output=True)
            subprocess.run(["mount", "-o", "loop", image, mnt], check=True, capture_output=True)
            mounted_here = True
        except (OSError, subprocess.CalledProcessError) as e:
            err = getattr(e, "stderr", b"") or b""
            log(f"cannot mount a separate filesystem for the remotes ({err.decode().strip() or e}); "
                "using the repos' filesystem: git-lfs will hard-link instead of copying")
            if os.path.exists(image):
                os.remove(image)
            yield None
            return
    try:
        yield mnt
    finally:
        if mounted_here:
            subprocess.run(["umount", mnt], check=False)
            os.remove(image)


# ---------------------------------------------------------------------------------------------------
# the ratio table
# ---------------------------------------------------------------------------------------------------
def _median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def figures(res: dict) -> dict[tuple[str, str], float | None]:
    """{(tool, row label): median figure} for RATIO_ROWS (seconds, MB)."""
    out: dict[tuple[str, str], float | None] = {}
    recs, sizes = res["records"], res["sizes"]
    for tool in res["meta"]["tools"]:
        for label, kind, key in RATIO_ROWS:
            if kind == "time":
                val = _median([r["wall_s"] for r in recs
                               if r["tool"] == tool and r["step"] == key and r["ok"]])
            elif kind == "size":
                val = _median([s["disk_bytes"] for s in sizes if s["tool"] == tool and s["what"] == key])
                val = None if val is None else val / 1e6
            else:
                steps = {r["step"] for r in recs if r["tool"] == tool}
                meds = [_median([r["maxrss_mb"] for r in recs if r["tool"] == tool and r["step"] == s])
                        for s in steps]
                val = max((m for m in meds if m is not None), default=None)
            out[tool, label] = val
    return out


def ratio_table(res: dict, subject: str = "mlv", peers: tuple[str, ...] = ("lfs", "dvc")) -> str:
    """Markdown: each row's figure for every tool, then subject/peer ratios (<1: subject is better)."""
    tools = res["meta"]["tools"]
    if subject not in tools:
        return ""
    peers = tuple(p for p in peers if p in tools)
    fig = figures(res)
    head = (["metric"] + [f"{t}" for t in tools] + [f"{subject}/{p}" for p in peers])
    lines = [f"**{subject} against its peers: medians (s, or MB) and ratios (<1 means {subject} is "
             "faster or smaller)**", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for label, _, _ in RATIO_ROWS:
        cells = [label]
        for t in tools:
            v = fig[t, label]
            cells.append("-" if v is None else f"{v:.3g}" if v < 100 else f"{v:.0f}")
        for p in peers:
            a, b = fig[subject, label], fig[p, label]
            cells.append("-" if a is None or not b else f"{a / b:.2f}")
        if any(c != "-" for c in cells[1:]):
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(res_json: str, harness_md: str, command: str | None = None, code: str | None = None,
                 probes: dict[str, list[float]] | None = None) -> str:
    """bench/results/s<scale>.md: how it was run, the harness's tables, the ratio table.

    command and code are stored in the JSON's meta (key "bench_run") so that --render finds them again.
    """
    with open(res_json) as f:
        res = json.load(f)
    meta = res["meta"]
    if command is not None:
        meta["bench_run"] = {"command": command, "code": code, "page_cache_write_gbs": probes or {}}
        tmp = res_json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(res, f, indent=1)
        os.replace(tmp, res_json)
    command = meta.get("bench_run", {}).get("command", "?")
    code = meta.get("bench_run", {}).get("code", "?")
    header = [f"# Benchmark, scale {meta['scale']:g}", "",
              f"- date: {meta.get('started', '?')}, elapsed {meta.get('elapsed_s', '?')} s",
              f"- machine: {meta.get('host', platform.node())}",
              f"- command: `{command}`",
              f"- git-mlv code: {code}"]
    probes = meta.get("bench_run", {}).get("page_cache_write_gbs")
    if probes:  # what git's own writes of a checkout could do here, before and after the run
        header.append("- page-cache writes of 400 MB (bench/pageprobe.py): "
                      + "; ".join(f"{when} {pageprobe.summary(v)}" for when, v in probes.items()))
    header.append("")
    body = harness_md.strip() + "\n\n" + ratio_table(res) + "\n"
    path = os.path.splitext(res_json)[0] + ".md"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(header) + "\n" + body)
    os.replace(tmp, path)
    return path


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True).stdout.strip()


def snapshot_code() -> tuple[str, str]:
    """Export HEAD's git_mlv package to bench/work/snapshot-<commit>; (folder, description).

    The checkout is shared and its files change while a run lasts minutes: the editable install would
    run whatever is on disk at each step. A snapshot of the committed code, put first on PYTHONPATH,
    makes every step of a run measure the same commit.
    """
    head = _git("rev-parse", "--short=12", "HEAD")
    dest = os.path.join(WORK, f"snapshot-{head}")
    if not os.path.isdir(os.path.join(dest, "git_mlv")):
        tmp = dest + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        archive = subprocess.run(["git", "-C", ROOT, "archive", "HEAD", "git_mlv", "pyproject.toml"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        _build_extensions(tmp)
        os.replace(tmp, dest)
    # byte-compiled as an installed package is: without .pyc files (and with
    # PYTHONDONTWRITEBYTECODE set, as on this machine) every git-mlv process, every hook and filter
    # start, compiles its modules again (~0.1 s of CPU a command, measured on `git mlv status`)
    subprocess.run([sys.executable, "-m", "compileall", "-q", dest], check=True)
    return dest, f"{head} (committed code, exported to {os.path.relpath(dest, ROOT)})"


def _build_extensions(folder: str) -> None:
    """Compile the C modules pyproject.toml names into ``folder``'s package, as `pip install` does
    (not with setuptools.setup(), which would validate pyproject.toml against this venv's setuptools)."""
    code = (
        "import tomllib, setuptools\n"
        "conf = tomllib.load(open('pyproject.toml', 'rb'))['tool']['setuptools'].get('ext-modules', [])\n"
        "exts = [setuptools.Extension(e['name'], e['sources'], optional=e.get('optional', False),\n"
        "        extra_compile_args=e.get('extra-compile-args', [])) for e in conf]\n"
        "dist = setuptools.Distribution({'name': 'snapshot', 'ext_modules': exts})\n"
        "dist.script_args = ['-q', 'build_ext', '--inplace']\n"
        "dist.parse_command_line()\n"
        "dist.run_commands()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=folder, check=True, stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Set up the peers, run the shared harness, write the report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tools", default="git,lfs,dvc,mlv")
    ap.add_argument("--tool-spec", default=None,
                    help="git-mlv's spec (default: bench/mlv.json if present, else shared tools/mlv.json)")
    ap.add_argument("--remote-root", default=None, help="put the remotes here (skips the loop mount)")
    ap.add_argument("--same-fs", action="store_true", help="remotes on the repos' filesystem")
    ap.add_argument("--out", default=None, help="results JSON (default bench/results/s<scale>.json)")
    ap.add_argument("--live", action="store_true",
                    help="run the checkout's files as they are (default: a snapshot of HEAD's commit)")
    ap.add_argument("--render", metavar="JSON", help="only rewrite the report of an earlier run")
    ap.add_argument("harness_args", nargs="*", help="passed on to anchor_bench.py (after --)")
    a = ap.parse_args(argv)

    shared = find_shared_bench()
    if a.render:
        proc = subprocess.run([sys.executable, os.path.join(shared, "anchor_bench.py"), "--render", a.render],
                              capture_output=True, text=True, check=True)
        print(write_report(a.render, proc.stdout))
        return 0
    ensure_git_lfs()
    peers_bin = ensure_peers()
    spec = a.tool_spec or next(p for p in (os.path.join(ROOT, "bench", "mlv.json"),
                                           os.path.join(shared, "tools", "mlv.json")) if os.path.exists(p))
    out = os.path.abspath(a.out or os.path.join(RESULTS, f"s{a.scale:g}.json"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    # our venv's bin first (the harness puts its own interpreter's folder first), then the peers'
    md = os.path.splitext(out)[0] + ".md"
    if os.path.exists(md):
        os.remove(md)  # the harness writes a fresh one; never decorate an old one twice
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), peers_bin,
                                                 os.environ.get("PATH", "")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the tools run as on a user's machine (see snapshot_code)
    if a.live:
        dirty = _git("status", "--porcelain", "-uno", "--", "git_mlv")
        code = _git("rev-parse", "--short=12", "HEAD") + ("+uncommitted changes" if dirty else "") + " (live)"
    else:
        snap, code = snapshot_code()
        env["PYTHONPATH"] = os.pathsep.join(p for p in (snap, os.environ.get("PYTHONPATH")) if p)
    log(f"git-mlv code: {code}")
    with remote_filesystem(a.scale, a.same_fs, a.remote_root) as remote_root:
        cmd = [sys.executable, os.path.join(shared, "anchor_bench.py"), "--tools", a.tools,
               "--tool-spec", spec, "--scale", f"{a.scale:g}", "--reps", str(a.reps),
               "--workdir", os.path.join(WORK, "runs"), "--out", out, *a.harness_args]
        if remote_root:
            cmd += ["--remote-root", remote_root]
        command = shlex.join(["bench/run.py", *(sys.argv[1:] if argv is None else argv)])
        os.makedirs(WORK, exist_ok=True)
        # The harness runs its tools' set-up in its home folder under bench/work, inside this
        # checkout, and git found this repository from there: `git mlv install --global` installed
        # hooks into it (and git-lfs's config) at every run. The harness passes no GIT_* variable
        # on (a GIT_CEILING_DIRECTORIES did not help), so bench/work is a repository of its own,
        # where git's search stops; what lands in it is thrown away with bench/work.
        if not os.path.exists(os.path.join(WORK, ".git")):
            subprocess.run(["git", "init", "-q", WORK], check=True)
        probes = {"before": pageprobe.probe(WORK)}
        log(f"page-cache writes before the run: {pageprobe.summary(probes['before'])}")
        log(f"{datetime.datetime.now():%H:%M:%S} running: {shlex.join(cmd)}")
        rc = subprocess.run(cmd, env=env, cwd=ROOT).returncode
        probes["after"] = pageprobe.probe(WORK)
        log(f"page-cache writes after the run: {pageprobe.summary(probes['after'])}")
    if os.path.exists(out) and os.path.exists(md):
        with open(md) as f:
            harness_md = f.read()
        path = write_report(out, harness_md, command, code, probes)
        with open(out) as f:
            print("\n" + ratio_table(json.load(f)))
        log(f"report: {os.path.relpath(path, ROOT)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
