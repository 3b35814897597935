"""git_mlv.api: a version of a file read from Python without a checkout (docs/api.md), against real
git, a real folder data remote and clones; bytes compared with what was committed."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import git_mlv.api as mlvapi
from git_mlv.errors import CorruptObject, MissingObject, MlvError

from ..helpers import commit_all, git, mlv, origin_and_store, random_bytes, write

V1 = random_bytes(300_000, seed=1)  # ~20 chunks at the suite's 16 KiB chunk size
V2 = V1[:100_000] + random_bytes(50_000, seed=2) + V1[150_000:]


@pytest.fixture
def history(repo: Path, tmp_path: Path) -> tuple[Path, Path]:
    """``repo`` with v1 and v2 of data/model.bin (and a table, a plain file) pushed to ``origin``
    and its folder data remote; returns (repo, origin)."""
    origin = origin_and_store(repo, tmp_path)
    write(repo / "data" / "model.bin", V1)
    write(repo / "data" / "labels.csv", b"id,label\n1,cat\n2,dog\n")
    write(repo / "notes.txt", "héllo\n".encode())
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    write(repo / "data" / "model.bin", V2)
    write(repo / "data" / "labels.csv", b"id,label\n1,cat\n2,cat\n3,dog\n")
    commit_all(repo, "v2")
    git("tag", "v2", cwd=repo)
    git("push", "-q", "origin", "main", "v1", "v2", cwd=repo)
    return repo, origin


def test_read_each_version_and_the_worktree(history: tuple[Path, Path]) -> None:
    repo, _ = history
    assert mlvapi.read("data/model.bin", repo=str(repo), rev="v1", mode="rb") == V1
    assert mlvapi.read("data/model.bin", repo=str(repo), rev="v2", mode="rb") == V2
    assert mlvapi.read("data/model.bin", repo=str(repo), mode="rb") == V2  # the work tree
    assert mlvapi.read("data/labels.csv", repo=str(repo), rev="v1") == "id,label\n1,cat\n2,dog\n"
    assert mlvapi.read("notes.txt", repo=str(repo), rev="v1") == "héllo\n"  # git's own file
    assert mlvapi.read(Path("data") / "model.bin", repo=repo, rev="v1", mode="rb") == V1  # PathLike
    with mlvapi.open("data/labels.csv", repo=str(repo), rev="HEAD~1") as f:
        assert f.readline() == "id,label\n" and f.read() == "1,cat\n2,dog\n"
    # the current directory's repository, a path that goes through a folder and back
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(repo / "data")
        assert mlvapi.read("data/../data/model.bin", rev="v1", mode="rb") == V1


def test_seek_reads_any_range(history: tuple[Path, Path]) -> None:
    repo, _ = history
    with mlvapi.open("data/model.bin", repo=str(repo), rev="v2", mode="rb") as f:
        assert f.seekable()
        for start, n in [(0, 10), (149_990, 30), (16_383, 2), (299_000, 5_000), (123_456, 70_000)]:
            f.seek(start)
            assert f.read(n) == V2[start:start + n]
            assert f.tell() == min(start + n, len(V2))
        assert f.seek(-7, io.SEEK_END) == len(V2) - 7 and f.read() == V2[-7:]
        f.seek(len(V2) + 10)
        assert f.read(3) == b""


def test_parquet_footer_through_a_seekable_stream(repo: Path, tmp_path: Path) -> None:
    """pyarrow reads a Parquet file from the stream, jumping to its footer."""
    table = pa.table({"id": list(range(20_000)), "x": [i * 0.5 for i in range(20_000)]})
    (repo / "data").mkdir()
    pq.write_table(table, repo / "data" / "t.parquet")
    commit_all(repo, "table")
    (repo / "data" / "t.parquet").unlink()
    got = pq.read_table(mlvapi.open("data/t.parquet", repo=str(repo), rev="HEAD", mode="rb"))
    assert got.equals(table)


def test_a_clone_without_the_data_fetches_it_once(history: tuple[Path, Path], tmp_path: Path) -> None:
    repo, origin = history
    clone = tmp_path / "clone"
    git("clone", "-q", "--no-checkout", str(origin), str(clone), cwd=tmp_path)
    assert mlvapi.read("data/model.bin", repo=str(clone), rev="v1", mode="rb") == V1
    # kept in the clone's pool, indexed: readable with the data remote gone
    shutil.rmtree(tmp_path / "store")
    assert mlvapi.read("data/model.bin", repo=str(clone), rev="v1", mode="rb") == V1
    with pytest.raises(MlvError):  # v2's new chunks were never fetched, and the remote is gone
        mlvapi.read("data/model.bin", repo=str(clone), rev="v2", mode="rb")
    out = mlv("fsck", cwd=clone, check=False)
    assert out.returncode in (0, 4), out.stderr  # the pool is sound (4: index files lack data)


def test_a_worktree_pointer_is_read_from_the_remote(history: tuple[Path, Path], tmp_path: Path) -> None:
    """A checkout that left a file as a pointer (data not here): rev=None still gives the data."""
    _, origin = history
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    pointer = git("cat-file", "blob", "HEAD:data/model.bin", cwd=clone).stdout
    assert pointer.startswith(b"version ") and len(pointer) < 300
    shutil.rmtree(clone / ".git" / "mlv")  # the pool gone, the file a pointer: as after a failed fetch
    (clone / "data" / "model.bin").write_bytes(pointer)
    assert mlvapi.read("data/model.bin", repo=str(clone), mode="rb") == V2


def test_remote_repositories_by_url(history: tuple[Path, Path]) -> None:
    """A bare repository's path and a file:// URL are cloned into a temporary folder, as
    `git mlv get` does; the folder goes when the stream closes."""
    _, origin = history
    assert mlvapi.read("data/model.bin", repo=str(origin), rev="v1", mode="rb") == V1
    with mlvapi.open("data/labels.csv", repo=f"file://{origin}", rev="v2") as f:
        assert f.read() == "id,label\n1,cat\n2,cat\n3,dog\n"
    with pytest.raises(FileNotFoundError):
        mlvapi.read("data/none.bin", repo=str(origin))


def test_wrong_arguments_say_what_is_wrong(history: tuple[Path, Path]) -> None:
    repo, _ = history
    r = str(repo)
    with pytest.raises(FileNotFoundError, match="does not exist at v1"):
        mlvapi.read("data/none.bin", repo=r, rev="v1")
    with pytest.raises(FileNotFoundError):
        mlvapi.read("data/none.bin", repo=r)
    with pytest.raises(IsADirectoryError):
        mlvapi.read("data", repo=r, rev="v1")
    with pytest.raises(MlvError, match="unknown revision 'v9'"):
        mlvapi.read("data/model.bin", repo=r, rev="v9")
    for bad in ("w", "a", "r+", "rb+"):
        with pytest.raises(ValueError):
            mlvapi.open("data/model.bin", repo=r, mode=bad)
    for bad in ("", "/etc/passwd", "../x", "."):
        with pytest.raises(ValueError):
            mlvapi.open(bad, repo=r)
    with pytest.raises(ValueError):
        mlvapi.open("data/model.bin", repo=r, mode="rb", encoding="utf-8")


def test_no_remote_and_no_data_is_a_clear_error(repo: Path, tmp_path: Path) -> None:
    write(repo / "m.bin", V1)
    commit_all(repo, "m")
    shutil.rmtree(repo / ".git" / "mlv")
    with pytest.raises(MissingObject, match="no default data remote"):
        mlvapi.read("m.bin", repo=str(repo), rev="HEAD", mode="rb")


def test_a_damaged_chunk_is_caught_on_read(repo: Path) -> None:
    write(repo / "m.bin", V1)
    commit_all(repo, "m")
    packs = sorted((repo / ".git" / "mlv" / "packs").glob("*.pack"))
    assert packs
    for p in packs:  # flip one bit in the middle of every pack: inside some chunk's stored bytes
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0x10
        p.write_bytes(bytes(data))
    with pytest.raises(CorruptObject):
        mlvapi.read("m.bin", repo=str(repo), rev="HEAD", mode="rb")


def test_params_and_metrics_at_revisions(repo: Path) -> None:
    write(repo / "params.yaml", b"lr: 0.1\nmodel:\n  depth: 3\n")
    write(repo / "train.py",
          b"import json\njson.dump({'acc': 0.5, 'loss': {'val': 2}}, open('m.json', 'w'))\n")
    mlv("run", "-n", "train", "-d", "train.py", "-p", "params.yaml:lr,model.depth", "-M", "m.json",
        "python3 train.py", cwd=repo)
    commit_all(repo, "one")
    git("tag", "one", cwd=repo)
    write(repo / "params.yaml", b"lr: 0.2\nmodel:\n  depth: 3\n")
    write(repo / "m.json", json.dumps({"acc": 0.7, "loss": {"val": 1}}).encode())
    commit_all(repo, "two")
    assert mlvapi.params_show(repo=str(repo), rev="one") == {"params.yaml": {"lr": 0.1, "model.depth": 3}}
    assert mlvapi.params_show(repo=str(repo))["params.yaml"]["lr"] == 0.2
    assert mlvapi.metrics_show(repo=str(repo), rev="one") == {"m.json": {"acc": 0.5, "loss.val": 2}}
    assert mlvapi.metrics_show(repo=str(repo), rev="HEAD") == {"m.json": {"acc": 0.7, "loss.val": 1}}
    with pytest.raises(MlvError, match="unknown revision"):
        mlvapi.metrics_show(repo=str(repo), rev="nope")
