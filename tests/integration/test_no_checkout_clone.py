"""`git clone --no-checkout`, then `git checkout main -- data` (only some files): the index and the
work tree then have no .gitattributes, git knows no tracked pattern and writes the data files as
pointer text. `git mlv status` listed them as "outside every tracked pattern" and said to track
their pattern again (`git mlv track '*.bin'`): a new .gitattributes beside the one HEAD has. It
now says that HEAD's .gitattributes is not checked out and how to bring it."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def test_status_says_the_gitattributes_is_not_checked_out(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(30_000, 1))
    commit_all(repo, "v1")
    mlv("push", "--all", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "--no-checkout", str(repo), str(clone), cwd=tmp_path)
    git("checkout", "main", "--", "data", cwd=clone)
    assert (clone / "data" / "a.bin").read_bytes().startswith(b"version ")

    text = out(mlv("status", cwd=clone))
    assert "Pointers outside every tracked pattern" in text and "data/a.bin" in text, text
    assert "`git checkout HEAD -- .gitattributes`" in text and "git mlv track" not in text, text
    git("checkout", "HEAD", "--", ".gitattributes", cwd=clone)
    mlv("pull", cwd=clone)
    assert (clone / "data" / "a.bin").read_bytes() == random_bytes(30_000, 1)
    assert git("status", "--porcelain", "--", "data", ".gitattributes", cwd=clone).stdout == b""


def test_a_pattern_dropped_still_gets_the_track_hint(repo: Path) -> None:
    write(repo / "data" / "a.bin", random_bytes(30_000, 2))
    commit_all(repo, "v1")
    mlv("untrack", "data/**", "*.bin", cwd=repo)
    (repo / "data" / "a.bin").unlink()
    git("checkout", "--", "data/a.bin", cwd=repo)
    text = out(mlv("status", "--no-remote", cwd=repo))
    assert "git mlv track '*.bin'" in text and ".gitattributes` brings it" not in text, text
