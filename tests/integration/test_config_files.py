"""Files git and git-mlv read as text from trees are never stored as pointers (docs/pointer-spec.md,
rule 12), even under a pattern that matches everything: `git mlv track '**'` made .gitattributes
itself a pointer, and a clone then knew of no filter at all (found trying the CLI as a new user)."""

from __future__ import annotations

from pathlib import Path

from git_mlv.core.pointer import Pointer
from tests.helpers import commit_all, git, mlv, random_bytes, write


def test_track_everything_keeps_the_config_files_as_text(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    mlv("track", "**", cwd=repo)
    data = random_bytes(40_000, seed=7)
    write(repo / "a.bin", data)
    write(repo / ".gitignore", b"*.tmp\n")
    write(repo / "sub" / ".gitattributes", b"*.txt text\n")
    write(repo / "sub" / "b.txt", b"hello\n")
    commit_all(repo, "everything tracked")

    def blob(path: str) -> bytes:
        return git("cat-file", "blob", f"HEAD:{path}", cwd=repo).stdout

    for path in (".gitattributes", ".gitignore", "sub/.gitattributes"):
        assert blob(path) == (repo / path).read_bytes(), path  # the text itself
    assert Pointer.try_parse(blob("a.bin")) is not None
    assert Pointer.try_parse(blob("sub/b.txt")) is not None  # everything else is ours

    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    assert (clone / ".gitattributes").read_bytes() == (repo / ".gitattributes").read_bytes()
    attr = git("check-attr", "filter", "a.bin", cwd=clone).stdout
    assert attr.strip().endswith(b"filter: mlv")  # the clone knows what to smudge


def test_add_tracks_exactly_the_paths_named(repo: Path) -> None:
    """`git mlv add FILE` tracks that file, not every file of that name in any folder; a folder,
    everything under it; the top, everything (rule 12 still keeps .gitattributes as text)."""
    for path in ("m.dat", "sub/m.dat", "d/x.dat", "d/e/y.dat", "other.dat"):
        write(repo / path, random_bytes(3_000, seed=len(path)))
    mlv("add", "m.dat", "d", cwd=repo)

    def ours(path: str) -> bool:
        return git("check-attr", "filter", path, cwd=repo).stdout.strip().endswith(b"mlv")

    assert ours("m.dat") and ours("d/x.dat") and ours("d/e/y.dat")
    assert not ours("sub/m.dat") and not ours("other.dat")
    staged = git("diff", "--cached", "--name-only", cwd=repo).stdout.decode().split()
    assert sorted(staged) == [".gitattributes", "d/e/y.dat", "d/x.dat", "m.dat"]
    mlv("add", ".", cwd=repo)
    assert ours("sub/m.dat") and ours("other.dat")
    git("commit", "-q", "-m", "all", cwd=repo)
    assert git("cat-file", "blob", "HEAD:.gitattributes", cwd=repo).stdout == (
        repo / ".gitattributes").read_bytes()


def test_add_takes_names_with_glob_characters_literally(repo: Path) -> None:
    """`git mlv add 'd/a[1].dat'` wrote the pattern `d/a[1].dat`, which matches `d/a1.dat` and not
    the file itself, and `git add` took the name as a glob too: the named file went into git whole
    and its neighbour was staged as data (found trying odd file names as a new user)."""
    names = ["d/a[1].dat", "d/x*y.dat", "#h/q.dat", "!top.dat"]
    for i, path in enumerate(names + ["d/a1.dat", "d/xzy.dat"]):
        write(repo / path, random_bytes(3_000, seed=100 + i))
    mlv("add", *names, cwd=repo)
    attrs = git("check-attr", "filter", "--", *names, "d/a1.dat", "d/xzy.dat", cwd=repo).stdout.decode()
    assert [line.rsplit(": ", 1)[1] for line in attrs.splitlines()] == ["mlv"] * 4 + ["unspecified"] * 2
    staged = git("diff", "--cached", "--name-only", "-z", cwd=repo).stdout.decode().split("\0")
    assert sorted(p for p in staged if p) == sorted([".gitattributes", *names])
    git("commit", "-q", "-m", "odd names", cwd=repo)
    for path in names:  # pointers in git, the bytes in the worktree
        assert Pointer.try_parse(git("cat-file", "blob", f"HEAD:{path}", cwd=repo).stdout) is not None
