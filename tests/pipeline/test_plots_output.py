"""`git mlv plots -o` somewhere that cannot be written: one line naming the path the user gave and
what to do, exit 6 (a file-system error), as every other command reports such a failure."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, write


def one_error_line(p: subprocess.CompletedProcess[bytes], code: int) -> str:
    """The single `git-mlv: error:` line of a process that exited ``code``."""
    err = p.stderr.decode()
    assert p.returncode == code, err
    assert err.startswith("git-mlv: error: ") and err.count("\n") == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return err


@pytest.fixture
def two_tags(repo: Path) -> Path:
    """A stage with a metrics file (and params in two files), at tags v1 and v2."""
    mlv("stage", "add", "-n", "train", "-p", "params.yaml:lr,epochs", "-p", "other.yaml:seed",
        "-M", "metrics.json", "true", cwd=repo)
    for tag, (acc, seed) in {"v1": (0.5, 1), "v2": (0.7, 2)}.items():
        write(repo / "metrics.json", json.dumps({"acc": acc}).encode())
        write(repo / "params.yaml", b"lr: 0.1\nepochs: 3\n")
        write(repo / "other.yaml", f"seed: {seed}\n".encode())
        commit_all(repo, tag)
        git("tag", tag, cwd=repo)
    return repo


def test_plots_to_a_folder_that_does_not_exist(two_tags: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "plots.png"
    p = mlv("plots", "-o", str(target), cwd=two_tags, check=False)
    err = one_error_line(p, 6)
    assert str(target) in err and ".tmp" not in err  # the path the user gave, not our temporary file
    assert "create it" in err
    assert not (tmp_path / "no").exists()
    folder = tmp_path / "a-folder"
    folder.mkdir()
    err = one_error_line(mlv("plots", "-o", str(folder), cwd=two_tags, check=False), 6)
    assert str(folder) in err
    assert list(folder.iterdir()) == []  # no temporary file left behind
