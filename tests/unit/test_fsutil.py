"""OS errors a user can act on become one line (core/fsutil.py); the rest stay bugs."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from git_mlv.core import fsutil
from git_mlv.core.pack import HEADER, PackWriter, scan


@pytest.mark.parametrize("code,words", [
    (errno.ENOSPC, "no space left"), (errno.EDQUOT, "quota"), (errno.EACCES, "permission denied"),
    (errno.EROFS, "read-only"), (errno.EMFILE, "too many open files"),
])
def test_expected_conditions_are_one_clear_line(code: int, words: str) -> None:
    err = fsutil.fs_error(OSError(code, os.strerror(code)), "/p/x.pack", needed=2048)
    assert err is not None and err.exit_code == 6
    msg = str(err)
    assert words in msg and "/p/x.pack" in msg and "\n" not in msg
    assert ("2.0 KiB" in msg) == (code in (errno.ENOSPC, errno.EDQUOT))


def test_other_errors_are_not_translated() -> None:
    assert fsutil.fs_error(OSError(errno.EIO, "I/O error")) is None


def test_a_failed_append_leaves_whole_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails half-way (a full disk) is cut back: the pack holds whole entries only and
    the writer records nothing for it, so nothing can later claim the object is stored."""
    w = PackWriter(str(tmp_path / "pack-x.pack"))
    w.append(b"a" * 32, 1, 0, 5, b"hello")
    real = os.pwritev
    calls = {"n": 0}

    def half_then_fail(fd: int, views: list[memoryview], offset: int) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real(fd, [bytes(views[0])[:10]], offset)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwritev", half_then_fail)
    with pytest.raises(fsutil.FileSystemError, match="no space left"):
        w.append(b"b" * 32, 1, 0, 5000, b"x" * 5000)
    monkeypatch.setattr(os, "pwritev", real)
    assert len(w.entries) == 1 and w.size == os.path.getsize(w.path)
    w.append(b"c" * 32, 1, 0, 3, b"abc")
    w.finish()
    entries, _, trailer = scan(w.path)
    assert [e.id[:1] for e in entries] == [b"a", b"c"] and trailer
    assert entries[0].offset == HEADER.size


def test_modes_follow_shared_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsutil, "_UMASK", 0o077)
    try:
        fsutil.set_shared(None)
        assert fsutil.file_mode() == 0o600
        fsutil.set_shared("group")
        assert fsutil.file_mode() == 0o660 and fsutil.file_mode(executable=True) == 0o770
        fsutil.set_shared("all")
        assert fsutil.file_mode() == 0o664
        fsutil.set_shared("0640")
        assert fsutil.file_mode() == 0o640
    finally:
        fsutil.set_shared(None)


def test_start_writeback_is_only_a_hint(tmp_path: Path) -> None:
    """On a file it starts the writeback (the bytes stay what they were); on a pipe, where the
    kernel refuses it (ESPIPE), nothing happens and nothing is raised."""
    start_writeback = fsutil.start_writeback
    path = tmp_path / "f"
    with open(path, "wb") as f:
        f.write(b"x" * 100_000)
        f.flush()
        start_writeback(f.fileno())
    assert path.read_bytes() == b"x" * 100_000
    r, w = os.pipe()
    try:
        start_writeback(w)
    finally:
        os.close(r)
        os.close(w)
