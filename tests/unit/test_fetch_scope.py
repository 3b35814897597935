"""mlv.fetchInclude / mlv.fetchExclude matching (ops/scope.py): git-lfs's meaning, gitignore patterns."""

from __future__ import annotations

import pytest

from git_mlv.ops.scope import FetchScope, filter_oids, split_patterns


def test_split_patterns() -> None:
    assert split_patterns(" data/train/** , *.ckpt,,") == ["data/train/**", "*.ckpt"]
    assert split_patterns("") == [] and split_patterns(None) == []


@pytest.mark.parametrize(("include", "exclude", "path", "chosen"), [
    ([], [], "any/where/x.bin", True),
    (["data/train/**"], [], "data/train/a/b.bin", True),
    (["data/train/**"], [], "data/val/b.bin", False),
    (["data/train"], [], "data/train/a/b.bin", True),  # a folder takes everything under it
    (["train"], [], "data/train/b.bin", True),  # no slash: a name at any depth (gitignore)
    (["/train"], [], "data/train/b.bin", False),  # a leading slash anchors at the root
    (["*.bin"], [], "deep/x.bin", True),
    (["*.bin"], [], "deep/x.bint", False),
    (["images/foo*"], [], "images/foo12.png", True),
    (["images/foo*"], [], "images/sub/foo12.png", False),  # * does not cross a slash
    (["data/"], [], "data/x.bin", True),  # a folder-only pattern takes the folder's files
    (["x.bin/"], [], "x.bin", False),  # ... but never a file of that name
    (["media"], ["media/excessive"], "media/excessive/big.bin", False),  # exclude wins
    (["media"], ["media/excessive"], "media/small.bin", True),
    ([], ["*.ckpt"], "models/last.ckpt", False),
    ([], ["*.ckpt"], "models/last.bin", True),
])
def test_scope(include: list[str], exclude: list[str], path: str, chosen: bool) -> None:
    assert FetchScope(include, exclude)(path) is chosen


def test_filter_oids_keeps_a_version_with_one_path_in_scope() -> None:
    scope = FetchScope(["keep/**"])
    paths = {"a" * 64: ["keep/x.bin", "drop/x.bin"], "b" * 64: ["drop/y.bin", "drop/z.bin"],
             "c" * 64: []}  # no path known (fetch --all): never left out
    kept, left_out = filter_oids(scope, paths)
    assert set(kept) == {"a" * 64, "c" * 64}
    assert left_out == 2
    assert filter_oids(FetchScope(), paths) == (paths, 0)
