"""`git mlv track` (and `add`, `run -o`) in a repository where git does not know the filter.

Regression: without `git mlv install`, track wrote the patterns, git ignored a filter it did not
know, `git add` stored the files in git whole, and `git mlv status` said "0 file(s) tracked ...
Everything is in place". Now they install git-mlv for the repository on the way and say so, and
status warns when the filter is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import NOT_INSTALLED_NOTE as _NOTE
from tests.helpers import git, mlv, out, push_files, random_bytes, write


def _is_pointer(repo: Path, path: str) -> bool:
    return git("cat-file", "-p", f"HEAD:{path}", cwd=repo).stdout.startswith(b"version https://git-mlv")


def test_track_installs_for_the_repository(uninstalled: Path) -> None:
    repo = uninstalled
    assert _NOTE in out(mlv("track", "*.bin", cwd=repo))
    assert git("config", "--local", "filter.mlv.process", cwd=repo).stdout.strip()
    assert (repo / ".git" / "hooks" / "pre-push").exists()
    write(repo / "a.bin", random_bytes(120_000, seed=1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    assert _is_pointer(repo, "a.bin")
    assert _NOTE not in out(mlv("track", "*.h5", cwd=repo))  # once is enough

    git("config", "--local", "--remove-section", "filter.mlv", cwd=repo)
    err = mlv("status", cwd=repo).stderr.decode()
    assert "git-mlv is not installed here" in err and "run `git mlv install`" in err, err


def test_add_installs_before_it_stages(uninstalled: Path) -> None:
    repo = uninstalled
    write(repo / "m.bin", random_bytes(90_000, seed=2))
    assert _NOTE in out(mlv("add", "m.bin", cwd=repo))
    git("commit", "-q", "-m", "m", cwd=repo)
    assert _is_pointer(repo, "m.bin")


@pytest.mark.parametrize("verb", ["pull", "checkout"])
def test_pull_in_a_clone_made_before_install(uninstalled: Path, tmp_path: Path, verb: str) -> None:
    """A teammate clones before `git mlv install`: the files are pointers, and `git mlv status`
    says to pull. Before, `git mlv pull` (or `fetch` + `checkout`) wrote the data, and git,
    refreshing its index without the filter, staged every file whole ("M  model.bin", 90,000
    bytes in the index): the next commit put the data itself into git. Now they install git-mlv
    for the repository first and say so; the index keeps the pointers."""
    repo = uninstalled
    data = random_bytes(90_000, seed=3)
    push_files(repo, tmp_path, {"model.bin": data}, "*.bin")
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    assert (clone / "model.bin").read_bytes().startswith(b"version https://git-mlv")
    if verb == "checkout":
        mlv("fetch", cwd=clone)
    proc = mlv(verb, cwd=clone)
    assert (clone / "model.bin").read_bytes() == data
    assert git("status", "--porcelain", cwd=clone).stdout == b""
    assert git("rev-parse", ":model.bin", cwd=clone).stdout == git(
        "rev-parse", "HEAD:model.bin", cwd=clone).stdout  # the pointer, not the data
    assert _NOTE in proc.stderr.decode()


def test_import_installs_before_it_stages(uninstalled: Path, tmp_path: Path) -> None:
    """`git mlv import` refused ("run `git mlv install` first") where track, add, pull and
    checkout install git-mlv for the repository and say so: it does as they do now, and the
    imported file is committed as a pointer."""
    src = tmp_path / "src"
    git("init", "-q", str(src), cwd=tmp_path)
    data = random_bytes(50_000, seed=8)
    push_files(src, tmp_path, {"m.bin": data}, "*.bin")
    repo = uninstalled
    proc = mlv("import", str(src), "m.bin", cwd=repo)
    assert _NOTE in proc.stderr.decode()
    git("commit", "-q", "-m", "import", cwd=repo)
    assert (repo / "m.bin").read_bytes() == data and _is_pointer(repo, "m.bin")
