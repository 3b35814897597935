"""Fixtures for the remote tests: one SeaweedFS, sshd, Azurite and fake-gcs-server per session, and a
``backend`` fixture that runs a test once per backend (folder, S3, SFTP, Azure, GCS) against a
fresh, empty location."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from git_mlv.remotes.base import Remote
from git_mlv.remotes.url import open_remote
from tests.helpers import git
from tests.remotes.servers import AzuriteServer, FakeGCSServer, SeaweedServer, SSHServer

BUCKET = "mlv-tests"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A SeaweedFS S3 server for the whole session, with bucket ``mlv-tests``."""
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed"))
    server.start()
    server.make_bucket(BUCKET)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory, session_home: Path) -> Iterator[SSHServer]:
    """An OpenSSH server for the session; the test HOME holds its client key and host key."""
    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    ssh_dir = session_home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    for suffix in ("", ".pub"):
        (ssh_dir / f"id_ed25519{suffix}").write_bytes(Path(f"{server.client_key}{suffix}").read_bytes())
    os.chmod(ssh_dir / "id_ed25519", 0o600)
    with open(ssh_dir / "known_hosts", "a") as f:
        f.write(server.known_hosts_line("127.0.0.1"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteServer]:
    """An Azurite blob service for the whole session, with container ``mlv-tests``."""
    server = AzuriteServer(tmp_path_factory.mktemp("azurite"))
    server.start()
    try:
        server.make_container(BUCKET)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGCSServer]:
    """A fake-gcs-server for the whole session, with bucket ``mlv-tests``."""
    server = FakeGCSServer(tmp_path_factory.mktemp("fake-gcs"))
    server.start()
    try:
        server.make_bucket(BUCKET)
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def remote_env(hermetic_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ssh-agent of the developer's, no EC2 or GCE metadata probes (they wait for a timeout)."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Google's credential chain ends at the metadata server: keep any such probe on loopback
    monkeypatch.setenv("GCE_METADATA_ROOT", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")


@dataclass
class Backend:
    """A fresh location on one backend: its URL and the settings a repo needs to reach it."""

    kind: str
    url: str
    options: dict[str, str] = field(default_factory=dict)  # mlv-remote.NAME.* in .git/config
    server: SeaweedServer | SSHServer | AzuriteServer | FakeGCSServer | None = None

    def open(self) -> Remote:
        """The Remote for this location."""
        return open_remote(self.url, self.options)

    def configure(self, repo: Path, name: str = "store", default: bool = True) -> None:
        """``git mlv remote add`` it to ``repo`` (tracked), with its local settings."""
        from tests.helpers import mlv

        mlv("remote", "add", name, self.url, *(["--default"] if default else []), cwd=repo)
        for k, v in self.options.items():
            git("config", f"mlv-remote.{name}.{k}", v, cwd=repo)


def make_backend(kind: str, request: pytest.FixtureRequest, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Backend:
    """A Backend of ``kind`` at a new, empty place."""
    if kind == "folder":
        return Backend("folder", str(tmp_path / "store"))
    if kind == "s3":
        server: SeaweedServer = request.getfixturevalue("seaweed")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.ACCESS)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.SECRET)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        return Backend("s3", f"s3://{BUCKET}/t/{secrets.token_hex(6)}", {"endpoint": server.endpoint},
                       server)
    if kind == "azure":
        az: AzuriteServer = request.getfixturevalue("azurite")
        monkeypatch.setenv("AZURE_STORAGE_KEY", az.KEY)  # the key from the environment, as `az` reads it
        return Backend("azure", f"az://{BUCKET}@{az.ACCOUNT}/t/{secrets.token_hex(6)}",
                       {"endpoint": az.endpoint}, az)
    if kind == "gcs":
        gcs: FakeGCSServer = request.getfixturevalue("fake_gcs")
        return Backend("gcs", f"gs://{BUCKET}/t/{secrets.token_hex(6)}",
                       {"endpoint": gcs.endpoint, "anonymous": "true"}, gcs)
    ssh: SSHServer = request.getfixturevalue("sshd")
    return Backend("ssh", f"ssh://{ssh.user}@127.0.0.1:{ssh.port}{tmp_path}/store", {}, ssh)


@pytest.fixture(params=["folder", "s3", "ssh", "azure", "gcs"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """Each test using this runs once per backend."""
    return make_backend(request.param, request, tmp_path, monkeypatch)
