"""migrate from-dvc on dvc.yaml stages DVC generates or fills in (made and read by the real DVC):
foreach/matrix stages are written out (test_migrate_dvc_expand.py), ${...} templating is named in
one error and nothing changes, settings without a git-mlv word are named in the summary."""

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


def _refused_both_ways(repo: Path) -> list[str]:
    """Commit the project, then migrate from-dvc with and without --everything: each must stop with
    one error line and change nothing; the two error lines."""
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "stages", cwd=repo)
    before = out(git("rev-parse", "HEAD", cwd=repo))
    errs = []
    for args in (["migrate", "from-dvc"], ["migrate", "from-dvc", "--everything"]):
        p = mlv(*args, cwd=repo, check=False)
        err = p.stderr.decode()
        assert p.returncode == 1 and err.count("\n") == 1, err
        errs.append(err)
    assert out(git("rev-parse", "HEAD", cwd=repo)) == before
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    return errs


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


def test_templated_stages_are_named(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    """A dvc.yaml stage with `${train.lr}` in its cmd (DVC fills it from params.yaml) was copied as
    it was: the stage was listed as "not up to date" though DVC's repro had just run it, and
    `git mlv repro` ran `python ... ${train.lr}` in sh, which failed with "Bad substitution" after
    deleting the stage's outputs. It is now named and nothing changes; `\\${HOME}` (DVC's
    escape) is not templating."""
    repo = dvc_repo(tmp_path)
    write(repo / "params.yaml", b"train:\n  lr: 0.25\n")
    write(repo / "dvc.yaml", TEMPLATED.encode())
    listed = dvc("stage", "list", cwd=repo)  # DVC itself reads the file
    assert "train" in listed and "seeded" in listed
    for err in _refused_both_ways(repo):
        assert err.startswith("git-mlv: error: dvc.yaml: stages 'train' (${train.lr}), 'seeded' (${seed}) "
                              "use DVC's ${...} templating"), err
        assert "'shell'" not in err


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
