"""Small files stored ahead of git's clean requests (ops/cleanahead.py, docs/design-notes.md
"Clean ahead"): through the real git, the pointers are the files' own and the bytes come back; a
guess that went stale is never answered; an add of a few files guesses nothing.

Which answer the filter gave is read from MLV_CLEAN_TRACE (``ahead<TAB>path`` for a guess used):
the pointers are the same either way, so the index alone cannot tell them apart.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from git_mlv.core.pool import Pool
from git_mlv.ops.cleanahead import START_AFTER, WINDOW, CleanAhead
from git_mlv.ops.context import Workspace
from git_mlv.ops.filter import PoolFilter
from tests.helpers import clean_trace, git, out, random_bytes, write


def _files(repo: Path, n: int, size: int = 5000, folder: str = "data/imgs") -> dict[str, bytes]:
    files = {f"{folder}/img_{i:04d}.jpg": random_bytes(size + i, seed=i) for i in range(n)}
    for name, data in files.items():
        write(repo / name, data)
    return files


def _staged_pointers(repo: Path) -> dict[str, Pointer]:
    lines = out(git("ls-files", "-s", cwd=repo)).splitlines()
    return {line.split("\t", 1)[1]: Pointer.parse(git("cat-file", "blob", line.split()[1], cwd=repo).stdout)
            for line in lines if line.endswith(".jpg")}


def _stored(repo: Path, data: bytes) -> bool:
    with Pool(str(repo / ".git" / "mlv")) as pool:
        return pool.has_file(hashlib.sha256(data).hexdigest())


@pytest.fixture
def trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "clean-trace"
    monkeypatch.setenv("MLV_CLEAN_TRACE", str(path))
    return path


def test_an_add_of_many_small_files_answers_from_guesses_and_round_trips(repo: Path, trace: Path) -> None:
    files = _files(repo, 60)
    git("add", "data", cwd=repo)
    pointers = _staged_pointers(repo)
    assert pointers == {p: Pointer(hashlib.sha256(d).hexdigest(), len(d)) for p, d in files.items()}
    hits = [line.split("\t")[1] for line in clean_trace(trace) if line.startswith("ahead\t")]
    assert len(hits) >= 30 and set(hits) <= set(files)  # git paces the worker: most, not all
    git("commit", "-q", "-m", "imgs", cwd=repo)
    for name in files:
        os.unlink(repo / name)
    git("checkout", "--", "data", cwd=repo)
    assert {p: (repo / p).read_bytes() for p in files} == files


def test_a_refresh_of_racily_clean_stored_files_is_answered_from_guesses(repo: Path, trace: Path) -> None:
    """After a checkout git re-reads racily clean files in index order: the worker finds them
    stored (one hash each, not the writer's cut, hashes and lookups) and stores nothing.

    Every file gets one mtime before the add and the index that mtime after the commit, so that
    git takes every entry as racily clean: git compares them by whole seconds, and with the files'
    own mtimes only those written in the last one were (a CI run whose writes crossed a second saw
    0 guesses used). 100 files: with 30, a loaded run here used 9 (the worker starts after git's
    third request and races it); the bar is a fifth of them."""
    files = _files(repo, 100)
    stamp = time.time_ns()
    for name in files:
        os.utime(repo / name, ns=(stamp, stamp))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "imgs", cwd=repo)
    size = sum(p.stat().st_size for p in (repo / ".git" / "mlv").rglob("*.pack"))
    os.utime(repo / ".git" / "index", ns=(stamp, stamp))  # every entry is racily clean now
    trace.unlink()
    res = git("status", "--porcelain", cwd=repo)
    assert res.stdout == b""
    hits = [line for line in clean_trace(trace) if line.startswith("ahead\t")]
    assert len(hits) >= 20, len(hits)
    assert sum(p.stat().st_size for p in (repo / ".git" / "mlv").rglob("*.pack")) == size


def test_an_add_of_two_files_guesses_nothing(repo: Path, trace: Path) -> None:
    files = _files(repo, 20)
    names = sorted(files)[:2]
    git("add", *names, cwd=repo)
    assert sorted(_staged_pointers(repo)) == names
    assert not [line for line in clean_trace(trace) if line.startswith("ahead")]
    assert not any(_stored(repo, files[p]) for p in sorted(files)[2:])  # nothing else was stored


def test_one_thread_guesses_nothing(repo: Path, trace: Path) -> None:
    git("config", "mlv.threads", "1", cwd=repo)
    files = _files(repo, 20)
    git("add", "data", cwd=repo)
    assert len(_staged_pointers(repo)) == len(files)
    assert not [line for line in clean_trace(trace) if line.startswith("ahead")]


class _Stream:
    """What git sends for a clean: the content in pieces of at most one pkt-line's payload."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def readinto(self, view: memoryview | bytearray) -> int:
        n = min(len(view), 65516, len(self._data) - self._pos)
        view[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n


def _wait_for(cond: object, what: str) -> None:
    deadline = time.monotonic() + 20
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_a_file_changed_after_its_guess_gets_its_new_content_stored(repo: Path, trace: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The filter driven as git drives it, in process, to change a file between the worker's read
    and git's: the answer is the new content's pointer and that content is in the pool."""
    files = _files(repo, 12)
    names = sorted(files)
    monkeypatch.chdir(repo)
    f = PoolFilter(Workspace.discover())
    try:
        for name in names[:START_AFTER]:
            f.clean(name, _Stream(files[name]))
        ahead = f._ahead
        assert ahead is not None
        nxt = names[START_AFTER]
        _wait_for(lambda: os.path.basename(nxt) in ahead._done, "the guess of the next file")
        new = random_bytes(7000, seed=99)
        write(repo / nxt, new)  # changed after the worker stored it: git reads the new bytes
        answer = Pointer.parse(f.clean(nxt, _Stream(new)))
        assert answer == Pointer(hashlib.sha256(new).hexdigest(), len(new))
        after = names[START_AFTER + 1]
        _wait_for(lambda: os.path.basename(after) in ahead._done, "the guess after it")
        other = random_bytes(len(files[after]), seed=7)  # git sends other bytes of the same size
        assert Pointer.parse(f.clean(after, _Stream(other))).oid == hashlib.sha256(other).hexdigest()
    finally:
        f.close()
    assert [line for line in clean_trace(trace) if line.startswith("ahead")] == []
    with Pool(str(repo / ".git" / "mlv")) as pool:
        for data in (new, other):
            oid = hashlib.sha256(data).hexdigest()
            chunks = pool.resolve(oid)
            assert chunks is not None and b"".join(pool.iter_file(oid, chunks)) == data


def test_guessing_stops_when_git_asks_for_few_of_a_folders_files(tmp_path: Path) -> None:
    """``git add`` of a few changed files among many: the guesses git passes over are bounded."""
    folder = tmp_path / "d"
    folder.mkdir()
    for i in range(2000):
        (folder / f"f{i:05d}.bin").write_bytes(b"x%d" % i)
    stored: list[bytes] = []
    ahead = CleanAhead(str(tmp_path), lambda data: stored.append(data) or Pointer("0" * 64, len(data)))
    try:
        for i in range(0, 2000, 50):  # every 50th file: the worker's guesses in between are unused
            ahead.note(f"d/f{i:05d}.bin")
            time.sleep(0.02)
    finally:
        ahead.close()
    assert 0 < len(stored) <= 4 * WINDOW + START_AFTER, len(stored)
