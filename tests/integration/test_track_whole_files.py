"""`git mlv track` said "Files already committed stay as they are until re-added" after every new
pattern, whether or not a file matched it (a new user tracking "*.csv" in a repository without
one was told to renormalize). It names the files git holds whole that the patterns now route
through the filter, and says nothing when there are none."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write

LINE = "match the tracked patterns and stay so until re-added"


def test_track_names_the_files_git_holds_whole(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    git("init", "-q", str(repo), cwd=tmp_path)
    mlv("install", cwd=repo)
    write(repo / "sub" / "b.dat", random_bytes(5000, seed=3))
    write(repo / "c.dat", b"labels\n")
    write(repo / "empty.dat", b"")  # stays empty as data too
    os.symlink("sub/b.dat", repo / "link.dat")  # git keeps a link as a link
    write(repo / "notes.txt", b"text\n")
    commit_all(repo, "plain git")

    text = out(mlv("track", "*.dat", cwd=repo))
    assert f"2 file(s) git holds whole {LINE} (e.g. c.dat): `git add --renormalize .`" in text, text

    git("add", "--renormalize", ".", cwd=repo)
    commit_all(repo, "as data")
    for name in ("c.dat", "sub/b.dat"):
        assert git("cat-file", "-p", f"HEAD:{name}", cwd=repo).stdout.startswith(b"version https://git-mlv")
    text = out(mlv("track", "*.csv", cwd=repo))
    assert "Tracking" in text and LINE not in text and "renormalize" not in text, text

    write(repo / "t.csv", random_bytes(3000, seed=4))
    git("add", "t.csv", cwd=repo)  # staged as data: already a pointer
    assert LINE not in out(mlv("track", "*.parquet", cwd=repo))
