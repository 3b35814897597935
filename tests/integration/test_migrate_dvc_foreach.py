"""migrate from-dvc on dvc.yaml stages DVC generates or fills in (made and read by the real DVC):
foreach/matrix stages are written out (test_migrate_dvc_expand.py), ${...} templating is
converted (test_migrate_dvc_templating.py), settings without a git-mlv word are named in the summary."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)

GENERATED = """\
stages:
  s:
    foreach: [a, b]
    do:
      cmd: echo ${item} > ${item}.txt
      outs:
        - ${item}.txt
  m:
    matrix:
      x: [1, 2]
    cmd: echo ${item.x} > m${item.x}.txt
    outs:
      - m${item.x}.txt
  plain:
    cmd: echo hi > plain.txt
    outs:
      - plain.txt
"""


def test_foreach_and_matrix_stages_convert_beside_plain_ones(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    """Refused until 2026-12-04 (write each item out first); now written out as plain stages,
    named after DVC's s@a, m@1 (test_migrate_dvc_expand.py has the details)."""
    repo = dvc_repo(tmp_path)
    write(repo / "dvc.yaml", GENERATED.encode())
    listed = dvc("stage", "list", cwd=repo)  # DVC itself reads them: s@a, s@b, m@1 ...
    assert "s@a" in listed and "m@2" in listed and "plain" in listed
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "stages", cwd=repo)
    out(mlv("migrate", "from-dvc", cwd=repo))
    names = out(mlv("stage", "list", cwd=repo))
    for name in ("s-a", "s-b", "m-1", "m-2", "plain"):
        assert name in names, names
    cmd = out(git("config", "-f", ".gitmlv", "--get", "stage.m-2.cmd", cwd=repo))
    assert cmd.strip() == "echo 2 > m2.txt"


TEMPLATED = """\
vars:
  - seed: 3
stages:
  train:
    cmd: python -c "import sys; open('model.txt', 'w').write(sys.argv[1])" ${train.lr}
    params:
      - train.lr
    outs:
      - model.txt
  shell:
    cmd: echo \\${HOME} > home.txt
    outs:
      - home.txt
  seeded:
    cmd: echo seeded > seed.txt
    outs:
      - seed${seed}.txt
"""


def test_templated_stages_are_converted(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    """A dvc.yaml stage with `${train.lr}` in its cmd (DVC fills it from params.yaml) was copied as
    it was: `git mlv repro` ran `python ... ${train.lr}` in sh, which failed with "Bad substitution".
    It was then refused (an error naming the stage); since 2026-12-04 it is converted: the cmd keeps
    a reference git-mlv reads at every run, an inline var is written in, `\\${HOME}` (DVC's escape)
    stays one (test_migrate_dvc_templating.py runs such a pipeline)."""
    repo = dvc_repo(tmp_path)
    write(repo / "params.yaml", b"train:\n  lr: 0.25\n")
    write(repo / "dvc.yaml", TEMPLATED.encode())
    listed = dvc("stage", "list", cwd=repo)  # DVC itself reads the file
    assert "train" in listed and "seeded" in listed
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "stages", cwd=repo)
    out(mlv("migrate", "from-dvc", cwd=repo))

    def get(key: str) -> str:
        return out(git("config", "-f", ".gitmlv", "--get", key, cwd=repo)).strip()

    assert get("stage.train.cmd").endswith("sys.argv[1])\" ${train.lr}")
    assert get("stage.shell.cmd") == "echo \\${HOME} > home.txt"
    assert get("stage.seeded.out") == "seed3.txt"


DROPPED = """\
stages:
  resume:
    cmd: echo step >> ckpt.txt
    outs:
      - ckpt.txt:
          persist: true
  pinned:
    frozen: true
    cmd: echo pinned > pinned.txt
    outs:
      - pinned.txt
  clock:
    always_changed: true
    cmd: date > clock.txt
    outs:
      - clock.txt
  plain:
    cmd: echo hi > plain.txt
    outs:
      - plain.txt
"""


def test_settings_without_a_git_mlv_word_are_named(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    """persist, frozen and always_changed were dropped without a word: after the migration
    `git mlv repro` deleted the persisted output before the run (a resumed training started over),
    reran the frozen stage and never reran the always-changed one. The summary now names each."""
    repo = dvc_repo(tmp_path)
    write(repo / "dvc.yaml", DROPPED.encode())
    assert "resume" in dvc("stage", "list", cwd=repo)  # DVC itself reads the file
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "stages", cwd=repo)
    for args in (["migrate", "from-dvc", "--dry-run"], ["migrate", "from-dvc"]):
        lines = [x for x in out(mlv(*args, cwd=repo)).splitlines() if x.startswith("Not converted, ")]
        assert lines == [
            "Not converted, dvc.yaml: stage 'resume': persist: ckpt.txt is deleted before each run",
            "Not converted, dvc.yaml: stage 'pinned': frozen: it is run when stale",
            "Not converted, dvc.yaml: stage 'clock': always_changed: it is run only when stale"]
