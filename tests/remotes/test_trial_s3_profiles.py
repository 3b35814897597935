"""S3 profiles whose credentials come from AWS IAM Identity Center (SSO) or a credential_process,
as companies set them up, when the user has not logged in or the process fails.

Regression: the lines were boto3's alone, naming neither the profile nor the remedy: "Error loading
SSO Token: Token for corp does not exist", and "Error when retrieving credentials from
custom-process: " for a credential_process that failed silently. No request reaches the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import mlv
from tests.remotes.conftest import make_backend
from tests.remotes.test_faults import commit_data, one_error


@pytest.fixture
def s3_repo(repo: Path, tmp_path: Path, request: pytest.FixtureRequest,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    """``repo`` with an S3 remote, no keys in the environment, and an AWS config with an SSO
    profile nobody logged in to and a credential_process profile whose process fails."""
    make_backend("s3", request, tmp_path, monkeypatch).configure(repo)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    config = tmp_path / "aws-config"
    config.write_text("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
                      "sso_role_name = Dev\nregion = us-east-1\n"
                      "[sso-session corp]\nsso_start_url = https://corp.example/start\n"
                      "sso_region = us-east-1\n"
                      "[profile proc]\ncredential_process = /bin/false\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    commit_data(repo, n=1)
    monkeypatch.setenv("HOME", str(tmp_path))  # the SSO token cache (~/.aws/sso/cache) is empty
    return repo


def test_an_sso_profile_not_logged_in_says_to_log_in(s3_repo: Path) -> None:
    mlv("remote", "modify", "store", "profile", "dev", cwd=s3_repo)
    one_error(mlv("push", cwd=s3_repo, check=False), "profile 'dev'", "aws sso login --profile dev")


def test_a_failing_credential_process_names_the_profile(s3_repo: Path) -> None:
    mlv("remote", "modify", "store", "profile", "proc", cwd=s3_repo)
    one_error(mlv("fetch", cwd=s3_repo, check=False), "profile 'proc'", "credential_process")
