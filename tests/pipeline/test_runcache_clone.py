"""The run-cache in a fresh clone: a push sends the run-cache entries and their outputs' data, a
fetch brings the entries but not that data, and `repro` looked for it in the pool only, so a clone
ran again (hours, for a real model) an experiment whose results were on the data remote."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, out, write

# a file output and a folder output, both from the learning rate; $RUNLOG counts the runs
TRAIN = """\
import os, pathlib, yaml
open(os.environ["RUNLOG"], "a").write("train\\n")
lr = yaml.safe_load(open("params.yaml"))["lr"]
data = pathlib.Path("data.bin").read_bytes()
pathlib.Path("model.bin").write_bytes(data * 2 + str(lr).encode())
os.makedirs("report", exist_ok=True)
for i in range(3):
    pathlib.Path("report", f"{i}.bin").write_bytes(bytes([i]) * 5000 + str(lr).encode())
"""


def _digests(root: Path) -> dict[str, str]:
    files = [root / "model.bin", *sorted((root / "report").iterdir())]
    return {f.relative_to(root).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def test_repro_in_a_clone_restores_from_the_remote(repo: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUNLOG", str(log))
    mlv("remote", "add", "store", str(tmp_path / "store"), cwd=repo)
    write(repo / "data.bin", bytes(range(256)) * 400)
    write(repo / "train.py", TRAIN.encode())
    write(repo / "params.yaml", b"lr: 0.1\n")
    mlv("run", "-n", "train", "-d", "data.bin", "-d", "train.py", "-p", "lr", "-o", "model.bin",
        "-o", "report", "python train.py", cwd=repo)
    commit_all(repo, "lr 0.1")
    made = {}
    for lr in ("0.2", "0.3"):  # experiments, not committed
        write(repo / "params.yaml", f"lr: {lr}\n".encode())
        mlv("repro", cwd=repo)
        made[lr] = _digests(repo)
    git("checkout", "-q", "--", ".", cwd=repo)
    mlv("push", cwd=repo)
    assert log.read_text().split() == ["train"] * 3

    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    mlv("install", cwd=clone)
    mlv("pull", cwd=clone)
    write(clone / "params.yaml", b"lr: 0.2\n")
    text = out(mlv("repro", cwd=clone))
    assert "Restored 'train' from run-cache" in text, text
    assert log.read_text().split() == ["train"] * 3  # nothing ran in the clone
    assert _digests(clone) == made["0.2"]
    assert "Everything is up to date." in out(mlv("repro", cwd=clone))

    # a data remote that cannot be read: one warning, then the stage runs
    (tmp_path / "store").rename(tmp_path / "away")
    write(clone / "params.yaml", b"lr: 0.3\n")
    proc = mlv("repro", cwd=clone)
    warnings = [w for w in proc.stderr.decode().splitlines() if w.startswith("git-mlv: warning: ")]
    assert len(warnings) == 1, proc.stderr  # once, though the run-cache and the lock both know them
    assert warnings[0].startswith("git-mlv: warning: stage 'train': its outputs are known but could "
                                  "not be fetched ("), warnings
    assert log.read_text().split() == ["train"] * 4
    assert _digests(clone) == made["0.3"]
