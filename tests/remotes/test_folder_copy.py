"""A folder remote copies local pack slices in the kernel: copy_file_range on one file system,
sendfile across file systems, plain reads when the kernel refuses both; the bytes are the same."""

from __future__ import annotations

import errno
import os
import random
import tempfile
from pathlib import Path

import pytest

from git_mlv.remotes import local
from git_mlv.remotes.base import FileSlice
from git_mlv.remotes.local import FolderRemote

NAME = f"packs/pack-{'ab' * 16}.pack"


def _source(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(4).randbytes(4 << 20)
    src = tmp_path / "local.pack"
    src.write_bytes(data)
    return src, data


def _put_and_read(root: Path, src: Path, data: bytes) -> None:
    parts = [b"head", FileSlice(str(src), 10, 1 << 20), b"mid", FileSlice(str(src), (1 << 20) + 5, 2 << 20)]
    FolderRemote(str(root)).put(NAME, parts)
    want = b"head" + data[10:10 + (1 << 20)] + b"mid" + data[(1 << 20) + 5:(3 << 20) + 5]
    assert (root / NAME).read_bytes() == want


def test_another_file_system(tmp_path: Path) -> None:
    """/dev/shm (tmpfs) is another file system than the test's temporary folder: copy_file_range
    is refused there (EXDEV) and sendfile does the copy."""
    src, data = _source(tmp_path)
    assert os.path.isdir("/dev/shm"), "this test needs /dev/shm (a tmpfs) as a second file system"
    with tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
        assert os.stat(shm).st_dev != os.stat(src).st_dev, "/dev/shm is not another file system here"
        _put_and_read(Path(shm), src, data)


def test_each_method_continues_where_the_last_stopped(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel that copies part of a slice and then refuses (a fault no real file system gives on
    demand, hence patched): copy_file_range copies 100 KB then fails, sendfile 200 KB then fails,
    plain reads do the rest; the file is whole and in order."""
    src, data = _source(tmp_path)
    calls = {"cfr": 0, "sf": 0}
    real_cfr, real_sf = os.copy_file_range, os.sendfile

    def cfr(s: int, o: int, count: int, pos: int) -> int:
        calls["cfr"] += 1
        if calls["cfr"] > 1:
            raise OSError(errno.EXDEV, "refused")
        return real_cfr(s, o, min(count, 100_000), pos)

    def sf(o: int, s: int, pos: int, count: int) -> int:
        calls["sf"] += 1
        if calls["sf"] % 3 == 0:
            raise OSError(errno.EINVAL, "refused")
        return real_sf(o, s, pos, min(count, 100_000))

    monkeypatch.setattr(local.os, "copy_file_range", cfr)
    monkeypatch.setattr(local.os, "sendfile", sf)
    _put_and_read(tmp_path / "remote", src, data)
    assert calls["cfr"] >= 2 and calls["sf"] >= 3
