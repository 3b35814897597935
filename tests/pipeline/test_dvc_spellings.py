"""`git mlv run` / `stage add` take DVC's option spellings: a DVC user's `-m metrics.json` or
`--outs model.bin` was refused ("unrecognized arguments: -m"), exit 2, and so were `--plots` and
`--plots-no-cache` (outputs here, as `migrate from-dvc` makes them) (real git, real git-mlv)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import mlv


def test_dvc_spellings_define_the_same_stage(repo: Path, tmp_path: Path) -> None:
    ours = ["-d", "a.txt", "-o", "m.bin", "-O", "log.txt", "-M", "metrics.json", "-M", "eval.json",
            "-o", "roc.json", "-O", "loss.csv"]
    dvcs = ["--deps", "a.txt", "--outs", "m.bin", "--outs-no-cache", "log.txt", "-m", "metrics.json",
            "--metrics-no-cache", "eval.json", "--plots", "roc.json", "--plots-no-cache", "loss.csv"]
    texts = []
    for args in (ours, dvcs):
        mlv("stage", "add", "-f", "-n", "train", *args, "python train.py", cwd=repo)
        texts.append((repo / ".gitmlv").read_bytes())
    assert texts[0] == texts[1]
    assert b"\tmetric = eval.json\n\tmetric = metrics.json\n" in texts[1]
    mlv("run", "-f", "-n", "train", "--metrics", "metrics.json", "--no-exec", "true", cwd=repo)
    assert b"\tmetric = metrics.json\n" in (repo / ".gitmlv").read_bytes()
    # not in --help: one spelling documented
    assert b"--outs" not in mlv("run", "--help", cwd=repo).stdout
