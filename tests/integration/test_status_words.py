"""`git mlv status` as a new user tries it: limited to PATHs like `git status PATH` (it took none),
and honest when the remote could not be asked (a folder remote whose share is not mounted was
answered silently from the cached listing, "Everything is in place and on remote 'store'")."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.helpers import commit_all, mlv, out, random_bytes, write


def _two_folders(repo: Path) -> None:
    write(repo / "data" / "a.bin", random_bytes(20_000, 1))
    write(repo / "other" / "b.bin", random_bytes(20_000, 2))
    commit_all(repo, "two folders")
    write(repo / "data" / "a.bin", random_bytes(20_000, 3))
    write(repo / "other" / "b.bin", random_bytes(20_000, 4))


def test_status_looks_only_at_the_paths_given(repo: Path) -> None:
    _two_folders(repo)
    st = json.loads(out(mlv("status", "--json", "--no-remote", "data", cwd=repo)))
    assert st["files"] == 1 and st["modified"] == ["data/a.bin"]
    st = json.loads(out(mlv("status", "--json", "--no-remote", cwd=repo)))
    assert st["files"] == 2 and st["modified"] == ["data/a.bin", "other/b.bin"]
    # relative to where it is typed, as git's paths
    st = json.loads(out(mlv("status", "--json", "--no-remote", "b.bin", cwd=repo / "other")))
    assert st["modified"] == ["other/b.bin"]
    st = json.loads(out(mlv("status", "--json", "--no-remote", ".", cwd=repo / "other")))
    assert st["files"] == 1 and st["modified"] == ["other/b.bin"]
    proc = mlv("status", "nope", cwd=repo, check=False)
    err = proc.stderr.decode().strip()
    assert proc.returncode == 2 and "'nope'" in err and "\n" not in err, err


def _age_listing(repo: Path, name: str, seconds: float) -> None:
    """Make the cached listing of remote ``name`` look ``seconds`` old (status lists the remote
    again only when its listing is older than a minute)."""
    listed = repo / ".git" / "mlv" / "remotes" / name / "listed"
    then = time.time() - seconds
    os.utime(listed, (then, then))


def test_status_says_when_the_remote_could_not_be_asked(repo: Path, tmp_path: Path) -> None:
    share = tmp_path / "mnt" / "store"
    mlv("remote", "add", "store", str(share), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, 5))
    commit_all(repo, "a")
    mlv("push", cwd=repo)
    assert "Everything is in place and on remote 'store'" in out(mlv("status", cwd=repo))

    share.rename(tmp_path / "mnt" / "moved")  # the share is not mounted
    _age_listing(repo, "store", 2 * 3600)
    text = out(mlv("status", cwd=repo))
    assert "Remote 'store' could not be asked" in text and "does not exist" in text, text
    assert "2 hours ago" in text and "on remote 'store' by that listing" in text, text

    write(repo / "b.bin", random_bytes(30_000, 6))
    commit_all(repo, "b")  # not pushed: the cached listing still knows it is not there
    st = json.loads(out(mlv("status", "--json", cwd=repo)))
    assert st["not_on_remote"] == ["b.bin"] and "does not exist" in st["remote_problem"]

    (tmp_path / "mnt" / "moved").rename(share)
    _age_listing(repo, "store", 2 * 3600)
    st = json.loads(out(mlv("status", "--json", cwd=repo)))
    assert st["remote_problem"] is None and st["not_on_remote"] == ["b.bin"]


def test_data_missing_without_a_data_remote_is_not_sent_to_pull(repo: Path) -> None:
    """With no data remote, `git mlv pull` can only fail: status says so instead of advising it
    (found by a user after deleting .git/mlv)."""
    import shutil

    from tests.helpers import git

    write(repo / "data" / "a.bin", random_bytes(20_000, 5))
    commit_all(repo, "data")
    shutil.rmtree(repo / ".git" / "mlv")
    (repo / "data" / "a.bin").unlink()
    git("checkout", "--", "data", cwd=repo)
    text = out(mlv("status", cwd=repo))
    assert "no data remote to fetch it from" in text and "git mlv pull" not in text
