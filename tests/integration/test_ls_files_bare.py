"""`git mlv ls-files REV` in a bare repository (a server's, a mirror): it answers from the commit's
tree and the pool, which a bare repository has. Before, it refused with "this command needs a work
tree" (or, run in the repository's folder, took REV `HEAD` for the file HEAD there: "'HEAD' is both
a revision and a path"). Without REV there is no index to list: one line saying to name a commit."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def _bare(repo: Path, tmp_path: Path) -> Path:
    write(repo / "a.bin", random_bytes(70_000, 1))
    write(repo / "data" / "sub" / "b.csv", b"x,y\n1,2\n")
    write(repo / "plain.txt", b"not tracked by git-mlv\n")
    commit_all(repo, "one")
    git("tag", "v1", cwd=repo)
    bare = tmp_path / "bare.git"
    git("clone", "-q", "--bare", str(repo), str(bare), cwd=tmp_path)
    return bare


def test_ls_files_of_a_revision_in_a_bare_repository(repo: Path, tmp_path: Path) -> None:
    bare = _bare(repo, tmp_path)
    text = out(mlv("ls-files", "HEAD", cwd=bare))  # run where the file HEAD is: still a revision
    assert text == out(mlv("ls-files", "HEAD", cwd=repo)).replace(" * ", " - "), text  # no data yet
    assert [line.split()[-1] for line in text.splitlines()] == ["a.bin", "data/sub/b.csv"]
    # paths are the repository's own there; presence comes from the pool (here a shared one)
    git("config", "mlv.pool", str(repo / ".git" / "mlv"), cwd=bare)
    rows = json.loads(out(mlv("ls-files", "v1", "data/sub", "--json", cwd=bare)))
    assert [(r["path"], r["size"], r["present"]) for r in rows] == [("data/sub/b.csv", 8, True)]
    assert out(mlv("ls-files", "v1", cwd=bare)) == out(mlv("ls-files", "v1", cwd=repo))


def test_ls_files_without_a_revision_in_a_bare_repository_says_to_name_one(repo: Path,
                                                                          tmp_path: Path) -> None:
    bare = _bare(repo, tmp_path)
    for words, said in (((), "name a commit"), (("nope",), "'nope' names no commit here"),
                        (("HEAD", "nope"), "`git mlv ls-files HEAD` lists them"),
                        (("HEAD", "../x"), "outside the repository")):
        proc = mlv("ls-files", *words, cwd=bare, check=False)
        err = proc.stderr.decode()
        assert proc.returncode == 2 and err.count("\n") == 1 and said in err, (words, err)
        assert proc.stdout == b""
