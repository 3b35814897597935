"""status and checkout as a new user types them: in a subfolder, with a glob, in a clone without
a data remote. Before: a status typed in a subfolder named its files from the top (`git status`
names them from where you are); a quoted glob ('data/*.bin', as `git status` takes it) was "no
file tracked by git-mlv"; a checkout without data and without any data remote said "run `git mlv
pull`", which has nowhere to fetch from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, write

FILES = {"data/a.bin": random_bytes(2_000, seed=1), "data/sub/b.bin": random_bytes(2_000, seed=2),
         "data/sub/c.csv": random_bytes(2_000, seed=3)}


@pytest.fixture
def data_repo(repo: Path) -> Path:
    for path, content in FILES.items():
        write(repo / path, content)
    commit_all(repo, "data")
    return repo


def _pointer_text(repo: Path, path: str) -> None:
    (repo / path).write_bytes(git("cat-file", "blob", f":{path}", cwd=repo).stdout)


def test_status_in_a_subfolder_names_paths_from_there(data_repo: Path) -> None:
    _pointer_text(data_repo, "data/sub/b.bin")
    text = mlv("status", cwd=data_repo / "data").stdout.decode()
    assert "\n  sub/b.bin\n" in text and "data/sub/b.bin" not in text, text
    text = mlv("status", ".", cwd=data_repo / "data/sub").stdout.decode()
    assert "\n  b.bin\n" in text, text
    # as git: status.relativePaths=false names them from the top
    git("config", "status.relativePaths", "false", cwd=data_repo)
    text = mlv("status", cwd=data_repo / "data").stdout.decode()
    assert "\n  data/sub/b.bin\n" in text, text
    # --json keeps the repository's paths
    assert b'"data/sub/b.bin"' in mlv("status", "--json", cwd=data_repo / "data").stdout


def test_a_glob_path_matches_as_in_git(data_repo: Path) -> None:
    for path in FILES:
        _pointer_text(data_repo, path)
    res = mlv("status", "data/*.bin", cwd=data_repo, check=False)
    assert res.returncode == 0, res  # 2 on the old code
    text = res.stdout.decode()
    assert "2 file(s) tracked" in text and "data/sub/c.csv" not in text, text
    res = mlv("checkout", "data/*.bin", cwd=data_repo, check=False)
    assert res.returncode == 0 and b"Checked out 2 file(s)" in res.stdout, res
    for path in ("data/a.bin", "data/sub/b.bin"):
        assert (data_repo / path).read_bytes() == FILES[path]
    assert (data_repo / "data/sub/c.csv").read_bytes() != FILES["data/sub/c.csv"]
    for rev in ([], ["HEAD"]):  # the index, and a revision's tree
        res = mlv("ls-files", *rev, "data/*.bin", cwd=data_repo, check=False)
        assert res.returncode == 0 and res.stdout.count(b".bin") == 2, res
    res = mlv("status", "*.txt", cwd=data_repo, check=False)
    assert res.returncode == 2 and b"no file tracked by git-mlv" in res.stderr


def test_checkout_without_data_nor_remote_says_where_data_comes_from(data_repo: Path) -> None:
    _pointer_text(data_repo, "data/a.bin")
    shutil.rmtree(data_repo / ".git" / "mlv" / "packs")
    res = mlv("checkout", "data/a.bin", cwd=data_repo, check=False)
    assert res.returncode == 1
    line = res.stdout.decode().splitlines()[-1]
    assert line.startswith("missing data: data/a.bin") and "git mlv remote add" in line, line


def test_a_deleted_file_is_deleted_not_a_pointer(data_repo: Path) -> None:
    (data_repo / "data/a.bin").unlink()
    text = mlv("status", cwd=data_repo).stdout.decode()
    assert "\n  deleted: data/a.bin\n" in text, text
    assert "Pointers in the worktree" not in text, text  # the old code listed it there too
    assert mlv("checkout", "data/a.bin", cwd=data_repo).returncode == 0  # as git checkout -- FILE
    assert (data_repo / "data/a.bin").read_bytes() == FILES["data/a.bin"]


def test_checkout_of_a_file_replaced_by_a_folder_says_so(data_repo: Path) -> None:
    (data_repo / "data/a.bin").unlink()
    (data_repo / "data/a.bin").mkdir()
    (data_repo / "data/a.bin/mine.txt").write_bytes(b"kept")
    res = mlv("checkout", "data/a.bin", cwd=data_repo, check=False)
    assert res.returncode == 1, res  # 0 and "Checked out 0 file(s)" alone on the old code
    assert b"not written: data/a.bin: a folder is there" in res.stdout
    assert (data_repo / "data/a.bin/mine.txt").read_bytes() == b"kept"


def test_checkout_in_a_subfolder_names_paths_from_there(data_repo: Path) -> None:
    _pointer_text(data_repo, "data/sub/b.bin")
    shutil.rmtree(data_repo / ".git" / "mlv" / "packs")
    res = mlv("checkout", "b.bin", cwd=data_repo / "data/sub", check=False)
    assert res.returncode == 1
    assert res.stdout.decode().splitlines()[-1].startswith("missing data: b.bin ("), res
