"""A pointer committed at a path no tracked pattern covers (a data file renamed to an untracked
name, a pattern dropped) is checked out by git as pointer text, without our filter.

Regression: a clone's post-checkout hook took it for a pointer the filter had left, wrote its data
and re-staged it; git hashed that data without a filter, so the clone had the raw data staged over
the pointer (`git commit` would have put it into git) while `git mlv status` said all was in
place. The hooks, `git mlv checkout` and `pull` now leave such a pointer as git wrote it, and
`git mlv status` names it with what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, sha256_file, write

HEAD = b"version https://git-mlv.dev/spec/v1\n"
HOOKS = ("pre-push", "post-checkout", "post-merge")


def _pushed_with_renames(repo: Path, tmp_path: Path, renamed: list[str], kept: list[str]) -> Path:
    """Commit data files, rename ``renamed`` (.bin) to .dat (outside every pattern), push commits
    and data; returns the bare repository."""
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for i, name in enumerate(renamed + kept):
        write(repo / f"{name}.bin", random_bytes(3000 + i, seed=70 + i))
    commit_all(repo, "data")
    for name in renamed:
        git("mv", f"{name}.bin", f"{name}.dat", cwd=repo)
    git("commit", "-q", "-m", "rename", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    return origin


def _clone(origin: Path, tmp_path: Path, name: str = "clone") -> tuple[Path, str]:
    clone = tmp_path / name
    proc = git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    return clone, proc.stderr.decode()


def test_clone_leaves_pointer_outside_patterns_as_text_and_status_says_so(
        repo: Path, tmp_path: Path) -> None:
    origin = _pushed_with_renames(repo, tmp_path, ["a"], ["b"])
    clone, err = _clone(origin, tmp_path)
    assert git("status", "--porcelain", cwd=clone).stdout == b""  # nothing staged, nothing modified
    assert (clone / "a.dat").read_bytes().startswith(HEAD)  # as git checked it out
    assert sha256_file(clone / "b.bin") == sha256_file(repo / "b.bin")  # data files still come
    assert "'a.dat' is a git-mlv pointer outside every tracked pattern" in err, err

    text = out(mlv("status", cwd=clone))
    assert "Everything is in place" not in text, text
    assert "outside every tracked pattern" in text and "\n  a.dat\n" in text, text
    assert "git mlv track '*.dat'" in text and "git mlv add a.dat" in text, text
    assert text.startswith("1 file(s) tracked by git-mlv"), text
    st = json.loads(out(mlv("status", "--json", cwd=clone)))
    assert st["outside_patterns"] == ["a.dat"] and st["missing_data"] == [], st

    # neither `git mlv checkout` nor `pull` writes its data over git's pointer text
    assert "a.dat (outside every tracked pattern)" in out(mlv("checkout", cwd=clone))
    mlv("checkout", "a.dat", cwd=clone)
    mlv("pull", cwd=clone)
    assert (clone / "a.dat").read_bytes().startswith(HEAD)
    assert git("status", "--porcelain", cwd=clone).stdout == b""


def test_tracking_the_pattern_again_brings_the_data(repo: Path, tmp_path: Path) -> None:
    origin = _pushed_with_renames(repo, tmp_path, ["a"], ["b"])
    want = sha256_file(repo / "a.dat")
    for name, how in (("c1", ["track", "*.dat"]), ("c2", ["add", "a.dat"])):
        clone, _ = _clone(origin, tmp_path, name)
        mlv(*how, cwd=clone)
        mlv("pull", cwd=clone)
        assert sha256_file(clone / "a.dat") == want, how
        changed = git("status", "--porcelain", cwd=clone).stdout.decode().splitlines()
        assert [line[3:] for line in changed] == [".gitattributes"], (how, changed)
        assert "outside every tracked pattern" not in out(mlv("status", cwd=clone))


def test_status_names_a_few_then_counts(repo: Path, tmp_path: Path) -> None:
    names = [f"f{i}" for i in range(8)]
    origin = _pushed_with_renames(repo, tmp_path, names, ["b"])
    clone, err = _clone(origin, tmp_path)
    assert git("status", "--porcelain", cwd=clone).stdout == b""
    assert err.count("outside every tracked pattern, left as pointer text") == 3, err
    assert "... and 5 more such pointer(s)" in err, err
    lines = out(mlv("status", cwd=clone)).splitlines()
    named = [line for line in lines if line.startswith("  f") and line.endswith(".dat")]
    assert named == [f"  f{i}.dat" for i in range(5)], lines
    assert "  ... and 3 more" in lines, lines


def test_clone_without_filtered_files_gets_its_hooks_from_status(repo: Path, tmp_path: Path) -> None:
    # the only data file was renamed out of the patterns: git starts no filter in the clone, and
    # the filter is what installs our hooks
    origin = _pushed_with_renames(repo, tmp_path, ["a"], [])
    clone, _ = _clone(origin, tmp_path)
    assert git("status", "--porcelain", cwd=clone).stdout == b""
    assert not any((clone / ".git" / "hooks" / h).exists() for h in HOOKS)
    text = out(mlv("status", cwd=clone))
    assert "Hooks" not in text and "install" not in text, text
    assert "a.dat" in text, text
    assert all((clone / ".git" / "hooks" / h).exists() for h in HOOKS)
    assert json.loads(out(mlv("status", "--json", cwd=clone)))["hook_problems"] == []


def test_checkout_of_a_rename_leaves_the_pointer(repo: Path, tmp_path: Path) -> None:
    # not a clone: a checkout that brings the renamed pointer (the hook looks at changed paths)
    origin = _pushed_with_renames(repo, tmp_path, ["a"], ["b"])
    clone, _ = _clone(origin, tmp_path)
    git("checkout", "-q", "HEAD~1", cwd=clone)
    assert sha256_file(clone / "a.bin") == sha256_file(repo / "a.dat")
    proc = git("checkout", "-q", "main", cwd=clone)
    assert (clone / "a.dat").read_bytes().startswith(HEAD)
    assert git("status", "--porcelain", cwd=clone).stdout == b"", proc.stderr.decode()


def test_status_names_a_pointer_moved_out_of_the_patterns_before_it_is_committed(repo: Path) -> None:
    """The committer's side: after `git mv a.bin a.dat` (no pattern covers .dat) the index holds
    the pointer at a.dat and the worktree the data, and `git mlv status` said everything was in
    place; a `git commit` then gave every clone the pointer text."""
    write(repo / "a.bin", random_bytes(3000, seed=1))
    write(repo / "b.bin", random_bytes(3000, seed=2))
    commit_all(repo, "data")
    git("mv", "a.bin", "a.dat", cwd=repo)
    git("mv", "b.bin", "c.bin", cwd=repo)  # still under *.bin: fine
    st = json.loads(out(mlv("status", "--json", cwd=repo)))
    assert st["staged_outside"] == ["a.dat"]
    text = out(mlv("status", cwd=repo))
    assert "Staged as pointers where no tracked pattern applies" in text and "  a.dat" in text
    assert "git mlv add a.dat" in text
    mlv("add", "a.dat", cwd=repo)  # as it says: tracked, staged through the filter
    assert json.loads(out(mlv("status", "--json", cwd=repo)))["staged_outside"] == []
    git("commit", "-q", "-m", "moved", cwd=repo)
    assert git("cat-file", "-p", "HEAD:a.dat", cwd=repo).stdout.startswith(HEAD)
    assert git("check-attr", "filter", "a.dat", cwd=repo).stdout.decode().endswith("filter: mlv\n")
