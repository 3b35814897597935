"""What bench/many_files.py and bench/long_history.py share: the environment, timed steps, results.

- **Environment**: a HOME of its own under bench/work (git identity, `git mlv install --global`,
  `git lfs install --skip-repo`, DVC's analytics off), our virtualenv's bin first on PATH, then DVC's
  (bench/work/venv-peers, made by bench/run.py's ensure_peers), and a snapshot of HEAD's git_mlv
  first on PYTHONPATH (run.py's snapshot_code): every step of a run measures the same commit.
- **Steps**: `bash -c CMD` under GNU time: wall clock around it, peak RSS = `%M`, the largest single
  process of the step (git, the filter, DVC...), as bench/run.py's harness does.
- **Results**: bench/results/<name>.json (every record; gitignored) and <name>.md (tables).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import run as std  # bench/run.py: peers, the remote filesystem, code snapshots

ROOT = std.ROOT
WORK = std.WORK
RESULTS = std.RESULTS


def log(msg: str) -> None:
    """A progress line on stderr."""
    print(f"bench: {datetime.datetime.now():%H:%M:%S} {msg}", file=sys.stderr, flush=True)


@dataclass
class Record:
    """One timed step of one tool."""

    tool: str
    step: str
    wall_s: float
    maxrss_mb: float
    ok: bool
    cmd: str


@dataclass
class Bench:
    """A benchmark run: its environment and what it measured."""

    name: str
    env: dict[str, str]
    code: str
    records: list[Record] = field(default_factory=list)
    counts: dict[str, dict[str, float]] = field(default_factory=dict)  # tool -> {what: number}
    meta: dict[str, object] = field(default_factory=dict)

    def sh(self, tool: str, step: str | None, cmd: str, cwd: str, check: bool = True) -> Record:
        """Run ``cmd`` in bash under GNU time; record it unless ``step`` is None (untimed set-up)."""
        with tempfile.NamedTemporaryFile(prefix="mlv-time-", suffix=".txt", delete=False) as tf:
            tfile = tf.name
        subprocess.run(["sync"], check=False)  # one step's write-back must not land in the next
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tfile, "bash", "-c", cmd], cwd=cwd,
                              env=self.env, capture_output=True)
        wall = time.perf_counter() - start
        try:
            with open(tfile) as f:
                rss = int(f.read().strip().splitlines()[-1]) / 1024
        except (OSError, ValueError, IndexError):
            rss = 0.0
        os.unlink(tfile)
        rec = Record(tool, step or "", round(wall, 4), round(rss, 1), proc.returncode == 0, cmd)
        if proc.returncode != 0:
            msg = (proc.stderr or proc.stdout).decode(errors="replace").strip()[-2000:]
            log(f"{tool} {step or 'set-up'}: `{cmd}` exited {proc.returncode}: {msg}")
            if check:
                raise SystemExit(f"bench: {tool}: `{cmd}` failed")
        if step is not None:
            self.records.append(rec)
            log(f"{tool:4s} {step:24s} {wall:8.3f} s {rss:7.1f} MB")
        return rec

    def count(self, tool: str, what: str, value: float) -> None:
        """Record a number (packs, remote indexes, MB) for the report."""
        self.counts.setdefault(tool, {})[what] = value
        log(f"{tool:4s} {what:24s} {value}")

    def failed(self, tool: str, step: str) -> bool:
        """True when the step ran and failed."""
        return any(r.tool == tool and r.step == step and not r.ok for r in self.records)

    def wall(self, tool: str, step: str) -> float | None:
        """The step's wall time (the median if it ran several times)."""
        xs = sorted(r.wall_s for r in self.records if r.tool == tool and r.step == step and r.ok)
        return xs[len(xs) // 2] if xs else None

    def peak(self, tool: str, steps: list[str] | None = None) -> float | None:
        """Largest peak RSS over the tool's steps (or over ``steps``)."""
        xs = [r.maxrss_mb for r in self.records if r.tool == tool and (steps is None or r.step in steps)]
        return max(xs) if xs else None

    def save(self, markdown: str) -> tuple[str, str]:
        """bench/results/<name>.json and .md."""
        os.makedirs(RESULTS, exist_ok=True)
        base = os.path.join(RESULTS, self.name)
        data = {"meta": self.meta, "code": self.code, "records": [asdict(r) for r in self.records],
                "counts": self.counts}
        for path, text in ((base + ".json", json.dumps(data, indent=1)), (base + ".md", markdown)):
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)
        return base + ".json", base + ".md"


@contextmanager
def remotes_folder(bench: Bench, work: str, same_fs: bool, size_gib: int, name: str,
                   bytes_per_inode: int | None = None) -> Iterator[str]:
    """Where the remotes go: a loop-mounted filesystem of its own (run.py) or ``work/remotes``."""
    with std.remote_filesystem(0, same_fs, None, size_gib=size_gib, bytes_per_inode=bytes_per_inode,
                               name=name) as root:
        bench.meta["remotes"] = ("a separate loop-mounted ext4 filesystem" if root
                                 else "the repos' own filesystem")
        yield root or os.path.join(work, "remotes")


