"""A plain git file whose content is git-mlv pointer text (a test fixture committed at a path no
tracked pattern covers) blocked `git push`: the pre-push hook took it for data "neither here nor on
'store'" and stopped, and `git mlv push` exited 1. Such a file is pushed as the plain file it is,
with one warning naming it; a pointer `git mv`d out of the patterns whose data is here is still
uploaded, and `git mlv status` no longer says the push stops."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, random_bytes, write

FIXTURE = b"version https://git-mlv.dev/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 12\n"


def _repo_with_fixture(repo: Path, tmp_path: Path) -> Path:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(5_000, 1))
    write(repo / "fixtures" / "ptr.txt", FIXTURE)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    return origin


def test_git_push_sends_a_pointer_text_fixture_as_a_plain_file(repo: Path, tmp_path: Path) -> None:
    origin = _repo_with_fixture(repo, tmp_path)
    text = out(mlv("status", cwd=repo))
    assert "not here either" not in text, text
    assert "(1 file(s); `git mlv push --all` sends it)" in text, text
    p = git("push", "origin", "main", cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert err.count('warning: "fixtures/ptr.txt" holds pointer text outside every tracked pattern') == 1, err
    assert "pushed data of 1 file(s)" in err, err
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert (clone / "fixtures" / "ptr.txt").read_bytes() == FIXTURE
    assert (clone / "data" / "a.bin").read_bytes() == random_bytes(5_000, 1)


def test_git_mlv_push_exits_0_for_a_pointer_text_fixture(repo: Path, tmp_path: Path) -> None:
    _repo_with_fixture(repo, tmp_path)
    p = mlv("push", cwd=repo, check=False)
    assert p.returncode == 0, p.stderr.decode()
    assert "fixtures/ptr.txt" in p.stderr.decode()
    p = mlv("push", "--all", cwd=repo, check=False)  # every commit: paths looked up from the refs
    assert p.returncode == 0, p.stderr.decode()
    assert '"fixtures/ptr.txt" holds pointer text' in p.stderr.decode()


def test_a_pointer_moved_out_of_the_patterns_is_still_uploaded(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(5_000, 2))
    git("add", "-A", cwd=repo)
    (repo / "other").mkdir()
    git("mv", "data/a.bin", "other/a.bin", cwd=repo)  # the pointer, its data in the pool
    git("commit", "-q", "-m", "v1", cwd=repo)
    git("init", "-q", "--bare", str(tmp_path / "origin.git"), cwd=tmp_path)
    p = git("push", str(tmp_path / "origin.git"), "main", cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert "pushed data of 1 file(s)" in err and "holds pointer text" not in err, err
