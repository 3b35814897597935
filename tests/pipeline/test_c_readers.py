"""Metric and plot files as people's tools write them (helper C): the readers of pipeline/readers.py."""

from __future__ import annotations

from pathlib import Path

from git_mlv.pipeline import readers
from tests.helpers import mlv, write


def test_semicolon_csv_metrics_and_plot_rows() -> None:
    """A training log Excel saved in much of Europe is ';'-separated: read with commas, its one
    metric was named "step;loss;acc" with the value "1;0" (metrics show, metrics diff) and its plot
    had no numeric column. The delimiter is found as for summaries; a comma file whose text holds
    semicolons is still read with commas."""
    log = "\ufeffstep;loss;acc\r\n0;1.5;0.25\r\n1;0.75;0.5\r\n".encode("utf-8")
    assert readers.parse("train/log.csv", log) == {"step": 1, "loss": 0.75, "acc": 0.5}
    assert readers.rows("log.csv", log) == [{"step": 0, "loss": 1.5, "acc": 0.25},
                                            {"step": 1, "loss": 0.75, "acc": 0.5}]
    pipes = b"step|loss\n0|2\n"
    assert readers.parse("m.csv", pipes) == {"step": 0, "loss": 2}
    commas = b'note,loss\n"a;b;c",0.5\n"x;y",0.25\n'
    assert readers.parse("m.csv", commas) == {"note": "x;y", "loss": 0.25}
    assert readers.parse("m.csv", b"loss\n0.5\n") == {"loss": 0.5}
    assert readers.parse("m.tsv", b"a;b\tc\n1;2\t3\n") == {"a;b": "1;2", "c": 3}


def test_yaml_exponents_are_numbers() -> None:
    """PyYAML reads YAML 1.1, where ``lr: 1e-3`` is the string "1e-3": it was not plotted, `params
    diff` computed no change for it, and after `git mlv migrate from-dvc` (DVC reads YAML 1.2 and
    locks ``lr: 0.001``) `git mlv repro` called the stage stale ("param params.yaml:lr changed").
    Quoted text stays text, and YAML 1.1's other numbers are as they were."""
    doc = (b'lr: 1e-3\nwd: 5E-4\nbig: 6.02e+23\nhalf: .5e1\nsteps: 1_0e2\nq: "1e-3"\nhexa: 0x1e3\n'
           b"x: 1e\ninf: .inf\n")
    assert readers.parse("params.yaml", doc) == {"lr": 0.001, "wd": 0.0005, "big": 6.02e23, "half": 5.0,
                                                 "steps": 1000.0, "q": "1e-3", "hexa": 483, "x": "1e",
                                                 "inf": float("inf")}
    assert readers.rows("log.yaml", b"- {step: 0, loss: 2e-1}\n- {step: 1, loss: 1e-1}\n") == \
        [{"step": 0, "loss": 0.2}, {"step": 1, "loss": 0.1}]


def test_a_lock_from_before_yaml_exponents_stays_up_to_date(repo: Path) -> None:
    """`lr: 1e-3` was locked as the string "1e-3" by git-mlv before the YAML reader read it as a
    number: that stage must not turn stale (a training run) only because the reader changed."""
    write(repo / "params.yaml", b"lr: 1e-3\n")
    mlv("run", "-n", "train", "-p", "params.yaml:lr", "-O", "out.txt", "echo hi > out.txt", cwd=repo)
    lock = (repo / ".gitmlv.lock").read_text()
    assert "params.yaml:lr=0.001" in lock
    # as the old reader's lock holds it: the JSON string "1e-3", in git-config's quoting
    old = lock.replace("param = params.yaml:lr=0.001", 'param = "params.yaml:lr=\\"1e-3\\""')
    assert old != lock
    write(repo / ".gitmlv.lock", old.encode())
    dry = mlv("repro", "--dry-run", cwd=repo).stdout.decode()
    assert "up to date" in dry and "changed" not in dry, dry
