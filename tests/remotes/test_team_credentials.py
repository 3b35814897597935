"""A teammate with a read-only S3 key: the clone gets every byte, a push is refused with one line
that names the likely cause.

Regression: the refusal said only "check the bucket policy", while the usual cause in a team is a
key that may only read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import BIN, commit_all, git, random_bytes, run, sha256_file, write
from tests.remotes.conftest import make_backend
from tests.remotes.servers import SeaweedServer


def test_a_read_only_key_clones_and_is_told_why_it_cannot_push(
        repo: Path, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    be = make_backend("s3", request, tmp_path, monkeypatch)
    assert isinstance(be.server, SeaweedServer)
    be.configure(repo)
    write(repo / "a.bin", random_bytes(50_000, seed=21))
    commit_all(repo, "one")
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "main", cwd=repo)

    reader = {**os.environ, "AWS_ACCESS_KEY_ID": be.server.RO_ACCESS,
              "AWS_SECRET_ACCESS_KEY": be.server.RO_SECRET}
    clone = tmp_path / "clone"
    run(["git", "-c", f"mlv-remote.store.endpoint={be.options['endpoint']}", "clone", "-q", str(origin),
         str(clone)], cwd=tmp_path, env=reader)
    assert sha256_file(clone / "a.bin") == sha256_file(repo / "a.bin")
    git("config", "mlv-remote.store.endpoint", be.options["endpoint"], cwd=clone)
    write(clone / "b.bin", random_bytes(50_000, seed=22))
    commit_all(clone, "two")
    proc = run([os.path.join(BIN, "git-mlv"), "push"], cwd=clone, env=reader, check=False)
    lines = [line for line in proc.stderr.decode().splitlines() if line.startswith("git-mlv: error:")]
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert "access denied" in lines[0] and "a read-only key cannot push" in lines[0], lines
