"""Remote pack merging (docs/remotes.md "Pack merging"): few packs however many pushes, built from
local data only, readers that race a merge, kill -9 at every step, and git pushes that merge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from git_mlv.core.crashpoint import ENV
from git_mlv.core.pool import Pool
from git_mlv.remotes.base import Remote
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.compact import compact_indexes
from git_mlv.remotes.merge import merge_packs
from git_mlv.remotes.transfer import push_objects
from tests.helpers import git, random_bytes, sha256_file, write
from tests.remotes.conftest import Backend, make_backend
from tests.remotes.test_compact import fetch_all
from tests.remotes.test_transfer import RETRY, SMALL, Recording


def packs_of(remote: Remote) -> list[str]:
    return sorted(n for n in remote.list("packs/") if n.endswith(".pack"))


def push(tmp_path: Path, remote: Remote, rounds: int, seed: int = 0, merge: int = 3,
         grace: float = 0.0, pack_size: int = SMALL.pack_size) -> dict[str, bytes]:
    """``rounds`` pushes of two new files each from pool ``src<seed>`` (one pack each), merging
    (threshold ``merge``; 0: never) and consolidating indexes after each, as a push does."""
    pool = Pool(str(tmp_path / f"src{seed}"), SMALL)
    rindex = RemoteIndex(remote, str(tmp_path / f"src{seed}-cache"))
    files: dict[str, bytes] = {}
    for r in range(rounds):
        w = pool.writer()
        new = {}
        for k in range(2):
            data = random_bytes(2000 + 3000 * k + r, seed=seed * 1000 + 10 * r + k)
            new[w.add_bytes(data).oid] = data
        w.commit()
        rindex.refresh()
        push_objects(pool, remote, rindex, new, pack_size, RETRY)
        merge_packs(pool, remote, rindex, RETRY, merge, pack_size, grace)
        compact_indexes(remote, rindex, RETRY, 3)
        files.update(new)
    pool.close()
    rindex.close()
    return files


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_many_pushes_leave_few_packs(kind: str, tmp_path: Path, request: pytest.FixtureRequest,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    remote = make_backend(kind, request, tmp_path, monkeypatch).open()
    files = push(tmp_path, remote, 14)
    assert len(packs_of(remote)) <= 6  # 14 without merging; grace 0: superseded ones are gone
    reader = Recording(remote)
    fetch_all(tmp_path, reader, files).close()  # every byte, from a fresh clone
    assert reader.ranges <= 6


def test_superseded_packs_stay_for_the_grace_period(tmp_path: Path) -> None:
    remote = Backend("folder", str(tmp_path / "store")).open()
    files = push(tmp_path, remote, 8, grace=3600.0)
    rindex = RemoteIndex(remote, str(tmp_path / "look"))
    rindex.refresh()
    files_on_remote, committed = packs_of(remote), rindex.packs()
    assert len(committed) < 8 < len(files_on_remote)  # old bytes kept for readers in flight
    rindex.close()
    pool = Pool(str(tmp_path / "src0"), SMALL)
    cache = RemoteIndex(remote, str(tmp_path / "src0-cache"))
    cache.refresh()
    res = merge_packs(pool, remote, cache, RETRY, 1000, SMALL.pack_size, 0.0)  # no merge; grace over
    assert res is not None and set(res.deleted) == set(files_on_remote) - set(committed)
    assert packs_of(remote) == committed
    fetch_all(tmp_path, remote, files).close()
    pool.close()
    cache.close()


def test_packs_half_full_are_left_alone(tmp_path: Path) -> None:
    remote = Backend("folder", str(tmp_path / "store")).open()
    files = push(tmp_path, remote, 6, pack_size=12_000)  # each push: one pack of ~7-8 KB
    assert len(packs_of(remote)) == 6  # else each push would cut them into full packs again
    fetch_all(tmp_path, remote, files).close()


def test_only_packs_whose_data_is_here_are_merged(tmp_path: Path) -> None:
    remote = Backend("folder", str(tmp_path / "store")).open()
    theirs = push(tmp_path, remote, 4, seed=1, merge=0)  # another clone's packs, never merged
    theirs_packs = set(packs_of(remote))
    ours = push(tmp_path, remote, 6, seed=2, merge=3)
    assert theirs_packs <= set(packs_of(remote))  # nothing downloaded, nothing of theirs moved
    assert len(packs_of(remote)) < 4 + 6
    fetch_all(tmp_path, remote, {**theirs, **ours}).close()


class MergesOnFirstRangeRead(Recording):
    """A real remote on which another clone merges every pack (grace 0: the old ones deleted) just
    after our lookups, before our first range read (instrumentation, not a mock)."""

    def __init__(self, inner: Remote, tmp_path: Path) -> None:
        super().__init__(inner)
        self.tmp_path = tmp_path
        self.done = False

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        if not self.done:
            self.done = True
            pool = Pool(str(self.tmp_path / "src0"), SMALL)
            other = RemoteIndex(self.inner, str(self.tmp_path / "other-cache"))
            other.refresh()
            res = merge_packs(pool, self.inner, other, RETRY, 2, SMALL.pack_size, 0.0)
            assert res is not None and name in res.deleted
            other.close()
            pool.close()
        return super().get_range(name, offset, length)


def test_a_clone_reading_during_a_merge_gets_every_byte(backend: Backend, tmp_path: Path) -> None:
    remote = backend.open()
    files = push(tmp_path, remote, 5, merge=0)
    racing = MergesOnFirstRangeRead(remote, tmp_path)
    fetch_all(tmp_path, racing, files).close()
    assert racing.done and len(packs_of(remote)) < 5


MERGE = textwrap.dedent("""
    import json, sys
    from git_mlv.core.pool import Pool
    from git_mlv.remotes.cache import RemoteIndex
    from git_mlv.remotes.merge import merge_packs
    from git_mlv.remotes.transfer import RetryPolicy
    from git_mlv.remotes.url import open_remote
    from tests.remotes.test_transfer import SMALL
    remote = open_remote(sys.argv[1], json.loads(sys.argv[2]))
    rindex = RemoteIndex(remote, sys.argv[3] + "-cache")
    rindex.refresh()
    res = merge_packs(Pool(sys.argv[3], SMALL), remote, rindex, RetryPolicy(attempts=2, base_delay=0.05),
                      2, SMALL.pack_size, 0.0)
    print("merged", len(res.merged) if res else 0)
