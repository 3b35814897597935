"""gitio.pathmatch decides like git: every pattern x path pair against `git check-attr`."""

from __future__ import annotations

from pathlib import Path

from git_mlv.gitio.pathmatch import PathFilter, matches
from tests.helpers import git

PATTERNS = ["*.bin", "data/**", "/top.bin", "a/*.csv", "**/x.h5", "a/**/b", "[ab]?.txt",
            "file[[:space:]]name", "d/", "*.[!c]sv", "\\*.lit", "data", "sub/data/*", "**/deep/**"]
PATHS = ["x.bin", "a/x.bin", "data/a", "data/a/b.csv", "data", "top.bin", "q/top.bin", "a/c.csv",
         "a/b/c.csv", "x.h5", "q/r/x.h5", "a/b", "a/q/r/b", "ab", "aq.txt", "q/bq.txt", "file name", "d",
         "d/e", "z.tsv", "z.csv", "*.lit", "x.lit", "sub/data/f", "sub/data/g/h", "p/deep/q/r", "deep/f"]


def test_same_answers_as_git(tmp_path: Path) -> None:
    git("init", "-q", cwd=tmp_path)
    for pat in PATTERNS:
        (tmp_path / ".gitattributes").write_text(f"{pat} mark=yes\n")
        raw = git("check-attr", "-z", "mark", "--", *PATHS, cwd=tmp_path).stdout.split(b"\0")
        for i, path in enumerate(PATHS):
            assert matches(pat, path) == (raw[i * 3 + 2] == b"yes"), (pat, path)


def test_include_and_exclude() -> None:
    chosen = PathFilter(["*.bin", "data/**"], ["data/small/**"])
    assert chosen("m.bin") and chosen("data/x.csv")
    assert not chosen("data/small/x.csv") and not chosen("readme.md")
