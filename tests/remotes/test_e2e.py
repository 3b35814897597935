"""End to end on each backend, through real git: push v1.0 and v2.0, clone, check out v1.0."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import git, mlv, out, random_bytes, sha256_file, write
from tests.remotes.servers import AzuriteServer

REPO_ROOT = Path(__file__).resolve().parents[2]


def _workload() -> ModuleType | None:
    """shared/bench/make_workload.py beside the clone (CI) or on this machine; None if absent."""
    for base in (REPO_ROOT.parent / "shared" / "bench", Path("/work/shared/bench")):
        path = base / "make_workload.py"
        if path.exists():
            spec = importlib.util.spec_from_file_location("make_workload", path)
            assert spec and spec.loader
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod
    return None


def write_v1(root: Path) -> None:
    """A small ML-like dataset: incompressible "images", a numeric CSV, float32 "weights"."""
    wl = _workload()
    if wl is not None:
        wl.write_v1(str(root), scale=0.01, seed=0)
        return
    for i in range(40):
        write(root / "data" / "images" / f"img_{i:04d}.jpg", random_bytes(40_000 + 997 * i, seed=i))
    rows = b"".join(b"%09d,%d.%06d\n" % (i, i % 97, (i * 7919) % 10**6) for i in range(120_000))
    write(root / "data" / "table.csv", rows)
    write(root / "data" / "model.bin", random_bytes(2_000_000, seed=999))


def apply_v2(root: Path) -> None:
    """Add images, delete one, edit a few CSV rows and append some, change a block of weights."""
    wl = _workload()
    if wl is not None:
        wl.apply_v2(str(root), scale=0.01, seed=0)
        return
    for i in range(40, 60):
        write(root / "data" / "images" / f"img_{i:04d}.jpg", random_bytes(40_000 + 997 * i, seed=i))
    (root / "data" / "images" / "img_0003.jpg").unlink()
    table = bytearray((root / "data" / "table.csv").read_bytes())
    for pos in range(100_000, len(table) - 1000, 300_000):
        table[pos:pos + 5] = b"77777"
    write(root / "data" / "table.csv", bytes(table) + b"999999999,1.000000\n" * 10_000)
    model = bytearray((root / "data" / "model.bin").read_bytes())
    model[1_800_000:1_900_000] = random_bytes(100_000, seed=5)
    write(root / "data" / "model.bin", bytes(model))


def snapshot(root: Path) -> dict[str, str]:
    """{path under data/: sha256} of every file."""
    base = root / "data"
    return {str(p.relative_to(base)): sha256_file(p) for p in sorted(base.rglob("*")) if p.is_file()}


def data_size(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "data").rglob("*") if p.is_file())


# GCS shares ArrowFSRemote with Azure: this workload-sized round trip runs on Azure only (~30 s a
# backend); GCS gets the contract suite, the fetch/pull round trip below and the fault tests.
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["folder", "s3", "ssh", "azure"], indirect=True)
def test_push_clone_checkout(backend, repo: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the clone finds the endpoint the way any user of that cloud's tools would
    if backend.kind == "s3":
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", backend.options.pop("endpoint"))
    elif backend.kind == "azure":
        server = backend.server
        assert isinstance(server, AzuriteServer)
        monkeypatch.delenv("AZURE_STORAGE_KEY")
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                           f"DefaultEndpointsProtocol=http;AccountName={server.ACCOUNT};AccountKey={server.KEY};"
                           f"BlobEndpoint={backend.options.pop('endpoint')}/{server.ACCOUNT};")
    elif backend.kind == "gcs":
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", backend.options.pop("endpoint"))
        backend.options.pop("anonymous")  # implied by STORAGE_EMULATOR_HOST
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    backend.configure(repo)

    write_v1(repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    git("tag", "v1.0", cwd=repo)
    v1 = snapshot(repo)
    # the pre-push hook uploads the data before git sends the commits
    git("push", "-q", "origin", "main", "v1.0", cwd=repo)
    again = json.loads(out(mlv("push", "--json", "v1.0", cwd=repo)))
    # v1.0 was verified on the remote by the hook: nothing to look at, nothing sent (a06f2cc)
    assert again["bytes_sent"] == again["uploaded_files"] == 0 and again["verified_base"], again
    text = mlv("push", "v1.0", cwd=repo).stderr.decode()
    assert "nothing to push: the files are as in" in text, text

    apply_v2(repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v2", cwd=repo)
    git("tag", "v2.0", cwd=repo)
    v2 = snapshot(repo)
    pushed = json.loads(out(mlv("push", "--json", cwd=repo)))
    assert 0 < pushed["bytes_sent"] < 0.30 * data_size(repo), pushed
    git("push", "-q", "origin", "main", "--tags", cwd=repo)
    assert "not on remote" not in out(mlv("status", cwd=repo)).lower()

    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert snapshot(clone) == v2
    assert out(git("status", "--porcelain", cwd=clone)) == ""
    git("checkout", "-q", "v1.0", cwd=clone)
    assert snapshot(clone) == v1
    assert out(git("status", "--porcelain", cwd=clone)) == ""


@pytest.mark.slow
def test_fetch_and_pull_paths(backend, repo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A clone made without data gets it with fetch (pool only) and pull (pool + worktree)."""
    backend.configure(repo)
    write(repo / "data" / "a.bin", random_bytes(60_000, seed=1))
    write(repo / "data" / "sub" / "b.bin", random_bytes(70_000, seed=2))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    mlv("push", "-q", cwd=repo)

    clone = tmp_path / "clone"
    env_skip = {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "mlv.remote",
                "GIT_CONFIG_VALUE_0": "none-at-clone-time"}
    # clone without fetching data: the default remote is overridden by one that does not exist
    from tests.helpers import run

    run(["git", "clone", "-q", str(repo), str(clone)], cwd=tmp_path, env=env_skip)
    for k, v in backend.options.items():
        git("config", f"mlv-remote.store.{k}", v, cwd=clone)
    assert (clone / "data" / "a.bin").stat().st_size < 1024  # still a pointer

    res = json.loads(out(mlv("pull", "--json", "data/sub", cwd=clone)))
    assert res["fetch"]["fetched"] == 1 and res["restored"] == ["data/sub/b.bin"]
    assert (clone / "data" / "sub" / "b.bin").read_bytes() == (repo / "data" / "sub" / "b.bin").read_bytes()
    assert (clone / "data" / "a.bin").stat().st_size < 1024

    res = json.loads(out(mlv("fetch", "--json", "store", cwd=clone)))
    assert res["fetched"] == 1 and res["remote"] == "store"
    assert (clone / "data" / "a.bin").stat().st_size < 1024  # fetch leaves the worktree alone
    mlv("checkout", cwd=clone)
    assert (clone / "data" / "a.bin").read_bytes() == (repo / "data" / "a.bin").read_bytes()
    assert out(git("status", "--porcelain", cwd=clone)) == ""
