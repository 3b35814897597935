"""`git mlv gc --remote` from a clone that has not fetched a teammate's branch (found trying a
team's workflow): the branch's data looked dead and was deleted from the data remote once older
than the grace period, so a clone of the branch got pointers; the teammate's own later pushes,
trusting what they had verified there, did not send it again. gc now refuses until the clone has
fetched every branch and tag of its git remotes."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, one_error_line, origin_and_store, random_bytes, write


def test_gc_remote_refuses_until_a_teammates_branch_is_fetched(repo: Path, tmp_path: Path) -> None:
    origin = origin_and_store(repo, tmp_path)
    git("push", "-q", "origin", "main", cwd=repo)
    stale = tmp_path / "stale"
    git("clone", "-q", str(origin), str(stale), cwd=tmp_path)  # before the branch exists
    git("checkout", "-q", "-b", "feature", cwd=repo)
    data = random_bytes(60_000, seed=7)
    write(repo / "feat.bin", data)
    git("add", "feat.bin", cwd=repo)
    git("commit", "-q", "-m", "feature data", cwd=repo)
    git("push", "-q", "origin", "feature", cwd=repo)

    for args in (["--dry-run"], []):
        err = one_error_line(mlv("gc", "--remote", "store", "--grace-hours", "0", *args, cwd=stale,
                                 check=False), 2)
        assert "'origin' has 1 branch or tag tip(s) no ref here reaches" in err
        assert "refs/heads/feature" in err and "git fetch --all --tags" in err

    git("fetch", "-q", "--all", cwd=stale)
    mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=stale)
    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "feature", str(origin), str(clone), cwd=tmp_path)
    assert (clone / "feat.bin").read_bytes() == data


def test_gc_remote_refuses_when_a_git_remote_cannot_be_listed(repo: Path, tmp_path: Path) -> None:
    origin_and_store(repo, tmp_path)
    git("push", "-q", "origin", "main", cwd=repo)
    git("remote", "add", "old", str(tmp_path / "gone.git"), cwd=repo)
    err = one_error_line(mlv("gc", "--remote", "store", cwd=repo, check=False), 2)
    assert "could not list those of 'old'" in err and "git remote remove old" in err
    git("remote", "remove", "old", cwd=repo)
    mlv("gc", "--remote", "store", cwd=repo)
