"""git mlv get / import / update across two real repositories, each with its own folder data remote
(docs/imports.md): bytes equal after every round trip, the record in .gitmlv, the stage that
depends on an import rerunning after `update`, status noticing a moved source, and the errors."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, sha256_file, write

STAGE_CMD = "cat ds/a.bin ds/sub/b.bin ds/c.bin 2>/dev/null | sha256sum > sum.txt"


def _source(tmp_path: Path, allow_filter: bool = True) -> Path:
    """A git-mlv repository with its own data remote: data/a.bin, data/sub/b.bin (tracked), a plain
    git file data/notes.txt, and a big plain blob outside data/ (pushed; tagged v1)."""
    src = tmp_path / "src"
    src.mkdir()
    git("init", "-q", cwd=src)
    if allow_filter:
        git("config", "uploadpack.allowFilter", "true", cwd=src)
    mlv("track", "data/*.bin", "data/sub/**", cwd=src)
    mlv("remote", "add", "store", str(tmp_path / "src-store"), "--default", cwd=src)
    write(src / "data" / "a.bin", random_bytes(40_000, seed=1))
    write(src / "data" / "sub" / "b.bin", random_bytes(9_000, seed=2))
    write(src / "data" / "notes.txt", b"plain git file\n")
    write(src / "unrelated.dat", random_bytes(50_000, seed=3))  # plain, not under PATH
    os.chmod(src / "data" / "sub" / "b.bin", 0o755)
    commit_all(src, "v1")
    git("tag", "v1", cwd=src)
    mlv("push", cwd=src)
    return src


def dest_repo(tmp_path: Path) -> Path:
    """Our repository, with its own folder data remote."""
    dst = tmp_path / "dst"
    dst.mkdir()
    git("init", "-q", cwd=dst)
    mlv("remote", "add", "mine", str(tmp_path / "dst-store"), "--default", cwd=dst)
    commit_all(dst, "start")
    return dst


def _same_tree(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
        assert os.access(a / rel, os.X_OK) == os.access(b / rel, os.X_OK), rel


def _fail(args: list[str], cwd: Path) -> str:
    proc = mlv(*args, cwd=cwd, check=False)
    err = proc.stderr.decode()
    assert proc.returncode != 0, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_get_file_and_folder(tmp_path: Path) -> None:
    src = _source(tmp_path)
    dst = dest_repo(tmp_path)
    mlv("get", "file://" + str(src), "data", cwd=dst)
    _same_tree(dst / "data", src / "data")
    mlv("get", str(src), "data/a.bin", "-o", "copy.bin", "--rev", "v1", cwd=dst)
    assert sha256_file(dst / "copy.bin") == sha256_file(src / "data" / "a.bin")
    status = git("status", "--porcelain", cwd=dst).stdout.decode()
    assert "?? copy.bin" in status and "?? data/" in status  # untracked, nothing recorded
    assert not (dst / ".gitmlv").read_text().count("[import")
    # outside any repository: a scratch pool, the same bytes
    away = tmp_path / "away"
    away.mkdir()
    mlv("get", str(src), "data/sub", cwd=away)
    _same_tree(away / "sub", src / "data" / "sub")
    assert "already exists" in _fail(["get", str(src), "data/sub"], away)
    write(away / "sub" / "extra.txt", b"x")
    mlv("get", str(src), "data/sub", "--force", cwd=away)
    _same_tree(away / "sub", src / "data" / "sub")


@pytest.mark.slow
def test_import_update_reruns_dependent_stage_and_push_uploads(tmp_path: Path) -> None:
    src = _source(tmp_path)
    dst = dest_repo(tmp_path)
    mlv("import", "../src", "data", "-o", "ds", cwd=dst)
    _same_tree(dst / "ds", src / "data")
    staged = git("diff", "--cached", "--name-only", cwd=dst).stdout.decode().split()
    assert {".gitattributes", ".gitmlv", "ds/a.bin", "ds/notes.txt", "ds/sub/b.bin"} <= set(staged)
    cfg = dict(line.split("\n", 1) for line in git(
        "config", "-f", ".gitmlv", "-l", "-z", cwd=dst).stdout.decode().split("\0") if line)
    v1 = git("rev-parse", "HEAD", cwd=src).stdout.decode().strip()
    assert cfg["import.ds.url"] == "../src" and cfg["import.ds.path"] == "data"
    assert cfg["import.ds.commit"] == v1 and cfg["import.ds.files"] == "3"
    assert cfg["import.ds.listing"].startswith("sha256:") and "import.ds.rev" not in cfg
    git("commit", "-q", "-m", "import ds", cwd=dst)
    mlv("run", "-n", "sum", "-d", "ds", "-O", "sum.txt", STAGE_CMD, cwd=dst)
    commit_all(dst, "stage")
    first_sum = (dst / "sum.txt").read_text()
    assert "Everything is up to date" in mlv("repro", cwd=dst).stdout.decode()
    assert "source moved" not in mlv("status", cwd=dst).stdout.decode()

    # the source moves: a.bin changes, sub/b.bin goes, c.bin comes
    write(src / "data" / "a.bin", random_bytes(40_000, seed=11))
    (src / "data" / "sub" / "b.bin").unlink()
    write(src / "data" / "c.bin", random_bytes(7_000, seed=12))
    commit_all(src, "v2")
    mlv("push", cwd=src)
    v2 = git("rev-parse", "HEAD", cwd=src).stdout.decode().strip()
    status = mlv("status", cwd=dst).stdout.decode()
    assert "source moved" in status and f"is at {v2[:10]}, imported {v1[:10]}" in status

    out = mlv("update", cwd=dst).stdout.decode()
    assert "Updated ds" in out and "1 removed" in out
    _same_tree(dst / "ds", src / "data")
    assert f"commit = {v2}" in (dst / ".gitmlv").read_text()
    assert "Running stage 'sum'" in mlv("repro", cwd=dst).stdout.decode()
    assert (dst / "sum.txt").read_text() != first_sum
    assert "up to date" in mlv("update", "ds", cwd=dst).stdout.decode()
    commit_all(dst, "update ds")

    # our own push uploads the imported data to our own remote: a clone reads it from there only
    git("init", "-q", "--bare", str(tmp_path / "dst-origin.git"), cwd=tmp_path)
    git("push", "-q", str(tmp_path / "dst-origin.git"), "HEAD:main", cwd=dst)
    (tmp_path / "src-store").rename(tmp_path / "src-store-gone")
    clone = tmp_path / "clone"
    git("clone", "-q", str(tmp_path / "dst-origin.git"), str(clone), cwd=tmp_path)
    _same_tree(clone / "ds", src / "data")


def test_update_rev_local_changes_and_file_import(tmp_path: Path) -> None:
    src = _source(tmp_path)
    dst = dest_repo(tmp_path)
    mlv("import", str(src), "data/a.bin", "--rev", "v1", cwd=dst)
    assert sha256_file(dst / "a.bin") == sha256_file(src / "data" / "a.bin")
    commit_all(dst, "import a.bin")
    text = (dst / ".gitmlv").read_text()
    assert "rev = v1" in text and f"oid = sha256:{sha256_file(src / 'data' / 'a.bin')}" in text

    write(src / "data" / "a.bin", random_bytes(40_000, seed=21))
    commit_all(src, "v2")
    mlv("push", cwd=src)
    # pinned to the tag: the source's HEAD moved, the import did not
    assert "up to date" in mlv("update", cwd=dst).stdout.decode()
    write(dst / "a.bin", b"edited here")
    assert "local changes" in _fail(["update", "--rev", "main"], dst)
    assert (dst / "a.bin").read_bytes() == b"edited here"  # refused: nothing touched
    mlv("update", "--rev", "main", "--force", cwd=dst)
    assert sha256_file(dst / "a.bin") == sha256_file(src / "data" / "a.bin")
    assert "rev = main" in (dst / ".gitmlv").read_text()
    assert "nosuch is not an import (imports: a.bin)" in _fail(["update", "nosuch"], dst)


def test_errors_leave_nothing_behind(tmp_path: Path) -> None:
    src = _source(tmp_path, allow_filter=False)  # a server that ignores --filter works too (below)
    dst = dest_repo(tmp_path)
    before = git("status", "--porcelain", "--ignored", cwd=dst).stdout
    gitmlv = (dst / ".gitmlv").read_bytes()
    nowhere = str(tmp_path / "nowhere")
    assert "does not appear to be a git repository" in _fail(["import", nowhere, "data"], dst)
    assert "revision 'nosuch' not found" in _fail(["import", str(src), "data", "--rev", "nosuch"], dst)
    assert "'data/zzz' is not in" in _fail(["import", str(src), "data/zzz"], dst)
    # a commit whose data was never pushed to the source's data remote
    write(src / "data" / "a.bin", random_bytes(40_000, seed=31))
    commit_all(src, "not pushed")
    err = _fail(["import", str(src), "data", "-o", "ds"], dst)
    assert "have no data on" in err and "a.bin" in err
    assert git("status", "--porcelain", "--ignored", cwd=dst).stdout == before
    assert (dst / ".gitmlv").read_bytes() == gitmlv and not (dst / "ds").exists()
    write(dst / "ds" / "mine.txt", b"keep me")
    assert "already exists" in _fail(["import", str(src), "data/sub", "-o", "ds"], dst)
    assert (dst / "ds" / "mine.txt").read_bytes() == b"keep me"
    assert "no imports" in _fail(["update"], dst)
    git("reset", "-q", "--hard", "HEAD~", cwd=src)  # back to the pushed commit: now it works
    mlv("get", str(src), "data", "-o", "got", cwd=dst)
    _same_tree(dst / "got", src / "data")
    proc = subprocess.run(["git", "mlv", "import", "--help"], cwd=dst, capture_output=True)
    assert proc.returncode == 0 and b"import" in proc.stdout


def test_git_lfs_files_of_the_source_are_refused(tmp_path: Path) -> None:
    """A source that keeps its data with the real git-lfs (a dataset repository): get and import
    wrote the git-lfs pointer text as the file and said "Imported ... 1 file(s), 130 B". They now
    refuse, naming the files, and write nothing; its plain files still come."""
    src = tmp_path / "lfs-src"
    src.mkdir()
    git("init", "-q", cwd=src)
    git("lfs", "install", "--local", cwd=src)
    git("lfs", "track", "*.bin", cwd=src)
    write(src / "data" / "weights.bin", random_bytes(30_000, seed=4))
    write(src / "data" / "README", b"a plain file\n")
    commit_all(src, "lfs data")
    assert git("cat-file", "blob", "HEAD:data/weights.bin", cwd=src).stdout.startswith(
        b"version https://git-lfs.github.com/spec/v1")  # git-lfs really stored a pointer
    dst = dest_repo(tmp_path)
    for args in (["get", str(src), "data", "-o", str(tmp_path / "got")],
                 ["import", str(src), "data/weights.bin"]):
        err = _fail(args, dst)
        assert "1 file(s) in" in err and "are git-lfs pointers" in err and "data/weights.bin" in err, err
    assert not (tmp_path / "got").exists() and not (dst / "weights.bin").exists()
    assert git("status", "--porcelain", cwd=dst).stdout == b""
    mlv("get", str(src), "data/README", "-o", str(tmp_path / "README"), cwd=dst)
    assert (tmp_path / "README").read_bytes() == b"a plain file\n"
