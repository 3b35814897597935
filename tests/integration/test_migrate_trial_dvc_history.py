"""from-dvc --everything on a history with a DVC file DVC itself cannot read in an old commit.

Regression: the error named only the file (``dvc.yaml is not valid YAML: ...``), while HEAD's
dvc.yaml was fine: nothing said which version was at fault. Now the message names the blob and
the `git log --find-object` that lists its commits; nothing moves.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc_env, dvc_repo  # noqa: F401


def test_an_unreadable_old_dvc_yaml_is_named_by_its_version(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "dvc.yaml", b"stages:\n  prep:\n    cmd: echo \"a\"; x: \"b\"\n")  # not YAML
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "broken", cwd=repo)
    first = out(git("rev-parse", "HEAD", cwd=repo)).strip()
    write(repo / "dvc.yaml", b"stages:\n  prep:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "fixed", cwd=repo)
    before = out(git("for-each-ref", cwd=repo))
    proc = mlv("migrate", "from-dvc", "--everything", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "dvc.yaml is not valid YAML" in err and "Traceback" not in err, err
    cmd = err.split("`")[1]
    assert cmd.startswith("git log --all --find-object="), err
    assert first in out(git(*cmd.split()[1:], "--format=%H", cwd=repo)).split()
    assert out(git("for-each-ref", cwd=repo)) == before
