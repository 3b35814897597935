"""Small files stored ahead of git's clean requests by the filter's worker process
(ops/cleanahead.py, ops/cleanworker.py, docs/design-notes.md "Clean ahead"): through the real git,
the pointers are the files' own and the bytes come back; a guess that went stale is never
answered; an add of a few files guesses nothing and starts no process; a worker killed in the
middle loses nothing.

Which answer the filter gave is read from MLV_CLEAN_TRACE (``ahead<TAB>path`` for a guess used):
the pointers are the same either way, so the index alone cannot tell them apart.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.ops.cleanahead import PROCESS_MIN, START_AFTER, WINDOW, CleanAhead, spawn
from git_mlv.ops.context import Workspace
from git_mlv.ops.filter import PoolFilter
from tests.helpers import clean_trace, git, out, random_bytes, write

MANY = PROCESS_MIN + 100  # files in a folder enough for the worker process to be started


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
    # the filter waits for the worker's start: guesses are then used however slow the machine
    monkeypatch.setenv("MLV_CLEAN_AHEAD_WAIT", "1")
    return path


def test_an_add_of_many_small_files_answers_from_guesses_and_round_trips(repo: Path, trace: Path) -> None:
    files = _files(repo, MANY)
    git("add", "data", cwd=repo)
    pointers = _staged_pointers(repo)
    assert pointers == {p: Pointer(hashlib.sha256(d).hexdigest(), len(d)) for p, d in files.items()}
    hits = [line.split("\t")[1] for line in clean_trace(trace) if line.startswith("ahead\t")]
    assert len(hits) >= MANY // 3 and set(hits) <= set(files)  # once the worker is up: most, not all
    git("commit", "-q", "-m", "imgs", cwd=repo)
    for name in files:
        os.unlink(repo / name)
    git("checkout", "--", "data", cwd=repo)
    assert {p: (repo / p).read_bytes() for p in files} == files


def test_a_refresh_of_racily_clean_stored_files_is_answered_from_guesses(repo: Path, trace: Path) -> None:
    """After a checkout git re-reads racily clean files in index order: the worker finds them
    stored (one hash each, not the writer's cut, hashes and lookups) and stores nothing."""
    files = _files(repo, MANY)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "imgs", cwd=repo)
    size = sum(p.stat().st_size for p in (repo / ".git" / "mlv").rglob("*.pack"))
    newest = max(os.stat(repo / p).st_mtime_ns for p in files)
    os.utime(repo / ".git" / "index", ns=(newest, newest))  # every entry is racily clean now
    trace.unlink()
    res = git("status", "--porcelain", cwd=repo)
    assert res.stdout == b""
    assert len([line for line in clean_trace(trace) if line.startswith("ahead\t")]) >= 10
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


def _started(f: PoolFilter, files: dict[str, bytes]) -> CleanAhead:
    """Clean the first files as git does until the worker process is ready; its CleanAhead."""
    names = sorted(files)
    for name in names[:START_AFTER]:
        f.clean(name, _Stream(files[name]))
    ahead = f._ahead
    assert ahead is not None and ahead._proc is not None
    _wait_for(lambda: ahead._read(wait=False) and ahead._ready, "the worker process to be ready")
    return ahead


