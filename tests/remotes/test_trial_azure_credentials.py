"""Azure credentials in the shapes users paste them, against the suite's Azurite.

Regressions:
- every SAS token failed: pyarrow wants the token with its leading ``?`` (it appends it to the account
  URL), and git-mlv stripped it, so the token landed in the request's path
  (``/devstoreaccount1/sv=...&sig=.../container``) and Azurite answered 'The specified resource name
  length is not within the permissible limits'. The portal's "Blob SAS URL" (a whole URL) did the same.
- a SAS token the server refused (expired) was named as 'AZURE_STORAGE_KEY / AZURE_STORAGE_SAS_TOKEN
  (or mlv-remote.NAME.accountKey)', and the line quoted the request URL with the token in it: its
  signature, a credential, went to the terminal and CI logs.
- an account key that is not base64 (cut short when copied) said only 'Unexpected end of Base64
  encoded string', from deep in the Azure client, with no word of which setting was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from pathlib import Path

import pytest

from tests.helpers import git, mlv, random_bytes, write
from tests.remotes.conftest import Backend, make_backend
from tests.remotes.servers import AzuriteServer
from tests.remotes.test_faults import commit_data, one_error


def account_sas(az: AzuriteServer, perms: str = "racwdl", expiry: str = "2099-01-01T00:00:00Z") -> str:
    """An account SAS (blob service; service, container and object) for Azurite's development account,
    signed with its key as Azure's SDKs sign one (version 2021-08-06's string-to-sign)."""
    version = "2021-08-06"
    fields = [az.ACCOUNT, perms, "b", "sco", "", expiry, "", "https,http", version, "", ""]
    sig = hmac.new(base64.b64decode(az.KEY), "\n".join(fields).encode(), hashlib.sha256).digest()
    return urllib.parse.urlencode({"sv": version, "ss": "b", "srt": "sco", "sp": perms, "se": expiry,
                                   "spr": "https,http", "sig": base64.b64encode(sig).decode()})


@pytest.fixture
def azure(repo: Path, tmp_path: Path, request: pytest.FixtureRequest,
          monkeypatch: pytest.MonkeyPatch) -> Backend:
    """``repo`` with an Azure remote on Azurite and one committed file; no key in the environment."""
    backend = make_backend("azure", request, tmp_path, monkeypatch)
    backend.configure(repo)
    monkeypatch.delenv("AZURE_STORAGE_KEY")
    return backend


def _clone_has(repo: Path, files: dict[str, bytes], backend: Backend, tmp_path: Path, name: str) -> Path:
    clone = tmp_path / name
    # the endpoint (a local setting) set before the checkout: set after it, the checkout's fetch
    # asked Azure's public host, devstoreaccount1.blob.core.windows.net (a DNS query beyond
    # 127.0.0.1, and ~50 s of the Azure client's retries before the pull below got the data)
    git("clone", "-q", "-c", f"mlv-remote.store.endpoint={backend.options['endpoint']}", str(repo),
        str(clone), cwd=tmp_path)
    mlv("pull", "-q", cwd=clone)
    for path, data in files.items():
        assert (clone / path).read_bytes() == data
    return clone


@pytest.mark.slow
def test_a_sas_token_in_each_form_the_portal_gives(repo: Path, azure: Backend, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    az = azure.server
    assert isinstance(az, AzuriteServer)
    token = account_sas(az)
    files = commit_data(repo, n=2, size=50_000)
    # the portal's "Blob SAS URL", in the remote's setting
    git("config", "mlv-remote.store.sasToken",
        f"https://{az.ACCOUNT}.blob.core.windows.net/mlv-tests?{token}", cwd=repo)
    mlv("push", "-q", cwd=repo)
    # "?sv=...", as Storage Explorer copies it, in the environment variable `az` reads, in a clone
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", f"?{token}")
    clone = _clone_has(repo, files, azure, tmp_path, "clone")
    # the bare token, as the portal's "SAS token" box shows it: a push from the clone
    monkeypatch.delenv("AZURE_STORAGE_SAS_TOKEN")
    git("config", "mlv-remote.store.sasToken", token, cwd=clone)
    more = {"data/more.bin": random_bytes(70_000, seed=99)}
    write(clone / "data/more.bin", more["data/more.bin"])
    git("add", "data/more.bin", cwd=clone)
    git("commit", "-q", "-m", "more", cwd=clone)
    mlv("push", "-q", cwd=clone)
    git("push", "-q", str(repo), "HEAD:refs/heads/from-clone", cwd=clone)
    git("checkout", "-q", "from-clone", cwd=repo)
    # the repo reads what the clone pushed with the SAS URL of its setting (no key in the environment)
    mlv("pull", "-q", cwd=repo)
    assert (repo / "data/more.bin").read_bytes() == more["data/more.bin"]


def test_a_sas_token_that_is_none_is_named(repo: Path, azure: Backend) -> None:
    commit_data(repo, n=1)
    git("config", "mlv-remote.store.sasToken", "my-token", cwd=repo)
    line = one_error(mlv("push", cwd=repo, check=False), "mlv-remote.store.sasToken", "not a SAS token")
    assert "resource name" not in line


@pytest.mark.slow
def test_an_account_key_cut_short_is_named(repo: Path, azure: Backend, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    az = azure.server
    assert isinstance(az, AzuriteServer)
    files = commit_data(repo, n=1)
    monkeypatch.setenv("AZURE_STORAGE_KEY", az.KEY[:-3])  # the last characters missed when copied
    for verb in ("push", "fetch"):
        line = one_error(mlv(verb, cwd=repo, check=False), "AZURE_STORAGE_KEY",
                         "not an Azure storage account key")
        assert "base64 encoded string" not in line.lower()
    git("config", "mlv-remote.store.accountKey", "abc", cwd=repo)
    one_error(mlv("push", cwd=repo, check=False), "mlv-remote.store.accountKey", "account key")
    # the key, with the line end `$(cat key.txt)` or a copy can bring, works
    git("config", "--unset", "mlv-remote.store.accountKey", cwd=repo)
    monkeypatch.setenv("AZURE_STORAGE_KEY", f" {az.KEY}\n")
    mlv("push", "-q", cwd=repo)
    _clone_has(repo, files, azure, tmp_path, "clone")


def test_a_refused_sas_token_is_named_and_not_shown(repo: Path, azure: Backend) -> None:
    az = azure.server
    assert isinstance(az, AzuriteServer)
    commit_data(repo, n=1)
    expired = account_sas(az, expiry="2020-01-01T00:00:00Z")
    git("config", "mlv-remote.store.sasToken", expired, cwd=repo)
    for verb in ("push", "fetch"):
        proc = mlv(verb, cwd=repo, check=False)
        line = one_error(proc, "rejected the credentials", "SAS token of mlv-remote.store.sasToken",
                         "expired")
        assert "sig=" not in line
        sig = urllib.parse.parse_qs(expired)["sig"][0]
        for shown in (sig, urllib.parse.quote(sig, safe="")):
            assert shown.encode() not in proc.stderr
