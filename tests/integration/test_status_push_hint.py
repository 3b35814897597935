"""`git mlv status` names commits whose data the data remote lacks, and what sends it. It said
"`git push` or `git mlv push --all` sends it", which is false when the git remote has those
commits already (pushed with --no-verify, with mlv.pushFailOk while the data remote was down, or
before a data remote was added): git then says "Everything up-to-date" and never runs the
pre-push hook, so nothing is sent. It now names `git mlv push --all`, which does send it.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write

UNPUSHED = "Commits whose data is not all on remote 'store'"


def test_the_hint_for_commits_already_on_the_git_remote_sends_their_data(repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    write(repo / "a.bin", random_bytes(20_000, seed=1))
    commit_all(repo, "data")
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)  # the commits go, no data
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)

    text = out(mlv("status", "--no-remote", cwd=repo)) + out(mlv("status", cwd=repo))
    assert UNPUSHED in text, text
    assert "`git push`" not in text, text  # git would say "Everything up-to-date", send nothing
    assert "(1 file(s); `git mlv push --all` sends it)" in text, text
    p = git("push", "origin", "main", cwd=repo)
    assert b"Everything up-to-date" in p.stderr, p.stderr
    assert UNPUSHED in out(mlv("status", cwd=repo))  # indeed: still not sent

    mlv("push", "--all", cwd=repo)  # what the line says
    text = out(mlv("status", cwd=repo))
    assert UNPUSHED not in text and "Everything is in place and on remote 'store'" in text, text
