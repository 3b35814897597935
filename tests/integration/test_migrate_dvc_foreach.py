"""migrate from-dvc on a dvc.yaml with foreach and matrix stages (made and read by the real DVC): the
error docs/migrate.md promises, naming them and saying to write each item out as a plain stage."""

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


def test_foreach_and_matrix_stages_are_named(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "dvc.yaml", GENERATED.encode())
    listed = dvc("stage", "list", cwd=repo)  # DVC itself reads them: s@a, s@b, m@x1 ...
    assert "s@a" in listed and "plain" in listed
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "stages", cwd=repo)
    before = out(git("rev-parse", "HEAD", cwd=repo))
    for args in (["migrate", "from-dvc"], ["migrate", "from-dvc", "--everything"]):
        p = mlv(*args, cwd=repo, check=False)
        err = p.stderr.decode()
        assert p.returncode == 1 and err.count("\n") == 1, err
        assert err.startswith("git-mlv: error: dvc.yaml: stages 's', 'm' use foreach/matrix")
        assert "write each item out as a plain stage" in err
        assert "has no cmd" not in err
    assert out(git("rev-parse", "HEAD", cwd=repo)) == before
    assert out(git("status", "--porcelain", cwd=repo)) == ""
