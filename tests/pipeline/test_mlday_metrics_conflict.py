"""Merging two experiment branches leaves conflict markers in their training logs. A CSV metrics
file parsed them as values (`metrics show` printed `epoch  >>>>>>> exp-b`, `metrics diff` a
change to it); a file with git's three conflict markers is now a parse error naming the line, a
warning like any file that does not parse."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, write


def test_conflicted_metrics_and_params_are_warnings(repo: Path) -> None:
    mlv("stage", "add", "-n", "train", "-M", "log.csv", "-M", "m.json", "-p", "p.yaml:lr", "true", cwd=repo)
    write(repo / "log.csv", b"epoch,acc\n0,0.5\n1,0.6\n")
    write(repo / "m.json", b'{"auc": 0.7}')
    write(repo / "p.yaml", b"lr: 0.1\n")
    commit_all(repo, "base")
    git("checkout", "-q", "-b", "exp-b", cwd=repo)
    write(repo / "log.csv", b"epoch,acc\n0,0.5\n1,0.8\n")
    write(repo / "p.yaml", b"lr: 1.0\n")
    commit_all(repo, "b")
    git("checkout", "-q", "main", cwd=repo)
    write(repo / "log.csv", b"epoch,acc\n0,0.5\n1,0.7\n")
    write(repo / "p.yaml", b"lr: 0.01\n")
    commit_all(repo, "a")
    assert git("merge", "exp-b", cwd=repo, check=False).returncode != 0
    assert b">>>>>>> exp-b" in (repo / "log.csv").read_bytes()
    p = mlv("metrics", "show", "--json", cwd=repo, check=False)
    assert p.returncode == 0
    assert json.loads(out(p)) == {"workspace": {"m.json": {"auc": 0.7}}}
    err = p.stderr.decode()
    assert "workspace: cannot parse log.csv: unresolved merge conflict (line 3); resolve it first" in err
    p = mlv("metrics", "diff", "--json", cwd=repo, check=False)
    assert p.returncode == 0 and json.loads(out(p)) == []
    assert "the metrics of log.csv are not compared" in p.stderr.decode()
    p = mlv("params", "diff", cwd=repo, check=False)
    assert p.returncode == 0 and "cannot parse p.yaml: unresolved merge conflict" in p.stderr.decode()
    # a line that merely starts with '=======' in a value is not a conflict
    git("merge", "--abort", cwd=repo)
    write(repo / "log.csv", b"epoch,note\n0,=======\n")
    assert json.loads(out(mlv("metrics", "show", "--json", cwd=repo)))["workspace"]["log.csv"] == \
        {"epoch": 0, "note": "======="}


def test_a_tsv_training_log_with_commas_in_a_value(repo: Path) -> None:
    """A .tsv metrics file was read by turning tabs into commas: a value holding a comma split
    into two cells and shifted every metric after it (acc read as ' warm')."""
    mlv("stage", "add", "-n", "train", "-M", "log.tsv", "true", cwd=repo)
    write(repo / "log.tsv", b"epoch\tnote\tacc\n0\tstart\t0.25\n1\tlr=0.1, warm\t0.5\n")
    shown = json.loads(out(mlv("metrics", "show", "--json", cwd=repo)))
    assert shown == {"workspace": {"log.tsv": {"epoch": 1, "note": "lr=0.1, warm", "acc": 0.5}}}
