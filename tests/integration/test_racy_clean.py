"""A racily clean file re-cleaned by verifying it against its index entry's pointer
(ops/racyclean.py, docs/formats.md#racy-clean), through the real git.

Racily clean is made on purpose: the index file's mtime set to the data file's, so git cannot trust
the entry's stat and re-reads the file through the filter on the next refresh (git status). Which
answer the filter gave is read from MLV_CLEAN_TRACE: an unchanged file stores nothing new either
way, so pack bytes alone cannot tell the verified answer from a normal clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from git_mlv.core.pack import ENTRY_SIZE, KIND_CHUNK
from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.gitio import indexfile
from tests.conftest import TEST_CONFIG
from tests.helpers import clean_trace, commit_all, git, mlv, out, pool_size, random_bytes, write

PATH = "data/big.bin"
# 34 of the suite's largest chunks (16 KiB): above the check's threshold of 32 (ops/racyclean.py)
SIZE = 34 * int(TEST_CONFIG["mlv.chunkMax"])


@pytest.fixture
def racy(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes, Path]:
    """``repo`` with ``data/big.bin`` committed; returns (repo, content, trace file)."""
    data = random_bytes(SIZE, seed=6)
    write(repo / PATH, data)
    commit_all(repo, "one")
    trace = tmp_path / "clean-trace"
    monkeypatch.setenv("MLV_CLEAN_TRACE", str(trace))
    return repo, data, trace


def _make_racy(repo: Path) -> None:
    """Date the index to the file's mtime: git must look at the content again."""
    st = os.stat(repo / PATH)
    os.utime(repo / ".git" / "index", ns=(st.st_atime_ns, st.st_mtime_ns))


def _indexed_blob(repo: Path) -> str:
    return out(git("ls-files", "-s", PATH, cwd=repo)).split()[1]


def test_racy_reclean_answers_the_same_pointer_storing_nothing(racy: tuple[Path, bytes, Path]) -> None:
    repo, _, trace = racy
    blob, size = _indexed_blob(repo), pool_size(repo)
    _make_racy(repo)
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    assert clean_trace(trace) == [f"verified\t{PATH}"]
    assert _indexed_blob(repo) == blob and pool_size(repo) == size


def test_changed_content_with_equal_stat_stores_the_new_content(racy: tuple[Path, bytes, Path]) -> None:
    repo, data, trace = racy
    new = data[:-100] + bytes(100)  # the last chunk differs; same size
    f = repo / PATH
    before = os.stat(f)
    f.write_bytes(new)
    os.utime(f, ns=(before.st_atime_ns, before.st_mtime_ns))
    # the entry's stat made equal to the changed file's (ctime and inode cannot be set back), as a
    # write within the index's own clock tick leaves it
    index = indexfile.Index(str(repo / ".git" / "index"))
    entry = next(e for e in index.entries if e.path == PATH.encode())
    entry.stat = indexfile.stat_words(os.stat(f), entry.stat[6])
    index.write()
    _make_racy(repo)
    size = pool_size(repo)
    assert out(git("status", "--porcelain", cwd=repo)).split() == ["M", PATH]
    assert clean_trace(trace) == [f"differs\t{PATH}"]
    assert pool_size(repo) > size  # the new last chunk and the new manifest
    commit_all(repo, "two")
    git("checkout", "-q", "HEAD~1", cwd=repo)
    assert (repo / PATH).read_bytes() == data
    git("checkout", "-q", "-", cwd=repo)
    assert (repo / PATH).read_bytes() == new
    mlv("fsck", cwd=repo)


@pytest.mark.parametrize("change", ["longer", "shorter", "first byte", "middle byte"])
def test_any_difference_falls_back_to_the_exact_bytes(racy: tuple[Path, bytes, Path], change: str) -> None:
    """git hands the filter other bytes than the (unchanged) file, as a write racing git's read
    would: the worktree file's stat still equals its entry's, so the check runs and must fall back
    mid-stream to a normal clean of exactly git's bytes."""
    repo, data, trace = racy
    mid = SIZE // 2
    other = {"longer": data + b"x", "shorter": data[:-1], "first byte": b"\xff" + data[1:],
             "middle byte": data[:mid] + bytes([data[mid] ^ 1]) + data[mid + 1:]}[change]
    blob = out(git("hash-object", "-w", "--stdin", f"--path={PATH}", cwd=repo, input=other)).strip()
    assert clean_trace(trace) == [f"differs\t{PATH}"]
    pointer = git("cat-file", "blob", blob, cwd=repo).stdout
    assert f"size {len(other)}" in pointer.decode()
    assert mlv("smudge", "--", PATH, cwd=repo, input=pointer).stdout == other
    assert (repo / PATH).read_bytes() == data  # the worktree file was never touched


def test_a_damaged_stored_chunk_fails_the_clean_clearly(racy: tuple[Path, bytes, Path]) -> None:
    repo, _, trace = racy
    blob = _indexed_blob(repo)
    pointer = git("cat-file", "blob", blob, cwd=repo).stdout.decode()
    oid = next(line.split(":")[1] for line in pointer.splitlines() if line.startswith("oid "))
    settings = Settings.from_config({k.lower(): v for k, v in TEST_CONFIG.items()})
    with Pool(str(repo / ".git" / "mlv"), settings) as pool:
        chunks = pool.file_chunks(oid)
        loc = pool.locate(chunks[len(chunks) // 2][0], KIND_CHUNK)
        assert loc is not None
        where, at = loc.pack, loc.entry.offset + ENTRY_SIZE + 7
    os.chmod(where, 0o644)
    with open(where, "r+b") as f:  # one flipped bit in the chunk's stored bytes
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x10]))
    _make_racy(repo)
    proc = git("status", "--porcelain", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode != 0 and "damaged" in err and "git mlv fsck" in err, err
    assert clean_trace(trace) == []  # neither verified nor handed to the normal clean
    assert _indexed_blob(repo) == blob


def test_index_version_4_falls_back_and_stays_correct(racy: tuple[Path, bytes, Path]) -> None:
    repo, _, trace = racy
    git("update-index", "--index-version", "4", cwd=repo)
    # update-index refreshes first: when the commit wrote the file and the index in one clock
    # tick, that refresh was itself a racy clean, verified against the v2 index it read
    trace.unlink(missing_ok=True)
    blob, size = _indexed_blob(repo), pool_size(repo)
    _make_racy(repo)
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    assert clean_trace(trace) == []  # the normal clean answered
    assert _indexed_blob(repo) == blob and pool_size(repo) == size
