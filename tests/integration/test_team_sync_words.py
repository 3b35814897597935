"""Options anywhere among the words of push, fetch and pull, as git takes them.

Regression: argparse stopped collecting the remote/revision/path words at the first option, so
`git mlv pull store -q data/`, `git mlv push store -q HEAD` and `git mlv fetch store --all HEAD`
ended in "unrecognized arguments" (the last one must say: revisions or --all, not both).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, sha256_file, write


def test_options_between_the_words(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for name in ("data/a.bin", "data/b.bin", "c.bin"):
        write(repo / name, random_bytes(20_000, seed=len(name) + ord(name[-5])))
    commit_all(repo, "one")
    res = json.loads(mlv("push", "store", "--json", "HEAD", cwd=repo).stdout)
    assert res["files"] == 3 and res["uploaded_files"] == 3, res

    clone = tmp_path / "clone"
    git("-c", "filter.mlv.process=", "-c", "filter.mlv.smudge=cat", "-c", "filter.mlv.required=false",
        "-c", "core.hooksPath=/dev/null", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    res = json.loads(mlv("fetch", "store", "--json", "HEAD", "-X", "c.bin", cwd=clone).stdout)
    assert res["fetched"] == 2, res
    mlv("pull", "store", "-q", "data/", cwd=clone)
    assert sha256_file(clone / "data" / "a.bin") == sha256_file(repo / "data" / "a.bin")
    assert (clone / "c.bin").read_bytes().startswith(b"version ")  # not under data/

    proc = mlv("fetch", "store", "--all", "HEAD", cwd=clone, check=False)
    assert proc.returncode == 2 and "give revisions or --all, not both" in proc.stderr.decode(), proc


def test_a_git_remote_name_is_not_taken_for_a_revision(repo: Path, tmp_path: Path) -> None:
    """`git mlv push origin` (git's habit) read 'origin' as the revision origin/HEAD: it pushed the
    data of that commit, not of HEAD, and said the remote had it all."""
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(20_000, seed=1))
    commit_all(repo, "one")
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    git("-c", "mlv.pushFailOk=true", "push", "-q", "-u", "origin", "main", cwd=repo)
    git("remote", "set-head", "origin", "main", cwd=repo)
    write(repo / "b.bin", random_bytes(20_000, seed=2))
    commit_all(repo, "two, not pushed anywhere")
    for verb in ("push", "fetch", "pull"):
        proc = mlv(verb, "origin", cwd=repo, check=False)
        err = proc.stderr.decode()
        want = "'origin' is a git remote, not a data remote (data remotes: store)"
        assert proc.returncode == 2 and want in err, (verb, err)
    res = json.loads(mlv("push", "--json", cwd=repo).stdout)
    assert res["uploaded_files"] == 1, res  # b.bin: HEAD's data, which `push origin` never sent
