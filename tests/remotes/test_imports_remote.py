"""git mlv import from a source reached over SSH (git's own ssh transport, the suite's sshd) whose
data remote is S3 (the suite's SeaweedFS): the endpoint comes from the environment, as boto3 reads
it, since a source's untracked settings never travel with its .gitmlv (docs/imports.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, write
from tests.remotes.conftest import make_backend
from tests.remotes.servers import SeaweedServer, SSHServer


@pytest.mark.slow
def test_import_over_ssh_with_data_on_s3(seaweed: SeaweedServer, sshd: SSHServer, session_home: Path,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         request: pytest.FixtureRequest) -> None:
    store = make_backend("s3", request, tmp_path, monkeypatch)
    src = tmp_path / "src"
    src.mkdir()
    git("init", "-q", cwd=src)
    git("config", "uploadpack.allowFilter", "true", cwd=src)
    mlv("track", "data/**", cwd=src)
    store.configure(src)
    write(src / "data" / "a.bin", random_bytes(30_000, seed=7))
    write(src / "data" / "b" / "c.bin", random_bytes(5_000, seed=8))
    commit_all(src, "v1")
    mlv("push", cwd=src)

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", seaweed.endpoint)
    # OpenSSH finds keys through the password database, not $HOME: name the suite's key and hosts
    monkeypatch.setenv("GIT_SSH_COMMAND", f"ssh -i {sshd.client_key} -o IdentitiesOnly=yes "
                       f"-o UserKnownHostsFile={session_home / '.ssh' / 'known_hosts'} "
                       "-o StrictHostKeyChecking=yes -o BatchMode=yes")
    dst = tmp_path / "dst"
    dst.mkdir()
    git("init", "-q", cwd=dst)
    url = f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{src}"
    mlv("import", url, "data", "-o", "ds", cwd=dst)
    for rel in ("a.bin", "b/c.bin"):
        assert (dst / "ds" / rel).read_bytes() == (src / "data" / rel).read_bytes()
    assert f"url = {url}" in (dst / ".gitmlv").read_text()
    git("commit", "-q", "-m", "import", cwd=dst)
    status = mlv("status", cwd=dst).stdout.decode()
    assert "source moved" not in status and "could not be asked" not in status
