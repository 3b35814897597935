"""Bars of issue 12, measured with farm-bench on the standard workload (a benchmark, not a test).

    .venv/bin/python bench/bench_inspect.py [--scale 1] [--work /tmp/mlv-inspect-bench] [-n 3]

Prepares, under --work (reused between runs): the workload's v1/v2 trees (shared/bench/make_workload.py),
the v1 table as Parquet, a 1 GB CSV, and a repository with v1 then v2 of table.csv committed. Then
times each command as a whole process (interpreter start-up included), paired with a yardstick:

- textconv of the 300 MB CSV            vs  pyarrow's streaming CSV reader alone counting rows
- textconv of the 400 MB float32 model  vs  sha256sum
- textconv of the Parquet file          vs  python reading the Parquet footer alone
- textconv of a 1 GB CSV (peak RSS)
- git mlv diff HEAD~1 HEAD --key id (v1 -> v2 of the CSV, read from the pool)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def workload(scale: float, work: Path) -> tuple[Path, Path]:
    for base in (ROOT.parent / "shared" / "bench", Path("/work/shared/bench")):
        if (base / "make_workload.py").exists():
            spec = importlib.util.spec_from_file_location("make_workload", base / "make_workload.py")
            assert spec and spec.loader
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            cache = mod.build_cache(str(work / "workload"), scale, 0)
            return Path(cache["v1"]) / "data", Path(cache["v2"]) / "data"
    sys.exit("shared/bench/make_workload.py not found")


def sh(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def prepare(scale: float, work: Path) -> dict[str, Path]:
    v1, v2 = workload(scale, work)
    files = {"csv": v1 / "table.csv", "model": v1 / "model.bin"}
    parquet = work / "table.parquet"
    if not parquet.exists():
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        pq.write_table(pcsv.read_csv(files["csv"]), parquet, row_group_size=256 * 1024)
    files["parquet"] = parquet
    big = work / "big.csv"
    if not big.exists():
        with open(files["csv"], "rb") as src, open(big, "wb") as out:
            header = src.readline()
            body = src.read()
            out.write(header)
            while out.tell() < 1_000_000_000:
                out.write(body)
    files["big"] = big
    repo = work / "repo"
    if not (repo / ".git").exists():
        repo.mkdir(parents=True)
        env_git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        sh("git", "init", "-q", cwd=repo)
        sh(str(BIN / "git-mlv"), "install", "--local", cwd=repo)
        sh(str(BIN / "git-mlv"), "track", "data/**", cwd=repo)
        (repo / "data").mkdir()
        for n, tree in enumerate((v1, v2)):
            shutil.copy(tree / "table.csv", repo / "data" / "table.csv")
            sh("git", "add", "-A", cwd=repo)
            sh(*env_git, "commit", "-q", "-m", f"v{n + 1}", cwd=repo)
    files["repo"] = repo
    return files


def bench(label: str, cmd: list[str], vs: str | None, runs: int, timeout: int = 900) -> None:
    print(f"\n## {label}\n$ {' '.join(cmd)}" + (f"\n  vs {vs}" if vs else ""), flush=True)
    args = ["farm-bench", "-n", str(runs), "--timeout", str(timeout)]
    if vs:
        args += ["--vs", vs]
    subprocess.run([*args, "--", *cmd], check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--work", default="/tmp/mlv-inspect-bench")
    ap.add_argument("-n", "--runs", type=int, default=3)
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    f = prepare(args.scale, work)
    py = sys.executable
    mlv = str(BIN / "git-mlv")
    count_rows = ("import sys, pyarrow.csv as c; "
                  "print(sum(b.num_rows for b in c.open_csv(sys.argv[1])))")
    footer = "import sys, pyarrow.parquet as pq; print(pq.read_metadata(sys.argv[1]).num_rows)"
    bench("textconv, 300 MB CSV (bar: 3 s)", [mlv, "textconv", str(f["csv"])],
          f"{py} -c '{count_rows}' {f['csv']}", args.runs)
    bench("textconv, 400 MB raw float32 model (bar: 1 s)", [mlv, "textconv", str(f["model"])],
          f"sha256sum {f['model']}", args.runs)
    bench("textconv, Parquet of the same table (bar: 0.2 s, footer only)",
          [mlv, "textconv", str(f["parquet"])], f"{py} -c '{footer}' {f['parquet']}", args.runs)
    bench("textconv, 1 GB CSV (bar: peak RSS 200 MB)", [mlv, "textconv", str(f["big"])], None, args.runs)
    bench("git mlv diff --key id, v1 -> v2 of the CSV (bar: 10 s, peak RSS 300 MB)",
          ["sh", "-c", f"cd {f['repo']} && exec {mlv} diff HEAD~1 HEAD --key id --rows 3"], None, args.runs)
    print(f"\n(inputs kept under {work}; remove it when done)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
