"""GCS credentials as users get them wrong: GOOGLE_APPLICATION_CREDENTIALS naming a file that is not
there (a path from another machine) or a JSON file that is no credentials file.

Regression: pyarrow raises these as ArrowException / ArrowInvalid, not OSError, so they escaped the
remote's error handling: "git-mlv: internal error: ArrowException: Unknown error:
google::cloud::Status(...)", and the cause sat after a paragraph about OAuth2. Now one line with
the usual remedy and the cause ("Cannot open credentials file PATH").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv
from tests.remotes.conftest import make_backend
from tests.remotes.test_faults import commit_data, one_error


@pytest.fixture
def gcs_repo(repo: Path, tmp_path: Path, request: pytest.FixtureRequest,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    """``repo`` with a GCS remote on the suite's fake-gcs-server, credentials asked of Google's chain."""
    make_backend("gcs", request, tmp_path, monkeypatch).configure(repo)
    git("config", "--unset", "mlv-remote.store.anonymous", cwd=repo)
    commit_data(repo, n=1)
    return repo


def test_a_credentials_file_that_is_not_there_is_named(gcs_repo: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "from-another-machine.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(missing))
    for verb in ("push", "fetch"):
        line = one_error(mlv(verb, cwd=gcs_repo, check=False), "GOOGLE_APPLICATION_CREDENTIALS",
                         f"Cannot open credentials file {missing}")
        assert "internal error" not in line


def test_a_json_file_that_is_no_credentials_file_is_named(gcs_repo: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "creds.json"
    bad.write_text('{"type": "service_account"}')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(bad))
    line = one_error(mlv("push", cwd=gcs_repo, check=False), "GOOGLE_APPLICATION_CREDENTIALS", str(bad))
    assert "internal error" not in line
