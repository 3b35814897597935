"""A three-stage pipeline in a real git repository (featurize -> train -> evaluate).

Each script appends its stage name to the file named by $RUNLOG (outside the repository), so a test
can tell exactly which commands ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, write

FEATURIZE = """\
import os, pathlib
open(os.environ["RUNLOG"], "a").write("featurize\\n")
data = b"".join(p.read_bytes() for p in sorted(pathlib.Path("data").rglob("*")) if p.is_file())
pathlib.Path("features.bin").write_bytes(data[::-1] * 3)
"""

TRAIN = """\
import json, os, pathlib, sys, yaml
open(os.environ["RUNLOG"], "a").write("train\\n")
p = yaml.safe_load(open("params.yaml"))
if p.get("fail"):
    sys.exit(3)
f = pathlib.Path("features.bin").read_bytes()
pathlib.Path("model.bin").write_bytes(f + str(p["lr"]).encode())
json.dump({"acc": round(len(f) * p["lr"], 4), "loss": {"train": 1 / (1 + len(f))}},
          open("metrics.json", "w"))
"""

EVALUATE = """\
import os, pathlib
open(os.environ["RUNLOG"], "a").write("evaluate\\n")
m = pathlib.Path("model.bin").read_bytes()
pathlib.Path("eval.yaml").write_text(f"auc: {len(m) % 97 / 100}\\nsize: {len(m)}\\n")
"""


class Pipeline:
    """The repository and a way to read (and reset) which stages ran."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path = path
        self.log = log

    def runs(self) -> list[str]:
        """Stage commands that ran since the last call, in order."""
        text = self.log.read_text() if self.log.exists() else ""
        self.log.write_text("")
        return text.split()

    def mlv(self, *args: str, check: bool = True) -> str:
        """Run git-mlv here; its stdout."""
        return mlv(*args, cwd=self.path, check=check).stdout.decode()


@pytest.fixture
def pipeline(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """Three stages defined (not run) over data/, with params.yaml."""
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUNLOG", str(log))
    write(repo / "data" / "a.bin", b"alpha" * 1000)
    write(repo / "data" / "sub" / "b.bin", b"beta" * 700)
    write(repo / "featurize.py", FEATURIZE.encode())
    write(repo / "train.py", TRAIN.encode())
    write(repo / "evaluate.py", EVALUATE.encode())
    write(repo / "params.yaml", b"lr: 0.1\nother: 1\n")
    p = Pipeline(repo, log)
    p.mlv("stage", "add", "-n", "featurize", "-d", "featurize.py", "-d", "data", "-o", "features.bin",
          "python", "featurize.py")
    p.mlv("stage", "add", "-n", "train", "-d", "train.py", "-d", "features.bin", "-p", "params.yaml:lr",
          "-o", "model.bin", "-M", "metrics.json", "python train.py")
    p.mlv("stage", "add", "-n", "evaluate", "-d", "evaluate.py", "-d", "model.bin", "-M", "eval.yaml",
          "python evaluate.py")
    return p


Edit = Callable[[str, bytes], None]


@pytest.fixture
def two_tags(repo: Path) -> Path:
    """A stage with params in two files and a metrics file, at tags v1 and v2 (params diff,
    plots)."""
    mlv("stage", "add", "-n", "train", "-p", "params.yaml:lr,epochs", "-p", "other.yaml:seed",
        "-M", "metrics.json", "true", cwd=repo)
    for tag, (acc, seed) in {"v1": (0.5, 1), "v2": (0.7, 2)}.items():
        write(repo / "metrics.json", json.dumps({"acc": acc}).encode())
        write(repo / "params.yaml", b"lr: 0.1\nepochs: 3\n")
        write(repo / "other.yaml", f"seed: {seed}\n".encode())
        commit_all(repo, tag)
        git("tag", tag, cwd=repo)
    return repo