""")


SLOW = pytest.mark.slow


@pytest.mark.parametrize(("kind", "point"), [("folder", "remote-merge-uploaded"),
                                             ("folder", "remote-merge-unindexing"),
                                             ("folder", "remote-merge-deleting"),
                                             pytest.param("s3", "remote-merge-uploaded", marks=SLOW),
                                             pytest.param("s3", "remote-merge-deleting", marks=SLOW)])
def test_kill_9_during_a_merge(kind: str, point: str, tmp_path: Path, request: pytest.FixtureRequest,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    backend = make_backend(kind, request, tmp_path, monkeypatch)
    remote = backend.open()
    files = push(tmp_path, remote, 4, merge=0)
    # the pusher's own pool and cache, as a push would leave them
    args = [sys.executable, "-c", MERGE, backend.url, json.dumps(backend.options), str(tmp_path / "src0")]
    proc = subprocess.run(args, capture_output=True, env={**os.environ, ENV: point},
                          cwd=Path(__file__).parents[2])
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    fetch_all(tmp_path, remote, files, "after-kill").close()  # nothing lost, readable at once
    rerun = subprocess.run(args, capture_output=True, cwd=Path(__file__).parents[2])
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    rindex = RemoteIndex(remote, str(tmp_path / "check-cache"))
    rindex.refresh()
    assert len(rindex.packs()) <= 2 and set(packs_of(remote)) == set(rindex.packs())  # finished
    rindex.close()
    fetch_all(tmp_path, remote, files, "after-rerun").close()


@pytest.mark.slow
def test_git_push_merges_unless_turned_off(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    Backend("folder", str(store)).configure(repo)
    git("config", "mlv.autoPacks", "2", cwd=repo)
    git("config", "mlv.remoteGcGraceHours", "0", cwd=repo)
    want = {}

    def commits(n: int, tag: str) -> int:
        for i in range(n):
            p = write(repo / "data" / f"{tag}{i}.bin", random_bytes(5000 + i, seed=ord(tag) * 10 + i))
            want[f"data/{p.name}"] = sha256_file(p)
            git("add", "-A", cwd=repo)
            git("commit", "-q", "-m", f"{tag}{i}", cwd=repo)
            git("push", "-q", "origin", "main", cwd=repo)
        return len([n for n in os.listdir(store / "packs") if n.endswith(".pack")])

    merged = commits(3, "m")
    assert merged < 3  # 3 without merging (whether the third is merged at once depends on sizes)
    git("config", "mlv.remoteMergePacks", "false", cwd=repo)
    assert commits(2, "o") == merged + 2  # nothing merged
    dest = tmp_path / "clone"
    git("clone", "-q", str(origin), str(dest), cwd=tmp_path)
    assert {p: sha256_file(dest / p) for p in want} == want


def test_a_damaged_local_copy_is_never_merged_into_the_remote(tmp_path: Path) -> None:
    """A merge builds its packs from the local pool: an entry rotten here stops the merge before
    anything goes up, and the remote's good packs stay committed (before, the merged pack carried
    the rotten bytes and the good packs were unindexed)."""
    from git_mlv.core.pack import ENTRY_SIZE

    remote = Backend("folder", str(tmp_path / "store")).open()
    files = push(tmp_path, remote, 2, merge=0)  # four small packs on the remote, none merged yet
    before = packs_of(remote)
    pool = Pool(str(tmp_path / "src0"), SMALL)
    for pack in pool.packs():  # one entry of each local pack rots
        index = pool.index_of(pack)
        e = max((index.entry(i) for i in range(index.count)), key=lambda e: e.stored_len)
        data = bytearray(Path(pack).read_bytes())
        data[e.offset + ENTRY_SIZE + e.stored_len // 2] ^= 0x04
        Path(pack).write_bytes(bytes(data))
    rindex = RemoteIndex(remote, str(tmp_path / "src0-cache"))
    rindex.refresh()
    res = merge_packs(pool, remote, rindex, RETRY, 2, SMALL.pack_size, 0.0)
    assert res is not None and "damaged" in res.error and not res.merged
    assert packs_of(remote) == before
    pool.close()
    rindex.close()
    fetch_all(tmp_path, remote, files).close()  # every byte still comes back from the remote
