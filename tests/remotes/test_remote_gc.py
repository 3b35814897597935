"""`git mlv gc --remote` through real git on every backend, kill -9 at each step, and clones that
push to one remote while consolidating it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from git_mlv.core.crashpoint import ENV
from tests.helpers import BIN, git, mlv, out, random_bytes, sha256_file, write
from tests.remotes.conftest import Backend, make_backend


def setup_repo(backend: Backend, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An origin for git and ``backend`` as the default data remote; returns the origin."""
    if backend.kind == "s3":  # clones find the endpoint the way any boto3 user would
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", backend.options["endpoint"])
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    backend.configure(repo)
    return origin


def make_history(repo: Path) -> dict[str, str]:
    """main keeps live.bin and kept.bin; kept.bin's data went up in the same push as junk.bin
    (a pack that mixes live and dead objects); dead.bin went up alone; both branches are gone."""
    write(repo / "live.bin", random_bytes(60_000, 1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    git("checkout", "-q", "-b", "tmp", cwd=repo)
    write(repo / "junk.bin", random_bytes(300_000, 2))
    write(repo / "kept.bin", random_bytes(40_000, 3))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "mixed", cwd=repo)
    mlv("push", "store", "tmp", cwd=repo)
    git("checkout", "-q", "-b", "tmp2", "main", cwd=repo)
    write(repo / "dead.bin", random_bytes(200_000, 4))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "dead", cwd=repo)
    mlv("push", "store", "tmp2", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    git("checkout", "tmp", "--", "kept.bin", cwd=repo)
    git("commit", "-q", "-m", "keep one", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    git("branch", "-q", "-D", "tmp", "tmp2", cwd=repo)
    git("reflog", "expire", "--expire=now", "--all", cwd=repo)
    # and let git prune unreachable commits now (`git gc --prune=now`): gc keeps the data of
    # those git still holds (gc.pruneExpire, two weeks: gitio/gcroots.py)
    git("config", "gc.pruneExpire", "now", cwd=repo)
    return {p: sha256_file(repo / p) for p in ("live.bin", "kept.bin")}


def pushed_one_file(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    request: pytest.FixtureRequest) -> Backend:
    """A folder data remote holding one pushed file; returns it."""
    backend = make_backend("folder", request, tmp_path, monkeypatch)
    setup_repo(backend, repo, tmp_path, monkeypatch)
    write(repo / "live.bin", random_bytes(30_000, 1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    return backend


def remote_state(backend: Backend) -> dict[str, int]:
    return backend.open().list("packs/")


def gc_json(repo: Path, *args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(out(mlv("gc", "--remote", "store", "--json", *args, cwd=repo)))


def check_clone(origin: Path, dest: Path, want: dict[str, str]) -> None:
    git("clone", "-q", str(origin), str(dest), cwd=dest.parent)
    assert {p: sha256_file(dest / p) for p in want} == want
    assert out(git("status", "--porcelain", cwd=dest)) == ""


@pytest.mark.slow
def test_gc_remote(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   request: pytest.FixtureRequest) -> None:
    # on a folder; S3 below (kill -9), and every backend's list_info in the contract suite
    backend = make_backend("folder", request, tmp_path, monkeypatch)
    origin = setup_repo(backend, repo, tmp_path, monkeypatch)
    want = make_history(repo)
    before = remote_state(backend)

    recent = gc_json(repo)  # default grace: every pack is younger than a day
    assert recent["packs_deleted"] == recent["packs_repacked"] == 0
    assert recent["packs_recent"] == len([n for n in before if n.endswith(".pack")])
    assert remote_state(backend) == before

    dry = gc_json(repo, "--grace-hours", "0", "--dry-run")
    assert dry["packs_deleted"] >= 1 and dry["packs_repacked"] >= 1 and dry["freed_bytes"] > 400_000
    assert remote_state(backend) == before

    res = gc_json(repo, "--grace-hours", "0")
    assert res["packs_deleted"] == dry["packs_deleted"] and res["packs_repacked"] == dry["packs_repacked"]
    after = remote_state(backend)
    assert sum(after.values()) < sum(before.values()) - 400_000
    assert set(res["removed"]).isdisjoint(after)
    check_clone(origin, tmp_path / "clone", want)
    again = gc_json(repo, "--grace-hours", "0")
    assert again["dead_objects"] == 0 and again["packs_deleted"] == again["packs_repacked"] == 0
    said = mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=repo).stdout.decode()
    assert "deleted 0 pack(s), repacked 0 (into 0), freed 0 B" in said, said  # not "did delete"
    said = mlv("gc", "--remote", "store", "--dry-run", cwd=repo).stdout.decode()
    assert "would delete 0 pack(s), repack 0 (into 0), free 0 B" in said, said


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "point"), [("folder", "remote-gc-repacked"), ("s3", "remote-gc-deleting")])
def test_kill_9_during_gc_remote(kind: str, point: str, repo: Path, tmp_path: Path,
                                 request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = make_backend(kind, request, tmp_path, monkeypatch)
    origin = setup_repo(backend, repo, tmp_path, monkeypatch)
    want = make_history(repo)
    before = sum(remote_state(backend).values())
    cmd = [os.path.join(BIN, "git-mlv"), "gc", "--remote", "store", "--grace-hours", "0"]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, env={**os.environ, ENV: point})
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    check_clone(origin, tmp_path / "clone-after-kill", want)
    assert out(mlv("fsck", cwd=repo)).strip().endswith("pool is healthy")
    mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=repo)  # the rerun finishes the work
    assert sum(remote_state(backend).values()) < before - 400_000
    check_clone(origin, tmp_path / "clone-after-rerun", want)


def test_an_old_upload_without_index_is_collected(repo: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  request: pytest.FixtureRequest) -> None:
    backend = pushed_one_file(repo, tmp_path, monkeypatch, request)
    store = Path(backend.url) / "packs"
    old, young = store / f"pack-{'ab' * 16}.pack", store / f"pack-{'cd' * 16}.pack"
    old.write_bytes(b"half a pack")  # a push killed before its index, two days ago
    young.write_bytes(b"a pack being uploaded")  # and one right now
    two_days = time.time() - 2 * 86400
    os.utime(old, (two_days, two_days))
    res = gc_json(repo)
    assert res["packs_deleted"] == 1 and not old.exists() and young.exists()
    assert res["dead_objects"] == 0


def test_what_a_killed_folder_push_staged_is_collected_once_old(repo: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  request: pytest.FixtureRequest) -> None:
    """A folder push writes a batch of packs as hidden staged files before publishing them; one
    killed in between (its pending list lost with its clone) leaves them: gc collects the old."""
    backend = pushed_one_file(repo, tmp_path, monkeypatch, request)
    rem = backend.open()
    rem.stage(f"packs/pack-{'ab' * 16}.pack", b"staged two days ago")  # never published
    rem.stage(f"packs/pack-{'cd' * 16}.pack", b"being staged right now")
    store = Path(backend.url) / "packs"
    old, young = store / f".staged-pack-{'ab' * 16}.pack", store / f".staged-pack-{'cd' * 16}.pack"
    two_days = time.time() - 2 * 86400
    os.utime(old, (two_days, two_days))
    assert set(rem.list_staged("packs/")) == {f"packs/pack-{'ab' * 16}.pack", f"packs/pack-{'cd' * 16}.pack"}
    before = remote_state(backend)
    res = gc_json(repo)
    assert not old.exists() and young.exists()
    assert res["packs_deleted"] == 1 and res["freed_bytes"] == len(b"staged two days ago")
    assert remote_state(backend) == before  # the published packs are untouched


def test_gc_remote_refuses_when_nothing_is_live(repo: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                request: pytest.FixtureRequest) -> None:
    backend = pushed_one_file(repo, tmp_path, monkeypatch, request)
    other = tmp_path / "other"  # a repository that shares nothing with the remote's data
    other.mkdir()
    git("init", "-q", cwd=other)
    backend.configure(other)
    proc = mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=other, check=False)
    # the push recorded its repository (repos/<root>): another one is refused at once
    assert proc.returncode == 2 and b"also serves another repository" in proc.stderr, proc.stderr
    assert len(proc.stderr.decode().strip().splitlines()) == 1
    # a remote without such records (written before them): refused since nothing here is live
    for name in backend.open().list("repos/"):
        backend.open().delete(name)
    proc = mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=other, check=False)
    assert proc.returncode != 0 and b"refusing" in proc.stderr and b"Traceback" not in proc.stderr
    assert len(proc.stderr.decode().strip().splitlines()) == 1
    assert any(n.endswith(".pack") for n in remote_state(backend))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["folder"])
