"""migrate from-dvc run a second time on a project the real DVC made: a no-op that says so (only so)
and exits 0, with and without --everything."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)


def test_a_second_run_changes_nothing_and_says_so(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "a.bin", b"one\n")
    dvc("add", "-q", "a.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    dry = out(mlv("migrate", "from-dvc", "--dry-run", cwd=repo))  # says where the commit would go
    assert "would add one commit on main (no commit rewritten)" in dry, dry
    assert "New commit" in out(mlv("migrate", "from-dvc", cwd=repo))
    head = out(git("rev-parse", "HEAD", cwd=repo))
    for args in (["migrate", "from-dvc"], ["migrate", "from-dvc", "--dry-run"]):
        p = mlv(*args, cwd=repo, check=False)
        assert p.returncode == 0, p.stderr.decode()
        assert out(p).startswith("Nothing to change: no DVC files left in HEAD")
        assert "Converted" not in out(p) and "Would convert" not in out(p)
    assert out(git("rev-parse", "HEAD", cwd=repo)) == head


def test_a_second_everything_run_changes_nothing_and_says_only_that(tmp_path: Path,
                                                                    dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    for v in (1, 2):
        write(repo / "a.bin", b"version %d\n" % v)
        dvc("add", "-q", "a.bin", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", f"v{v}", cwd=repo)
    assert "refs/heads/main" in out(mlv("migrate", "from-dvc", "--everything", cwd=repo))
    head = out(git("rev-parse", "HEAD", cwd=repo))
    again = out(mlv("migrate", "from-dvc", "--everything", cwd=repo))
    assert again.splitlines()[0] == "Nothing to change: already converted"
    assert "Converted" not in again
    dry = out(mlv("migrate", "from-dvc", "--everything", "--dry-run", cwd=repo))
    assert "would rewrite" not in dry and dry.startswith("Nothing to change")
    # without --everything too: the history kept under refs/mlv-migrate/ had the DVC files
    assert out(mlv("migrate", "from-dvc", cwd=repo)).startswith("Nothing to change")
    assert out(git("rev-parse", "HEAD", cwd=repo)) == head


def test_a_dvc_project_that_tracks_nothing_is_still_an_error(tmp_path: Path,
                                                            dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    p = mlv("migrate", "from-dvc", cwd=repo, check=False)
    assert p.returncode == 1
    assert "no DVC files in HEAD or its history" in p.stderr.decode()
