"""migrate from-dvc on a dvc.yaml using DVC's ${...} templating (made and run by the real DVC):
values from params.yaml and vars files stay references git-mlv reads at every run, inline vars are
written in, \\${HOME} stays DVC's escape; a pipeline DVC just ran is up to date for git mlv repro,
and a params edit reruns the stage with the new value (docs/migrate.md, "Templating")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)

DVC_YAML = """\
vars:
  - conf/vars.yaml
  - inline:
      name: hello
stages:
  train:
    vars:
      - stage.yaml:tag
    cmd: echo lr=${train.lr} seed=${seed} name=${inline.name} tag=${tag} home=\\${HOME} > ${paths.model}
    deps:
      - conf/vars.yaml
    outs:
      - ${paths.model}
"""


@pytest.mark.parametrize("everything", [False, True])
def test_templated_stage_converts_and_follows_params(tmp_path: Path, dvc_env: Path,  # noqa: F811
                                                     everything: bool) -> None:
    """Refused until 2026-12-04 (an error naming the stage: write the values out first)."""
    repo = dvc_repo(tmp_path)
    write(repo / "params.yaml", b"train:\n  lr: 0.1\n  epochs: 3\npaths:\n  model: model.txt\n")
    write(repo / "conf" / "vars.yaml", b"seed: 7\n")
    write(repo / "stage.yaml", b"tag: v1\nunused: 0\n")
    write(repo / "dvc.yaml", DVC_YAML.encode())
    dvc("repro", "-q", cwd=repo)
    made = (repo / "model.txt").read_text()
    assert made.startswith("lr=0.1 seed=7 name=hello tag=v1 home=/"), made
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "dvc", cwd=repo)

    said = out(mlv("migrate", "from-dvc", *(["--everything"] if everything else []), cwd=repo))
    cmd = out(git("config", "-f", ".gitmlv", "--get", "stage.train.cmd", cwd=repo)).strip()
    assert cmd == ("echo lr=${train.lr} seed=${conf/vars.yaml:seed} name=hello tag=${stage.yaml:tag} "
                   "home=\\${HOME} > model.txt")
    outs = out(git("config", "-f", ".gitmlv", "--get-all", "stage.train.out", cwd=repo)).split()
    assert outs == ["model.txt"]
    assert "${paths.model} written as 'model.txt' (from params.yaml) in its paths and command" in said, said
    lock = (repo / ".gitmlv.lock").read_text()
    for line in ("param = params.yaml:train.lr=0.1", "param = conf/vars.yaml:seed=7",
                 'param = "stage.yaml:tag=\\"v1\\""'):
        assert line in lock, lock
    assert "Everything is up to date." in out(mlv("repro", cwd=repo))
    # the output whose path comes from params.yaml is data in the commit (with --everything, the
    # history's survey found it too: before, it had no .gitattributes line and went into git whole)
    assert "/model.txt filter=mlv" in (repo / ".gitattributes").read_text()
    assert out(git("cat-file", "-p", "HEAD:model.txt", cwd=repo)).startswith("version https://git-mlv")

    write(repo / "params.yaml", b"train:\n  lr: 0.1\n  epochs: 9\npaths:\n  model: model.txt\n")
    assert "Everything is up to date." in out(mlv("repro", cwd=repo))  # a key the cmd does not name
    write(repo / "params.yaml", b"train:\n  lr: 0.5\n  epochs: 9\npaths:\n  model: model.txt\n")
    ran = out(mlv("repro", cwd=repo))
    assert "Running stage 'train': echo lr=0.5 seed=7 name=hello tag=v1 home=${HOME} > model.txt" in ran
    assert (repo / "model.txt").read_text() == made.replace("lr=0.1", "lr=0.5")
