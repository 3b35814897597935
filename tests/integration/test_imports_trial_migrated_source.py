"""get/import from a source that is itself a git-mlv repository migrated from git-lfs (real git-lfs):
an old tag of the rewritten history has no `.gitmlv` (the data remote was added after the
migration), yet `git mlv push --all` put its data on the remote the source's HEAD names.

Regression: `--rev v1` stopped with "names no default data remote in its .gitmlv": every tag of a
migrated history (or any commit older than `git mlv remote add`) could not be imported. Now the
remote of the source's HEAD is used when the revision's `.gitmlv` names none; bytes equal the
files git-lfs held at that tag.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import commit_all, git, mlv, one_error_line, out, write
from tests.integration.test_imports import dest_repo
from tests.integration.test_migrate_lfs import make_lfs_repo


def _migrated_source(tmp_path: Path) -> tuple[Path, dict[str, dict[str, bytes]]]:
    src = tmp_path / "src"
    src.mkdir()
    versions = make_lfs_repo(src)
    out(mlv("migrate", "from-lfs", "--everything", "-q", cwd=src))
    shutil.rmtree(src / ".git" / "lfs")
    return src, versions


def test_an_old_tag_of_a_migrated_history_is_imported(tmp_path: Path) -> None:
    src, versions = _migrated_source(tmp_path)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=src)
    commit_all(src, "data remote")
    mlv("push", "--all", "-q", cwd=src)
    assert git("cat-file", "-e", "v1:.gitmlv", cwd=src, check=False).returncode != 0
    dst = dest_repo(tmp_path)
    mlv("import", "../src", "data", "--rev", "v1", "-o", "d1", cwd=dst)
    assert (dst / "d1" / "shared.csv").read_bytes() == versions["v1"]["data/shared.csv"]
    mlv("get", str(src), "model1.bin", "--rev", "v2", "-o", "m1.bin", cwd=dst)
    assert (dst / "m1.bin").read_bytes() == versions["v2"]["model1.bin"]
    assert "[import \"d1\"]" in (dst / ".gitmlv").read_text()


def test_no_remote_at_the_tag_nor_at_head_is_one_line(tmp_path: Path) -> None:
    src, _ = _migrated_source(tmp_path)
    dst = dest_repo(tmp_path)
    err = one_error_line(mlv("get", "../src", "model1.bin", "--rev", "v1", cwd=dst, check=False), 2)
    assert "names no default data remote in its .gitmlv, nor does its HEAD" in err, err
    assert not (dst / "model1.bin").exists()


def test_pointer_text_outside_the_sources_filters_is_a_file(tmp_path: Path) -> None:
    """A plain git file of the source holding git-mlv or git-lfs pointer text (a test fixture, at a
    path no filter=mlv/lfs line names) is checked out as that text by a clone of the source, so
    get/import write that text. Before, it was taken for data: the git-mlv one stopped the get
    ('no data on' the source's remote), the git-lfs one was refused as a git-lfs file."""
    src = tmp_path / "src"
    src.mkdir()
    git("init", "-q", cwd=src)
    mlv("track", "data/*.bin", cwd=src)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=src)
    ours = b"version https://git-mlv.dev/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 12\n"
    theirs = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"1" * 64 + b"\nsize 12\n"
    files = {"data/a b.bin": b"x" * 3000, "data/fixtures/ours.txt": ours, "data/fixtures/lfs.txt": theirs}
    for name, data in files.items():
        write(src / name, data)
    commit_all(src, "v1")
    mlv("push", "-q", cwd=src, check=False)  # the fixture has no data to push: its pointer is not data
    assert git("cat-file", "blob", "HEAD:data/fixtures/ours.txt", cwd=src).stdout == ours
    dst = dest_repo(tmp_path)
    warned = mlv("get", "../src", "data", "-o", "got", cwd=dst).stderr.decode()
    for name, data in files.items():
        assert (dst / "got" / name[len("data/"):]).read_bytes() == data, name
    # said, since an owner who forgot to commit .gitattributes gets pointer text too
    assert "1 file(s) hold git-mlv pointer text" in warned and "fixtures/ours.txt" in warned, warned
    # import tracks OUT with filter=mlv, whose clean would keep that text as a pointer with no data
    # (a clone could not check it out; update would see a local change): refused, nothing written
    gitmlv = (dst / ".gitmlv").read_bytes()
    err = one_error_line(mlv("import", "../src", "data", cwd=dst, check=False), 2)
    assert "hold git-mlv pointer text" in err and "fixtures/ours.txt" in err, err
    assert not (dst / "data").exists() and (dst / ".gitmlv").read_bytes() == gitmlv
    mlv("import", "../src", "data/a b.bin", cwd=dst)
    assert (dst / "a b.bin").read_bytes() == files["data/a b.bin"]


def test_a_file_git_lfs_keeps_in_the_source_is_still_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    make_lfs_repo(src)  # real git-lfs: its pointers at paths filter=lfs names
    dst = dest_repo(tmp_path)
    err = one_error_line(mlv("get", "../src", "data", cwd=dst, check=False), 2)
    assert "are git-lfs pointers" in err and "data/shared.csv" in err, err
    assert not (dst / "data").exists()


def test_a_source_whose_folder_remote_is_not_here_is_one_line(tmp_path: Path) -> None:
    """A source's folder data remote that does not exist on this machine (its owner's disk) was
    read as an empty remote: 'N file(s) ... have no data on ...: a (not on the remote), ...' and
    'the source's owner should git mlv push', which the owner had done."""
    src, _ = _migrated_source(tmp_path)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=src)
    commit_all(src, "data remote")
    mlv("push", "-q", cwd=src)
    (tmp_path / "store").rename(tmp_path / "elsewhere")
    dst = dest_repo(tmp_path)
    # a remote that cannot be reached here: exit 5, as push and fetch exit for it (README)
    err = one_error_line(mlv("get", "../src", "data", cwd=dst, check=False), 5)
    assert f"is the folder {tmp_path / 'store'}, which does not exist here" in err, err
    assert not (dst / "data").exists()
