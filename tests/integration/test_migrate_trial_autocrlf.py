"""from-lfs with core.autocrlf=true (Git for Windows' default): the checked-out .gitattributes files
end their lines with CRLF.

Regression: compared byte for byte with git's blobs they read as edits of the user's: the work
tree's .gitattributes files were "left as they are" with git-lfs's lines, so git status showed them
modified, the data files stayed routed to git-lfs (`git commit -a` stored git-lfs pointers again);
and since the check for uncommitted edits, the migration refused to start. A file is now compared
as git would store it (git hash-object --path) when its bytes differ.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, random_bytes, write


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_crlf_checkouts_are_converted(tmp_path: Path, mode: list[str]) -> None:
    assert shutil.which("git-lfs"), "git-lfs is not installed (apt-get install git-lfs; .ci/run does)"
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    git("lfs", "install", "--local", cwd=repo)
    git("lfs", "track", "*.bin", cwd=repo)
    (repo / "a").mkdir()
    git("lfs", "track", "b/*.dat", cwd=repo / "a")
    write(repo / "m.bin", random_bytes(3000, seed=1))
    write(repo / "a" / "b" / "x.dat", random_bytes(2000, seed=2))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "c1", cwd=repo)
    git("config", "core.autocrlf", "true", cwd=repo)
    for f in (".gitattributes", "a/.gitattributes"):
        (repo / f).unlink()
    git("checkout", "--", ".", cwd=repo)
    assert (repo / "a" / ".gitattributes").read_bytes().endswith(b"-text\r\n")
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    res = mlv("migrate", "from-lfs", *mode, cwd=repo)
    assert "left as it is" not in res.stderr.decode(), res.stderr.decode()
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    attrs = out(git("check-attr", "filter", "m.bin", "a/b/x.dat", cwd=repo)).strip()
    assert attrs == "m.bin: filter: mlv\na/b/x.dat: filter: mlv", attrs
    assert (repo / "a" / "b" / "x.dat").read_bytes() == random_bytes(2000, seed=2)