def test_a_file_changed_after_its_guess_gets_its_new_content_stored(repo: Path, trace: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The filter driven as git drives it, in process, to change a file between the worker's read
    and git's: the answer is the new content's pointer and that content is in the pool."""
    files = _files(repo, MANY)
    names = sorted(files)
    monkeypatch.chdir(repo)
    f = PoolFilter(Workspace.discover())
    try:
        ahead = _started(f, files)
        k = START_AFTER
        f.clean(names[k], _Stream(files[names[k]]))  # the worker is ready: the next names are sent
        nxt, after = names[k + 1], names[k + 2]
        _wait_for(lambda: ahead._read(wait=False) and os.path.basename(after) in ahead._done,
                  "the guesses of the next files")
        new = random_bytes(7000, seed=99)
        write(repo / nxt, new)  # changed after the worker stored it: git reads the new bytes
        answer = Pointer.parse(f.clean(nxt, _Stream(new)))
        assert answer == Pointer(hashlib.sha256(new).hexdigest(), len(new))
        other = random_bytes(len(files[after]), seed=7)  # git sends other bytes of the same size
        assert Pointer.parse(f.clean(after, _Stream(other))).oid == hashlib.sha256(other).hexdigest()
    finally:
        f.close()
    hits = [line.split("\t")[1] for line in clean_trace(trace) if line.startswith("ahead\t")]
    assert nxt not in hits and after not in hits
    with Pool(str(repo / ".git" / "mlv")) as pool:
        for data in (new, other):
            oid = hashlib.sha256(data).hexdigest()
            chunks = pool.resolve(oid)
            assert chunks is not None and b"".join(pool.iter_file(oid, chunks)) == data


def _check_stored(repo: Path, files: dict[str, bytes], answers: dict[str, bytes]) -> None:
    """Every pack indexed (nothing left for a later command to repair); each answer is its file's
    pointer, and its data comes back."""
    packs = sorted((repo / ".git" / "mlv" / "packs").glob("*.pack"))
    assert len(packs) >= 2 and all(p.with_suffix(".idx").exists() for p in packs)
    with Pool(str(repo / ".git" / "mlv")) as pool:
        for name, answer in answers.items():
            pointer = Pointer.parse(answer)
            assert pointer == Pointer(hashlib.sha256(files[name]).hexdigest(), len(files[name]))
            chunks = pool.resolve(pointer.oid)
            assert chunks is not None and b"".join(pool.iter_file(pointer.oid, chunks)) == files[name]


def _kill(ahead: CleanAhead) -> None:
    assert ahead._proc is not None
    ahead._proc.send_signal(signal.SIGKILL)
    ahead._proc.wait()


def test_a_worker_killed_in_the_middle_loses_nothing(repo: Path, trace: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 of the worker after git was given pointers to what it stored: the rest is cleaned
    by the filter itself."""
    files = _files(repo, MANY)
    names = sorted(files)
    monkeypatch.chdir(repo)
    f = PoolFilter(Workspace.discover())
    answers: dict[str, bytes] = {}
    try:
        ahead = _started(f, files)
        for name in names[START_AFTER:START_AFTER + 12]:
            answers[name] = f.clean(name, _Stream(files[name]))
        assert [line for line in clean_trace(trace) if line.startswith("ahead")]  # guesses were used
        _kill(ahead)
        for name in names[START_AFTER + 12:]:
            answers[name] = f.clean(name, _Stream(files[name]))
    finally:
        f.close()
    _check_stored(repo, files, answers)


def test_a_worker_killed_after_its_last_answer_has_its_pack_indexed(repo: Path, trace: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file answered by the worker (the first ones were committed before: the filter itself
    writes nothing), then the worker is killed before it commits its pack: the filter indexes
    that pack before it ends, so the pointers git records find their data."""
    files = _files(repo, MANY)
    names = sorted(files)
    git("add", *names[:START_AFTER], cwd=repo)
    git("commit", "-q", "-m", "first", cwd=repo)
    monkeypatch.chdir(repo)
    f = PoolFilter(Workspace.discover())
    answers: dict[str, bytes] = {}
    try:
        ahead = _started(f, files)
        for name in names[START_AFTER:]:
            answers[name] = f.clean(name, _Stream(files[name]))
        hits = [line for line in clean_trace(trace) if line.startswith("ahead\t")]
        assert len(hits) == len(names) - START_AFTER  # all of them: the filter wrote nothing
        _kill(ahead)
    finally:
        f.close()
    _check_stored(repo, files, answers)


def test_an_add_of_a_few_files_starts_no_worker(repo: Path, trace: Path) -> None:
    """20 files of a folder: the filter cleans them itself (the worker's start would cost more
    than it gives); its pack is the only one."""
    files = _files(repo, 20)
    git("add", "data", cwd=repo)
    assert len(_staged_pointers(repo)) == len(files)
    assert not [line for line in clean_trace(trace) if line.startswith("ahead")]
    assert len(list((repo / ".git" / "mlv" / "packs").glob("*.pack"))) == 1


def test_guessing_stops_when_git_asks_for_few_of_a_folders_files(tmp_path: Path) -> None:
    """``git add`` of a few changed files among many: the guesses git passes over are bounded."""
    folder = tmp_path / "d"
    folder.mkdir()
    for i in range(2000):
        (folder / f"f{i:05d}.bin").write_bytes(b"x%d" % i)
    pool = str(tmp_path / "pool")
    ahead = CleanAhead(str(tmp_path), lambda: spawn(str(tmp_path), pool, Settings(), ""))
    try:
        for i in range(0, 2000, 50):  # every 50th file: the worker's guesses in between are unused
            ahead.note(f"d/f{i:05d}.bin")
            time.sleep(0.02)
    finally:
        ahead.close()
    assert 0 < ahead.sent <= 4 * WINDOW + START_AFTER, ahead.sent