def finish(bench: Bench, render: Callable[[], str], work: str, keep: bool, started: float) -> None:
    """Save the results and the report ``render`` makes, print it, remove the work folder unless
    ``keep``."""
    bench.meta.update(elapsed_s=round(time.time() - started), load_end=loadavg())
    markdown = render()
    bench.save(markdown)
    print(markdown)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)


def load(path: str) -> Bench:
    """A run saved by ``Bench.save``, to render its report again (``--render``)."""
    with open(path) as f:
        data = json.load(f)
    bench = Bench(os.path.splitext(os.path.basename(path))[0], {}, data["code"],
                  [Record(**r) for r in data["records"]], data["counts"], data["meta"])
    return bench


def make_env(home: str, tools: list[str], live: bool) -> tuple[dict[str, str], str]:
    """(environment for every step, description of the git-mlv code measured)."""
    peers_bin = std.ensure_peers() if "dvc" in tools else ""
    if "lfs" in tools:
        std.ensure_git_lfs()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "MLV_")) and k != "PYTHONDONTWRITEBYTECODE"}  # as for a user
    env.update(HOME=home, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C.UTF-8",
               PATH=os.pathsep.join(p for p in (os.path.dirname(sys.executable), peers_bin,
                                                os.environ.get("PATH", "")) if p))
    if live:
        code = std._git("rev-parse", "--short=12", "HEAD") + " (live working files)"
    else:
        snap, code = std.snapshot_code()
        env["PYTHONPATH"] = snap
    os.makedirs(home, exist_ok=True)
    setup = ["git config --global user.name bench", "git config --global user.email bench@example.com",
             "git config --global init.defaultBranch main", "git config --global advice.detachedHead false",
             "git mlv install --global"]
    if "lfs" in tools:
        setup.append("git lfs install --skip-repo")
    if "dvc" in tools:
        setup += ["dvc config --global core.analytics false", "dvc config --global core.check_update false"]
    for cmd in setup:
        subprocess.run(["bash", "-c", cmd], env=env, cwd=home, check=True, capture_output=True)
    return env, code


def versions(env: dict[str, str], tools: list[str]) -> dict[str, str]:
    """Version strings of the tools in the run."""
    cmds = {"git": "git --version", "mlv": "git mlv --version", "lfs": "git lfs version",
            "dvc": "dvc --version"}
    out = {}
    for t in ["git", *tools]:
        if t in cmds:
            p = subprocess.run(["bash", "-c", cmds[t]], env=env, capture_output=True, text=True)
            out[t] = p.stdout.strip().splitlines()[0] if p.stdout.strip() else "?"
    return out


def tree_digest(root: str, sub: str) -> str:
    """One sha256 over every file under ``root/sub`` (sorted paths and contents): a byte-for-byte
    comparison of two trees without keeping a list of 600,000 hashes."""
    h = hashlib.sha256()
    base = os.path.join(root, sub)
    for dirpath, dirnames, files in os.walk(base):
        dirnames.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def count_files(folder: str, suffix: str) -> int:
    """Files under ``folder`` whose name ends in ``suffix``."""
    return sum(1 for _, _, files in os.walk(folder) for n in files if n.endswith(suffix))


def committed_packs(folder: str) -> int:
    """Packs of a folder data remote that an index or a multi-pack index names (readers see them;
    others are uploads in progress or packs a merge superseded, kept for the grace period)."""
    from git_mlv.core.midx import MidxFile

    packs = os.path.join(folder, "packs")
    names = set(os.listdir(packs)) if os.path.isdir(packs) else set()
    named = {n[:-4] for n in names if n.endswith(".idx")}
    for n in names:
        if n.endswith(".midx"):
            m = MidxFile(os.path.join(packs, n))
            named.update(m.pack_names)
            m.close()
    return sum(1 for n in names if n.endswith(".pack") and n[:-5] in named)


def pool_packs(repo: str) -> int:
    """Packs in a repository's git-mlv pool."""
    return count_files(os.path.join(repo, ".git", "mlv", "packs"), ".pack")


def disk_mb(folder: str) -> float:
    """Disk usage of a folder (du), MB."""
    p = subprocess.run(["du", "-sk", folder], capture_output=True, text=True)
    return round(int(p.stdout.split()[0]) / 1024, 1) if p.returncode == 0 else 0.0


def fmt(v: float | None | str) -> str:
    """A figure for a table cell."""
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def ratio(a: float | None, b: float | None) -> str:
    """a/b for a table cell."""
    return "-" if a is None or not b else f"{a / b:.2f}"


def header(bench: Bench, title: str, argv: list[str]) -> list[str]:
    """The report's first lines: how it was run, on what."""
    m = bench.meta
    return [f"# {title}", "",
            f"- date: {m.get('started', '?')}, elapsed {m.get('elapsed_s', '?')} s",
            f"- machine: {platform.node()}, {os.cpu_count()} cores, load average at start "
            f"{m.get('load_start', '?')}, at end {m.get('load_end', '?')}",
            f"- command: `{shlex.join(argv)}`",
            f"- git-mlv code: {bench.code}",
            f"- versions: {', '.join(f'{k} {v}' for k, v in m.get('versions', {}).items())}",
            f"- remotes: {m.get('remotes', '?')}", ""]


def loadavg() -> str:
    """The 1-minute load average."""
    return f"{os.getloadavg()[0]:.2f}"


def fresh_dir(path: str) -> str:
    """An empty folder at ``path``."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path
