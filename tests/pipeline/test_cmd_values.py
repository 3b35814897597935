"""``${KEY}`` and ``${FILE:KEY}`` in a stage's cmd (docs/pipelines.md, "Values from parameter files in
cmd"): read at every run, each key a parameter of the stage, ``\\${`` left to the shell."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.helpers import commit_all, mlv, one_error_line, write


def failed_line(repo: Path) -> str:
    """The error line of a `repro` that failed a stage (exit 1, no traceback)."""
    p = mlv("repro", cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode == 1 and "Traceback" not in err, err
    return err.splitlines()[-1]

CMD = r"echo lr=${train.lr} opt=${conf/opt.json:name} home=\${HOME} > out.txt"


def test_a_templated_cmd_runs_with_the_current_values(repo: Path) -> None:
    write(repo / "params.yaml", b"train:\n  lr: 0.1\n  epochs: 3\nother: 1\n")
    write(repo / "conf" / "opt.json", b'{"name": "adam", "flag": true}')
    mlv("run", "-n", "train", "-o", "out.txt", CMD, cwd=repo)
    # \${HOME} reached the shell, which expanded it
    assert (repo / "out.txt").read_text() == f"lr=0.1 opt=adam home={os.environ['HOME']}\n"
    lock = (repo / ".gitmlv.lock").read_text()
    assert "param = params.yaml:train.lr=0.1" in lock
    assert 'param = "conf/opt.json:name=\\"adam\\""' in lock
    assert "${train.lr}" in lock  # the lock keeps the cmd as written
    commit_all(repo, "v1")

    # another key of the file: nothing to run
    write(repo / "params.yaml", b"train:\n  lr: 0.1\n  epochs: 4\nother: 2\n")
    assert "Everything is up to date." in mlv("repro", cwd=repo).stdout.decode()

    # the value the cmd names: stale, and it runs with the new value
    write(repo / "params.yaml", b"train:\n  lr: 0.25\n  epochs: 4\nother: 2\n")
    assert "param params.yaml:train.lr changed" in mlv("repro", "--dry-run", cwd=repo).stdout.decode()
    diff = json.loads(mlv("params", "diff", "--json", cwd=repo).stdout)
    assert any("train.lr" in json.dumps(row) and "0.25" in json.dumps(row) for row in diff), diff
    ran = mlv("repro", cwd=repo).stdout.decode()
    assert "Running stage 'train': echo lr=0.25 opt=adam home=${HOME} > out.txt" in ran
    assert (repo / "out.txt").read_text().startswith("lr=0.25 opt=adam home=/")
    assert "param = params.yaml:train.lr=0.25" in (repo / ".gitmlv.lock").read_text()
    assert "Everything is up to date." in mlv("repro", cwd=repo).stdout.decode()


def test_a_reference_that_names_nothing_is_one_clear_line(repo: Path) -> None:
    write(repo / "params.yaml", b"train:\n  lr: 0.1\n")

    def stage(cmd: str) -> None:
        mlv("stage", "add", "-f", "-n", "train", "-o", "out.txt", cmd, cwd=repo)

    stage("echo ${train.lrr} > out.txt")
    line = failed_line(repo)
    assert "stage 'train' failed: ${train.lrr} in its cmd: no parameter 'train.lrr' in params.yaml" in line
    assert line.endswith("(for the shell's own variable, write \\${train.lrr})")
    stage("echo ${HOME} > out.txt")  # the shell's variable, as a cmd written before ${...} meant it
    assert failed_line(repo).endswith("no parameter 'HOME' in params.yaml (for the shell's own variable, "
                                      "write \\${HOME})")
    stage("echo ${nofile.yaml:x} > out.txt")
    line = one_error_line(mlv("repro", cwd=repo, check=False), 1)
    assert "${nofile.yaml:x} in its cmd reads 'nofile.yaml', which does not exist" in line
    stage("echo ${train} > out.txt")
    line = failed_line(repo)
    assert "${train} in its cmd is a mapping" in line
    line = one_error_line(mlv("stage", "add", "-f", "-n", "train", "-o", "out.txt", "echo ${a b}",
                              cwd=repo, check=False), 2)
    assert "${a b} is not ${KEY} or ${FILE:KEY}" in line
    assert not (repo / "out.txt").exists()
