"""from-dvc, then from-dvc --everything, as the first run's summary advises ("Older commits keep their
.dvc files ... convert them too with --everything before deleting .dvc"): real DVC, real git.

Regression: the rewrite of the first run's commit (it deletes dvc.yaml and writes the stages) found
no DVC stage left and stripped the stages from that commit's .gitmlv and deleted its .gitmlv.lock:
HEAD ended with no pipeline at all, `git mlv repro` said everything was up to date and ran nothing.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)


def test_everything_after_a_head_only_run_keeps_the_pipeline(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "p.txt", b"1\n")
    write(repo / "dvc.yaml", b"stages:\n  s:\n    cmd: cp p.txt o.txt\n    deps: [p.txt]\n"
                             b"    outs: [o.txt]\n")
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    mlv("migrate", "from-dvc", cwd=repo)
    spec, lock = (repo / ".gitmlv").read_bytes(), (repo / ".gitmlv.lock").read_bytes()
    assert b'[stage "s"]' in spec and b"o.txt" in lock
    mlv("migrate", "from-dvc", "--everything", cwd=repo)
    assert git("show", "HEAD:.gitmlv", cwd=repo).stdout == spec
    assert git("show", "HEAD:.gitmlv.lock", cwd=repo).stdout == lock
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    assert git("show", "HEAD~1:.gitmlv", cwd=repo).stdout == spec  # v1 has it too
    assert out(mlv("repro", "--dry-run", cwd=repo)).splitlines() == ["Stage 's' is up to date",
                                                                    "Everything is up to date."]
