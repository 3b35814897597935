"""S3 credentials set up as users do: a profile in ~/.aws/credentials chosen by `remote modify NAME
profile P` or by AWS_PROFILE, keys exported in the shell. A rejected key is one line that says
which key was sent and where boto3 found it.

Regression: the line said "check the access key and secret boto3 uses (AWS_ACCESS_KEY_ID/AWS_PROFILE
or ~/.aws/credentials)" whatever the source. A user with AWS_PROFILE=team and another project's
AWS_ACCESS_KEY_ID still exported could not tell that boto3 sends the exported key (the environment
wins over AWS_PROFILE); an AWS_PROFILE naming no profile said to fix mlv-remote.NAME.profile,
which was not set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import mlv
from tests.remotes.conftest import make_backend
from tests.remotes.servers import SeaweedServer
from tests.remotes.test_faults import commit_data, one_error


@pytest.fixture
def s3_repo(repo: Path, tmp_path: Path, request: pytest.FixtureRequest,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    """``repo`` with an S3 remote 'store' and no keys in the environment, a credentials file with
    profile 'team' (the admin key) and 'bad' (the admin key id, a wrong secret)."""
    backend = make_backend("s3", request, tmp_path, monkeypatch)
    backend.configure(repo)
    server = backend.server
    assert isinstance(server, SeaweedServer)
    creds = tmp_path / "aws-credentials"
    creds.write_text(f"[team]\naws_access_key_id = {server.ACCESS}\naws_secret_access_key = {server.SECRET}\n"
                     f"[bad]\naws_access_key_id = {server.ACCESS}\naws_secret_access_key = wrong\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    commit_data(repo, n=1)
    return repo


def test_exported_keys_that_win_over_aws_profile_are_named(s3_repo: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "team")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "OTHERPROJECTKEY1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "other-secret")
    one_error(mlv("push", cwd=s3_repo, check=False), "InvalidAccessKeyId", "key ...KEY1",
              "AWS_ACCESS_KEY_ID", "in the environment", "win over AWS_PROFILE=team")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    res = json.loads(mlv("push", "--json", cwd=s3_repo).stdout)  # the profile's key alone now
    assert res["uploaded_files"] == 1, res


def test_a_wrong_secret_in_a_profile_names_the_profile(s3_repo: Path) -> None:
    mlv("remote", "modify", "store", "profile", "bad", cwd=s3_repo)
    one_error(mlv("push", cwd=s3_repo, check=False), "SignatureDoesNotMatch", "profile 'bad'",
              "aws-credentials")
    mlv("remote", "modify", "store", "profile", "team", cwd=s3_repo)
    mlv("push", "-q", cwd=s3_repo)


def test_an_unknown_aws_profile_says_to_fix_aws_profile(s3_repo: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    line = one_error(mlv("push", cwd=s3_repo, check=False), "nosuch", "fix AWS_PROFILE")
    assert "mlv-remote.store.profile" not in line
    mlv("remote", "modify", "store", "profile", "nosuch", cwd=s3_repo)
    one_error(mlv("push", cwd=s3_repo, check=False), "nosuch", "fix mlv-remote.store.profile")