def test_two_clones_push_while_one_consolidates(kind: str, repo: Path, tmp_path: Path,
                                                request: pytest.FixtureRequest,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    backend = make_backend(kind, request, tmp_path, monkeypatch)
    origin = setup_repo(backend, repo, tmp_path, monkeypatch)
    write(repo / "data" / "seed.bin", random_bytes(10_000, 0))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "seed", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    clones = []
    for name in ("a", "b"):
        c = tmp_path / name
        git("clone", "-q", str(origin), str(c), cwd=tmp_path)
        for k, v in backend.options.items():
            git("config", f"mlv-remote.store.{k}", v, cwd=c)
        git("checkout", "-q", "-b", f"work-{name}", cwd=c)
        clones.append(c)
    git("config", "mlv.autoPacks", "2", cwd=clones[0])  # a consolidates after nearly every push
    git("config", "mlv.autoPacks", "0", cwd=clones[1])  # b never does: it only piles up indexes
    want: dict[str, dict[str, str]] = {"a": {}, "b": {}}
    errors: list[str] = []

    def work(c: Path) -> None:
        try:
            for i in range(3):
                data = random_bytes(20_000 + i, seed=ord(c.name[0]) * 100 + i)
                p = write(c / "data" / f"{c.name}{i}.bin", data)
                want[c.name][f"data/{p.name}"] = sha256_file(p)
                git("add", "-A", cwd=c)
                git("commit", "-q", "-m", f"{c.name}{i}", cwd=c)
                git("push", "-q", "origin", f"work-{c.name}", cwd=c)
        except AssertionError as e:
            errors.append(str(e))

    threads = [threading.Thread(target=work, args=(c,)) for c in clones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    listing = remote_state(backend)
    assert any(n.endswith(".midx") for n in listing)
    for name in ("a", "b"):  # a third clone gets both clones' data, byte for byte
        dest = tmp_path / f"check-{name}"
        git("clone", "-q", "-b", f"work-{name}", str(origin), str(dest), cwd=tmp_path)
        assert {p: sha256_file(dest / p) for p in want[name]} == want[name]
        assert out(git("status", "--porcelain", cwd=dest)) == ""
