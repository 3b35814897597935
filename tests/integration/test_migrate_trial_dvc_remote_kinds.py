"""from-dvc's remote commands for the DVC remotes of the kinds git-mlv reaches, with the settings
that say where (real DVC writes .dvc/config and .dvc/config.local).

Regression: an Azure remote (DVC's `azure://container/path`, account in `account_name`) was called
"a kind git-mlv does not support" though git-mlv has Azure (az://container@account/path), and the
project's default remote was then printed nowhere; an S3 remote on MinIO or another endpoint
(`endpointurl`), or with a `region` or `profile`, was printed bare, so the first push went to AWS;
an SSH remote's `user` and `port` settings were dropped.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)


def test_azure_and_s3_settings_are_carried_over(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    dvc("remote", "add", "-q", "-d", "azr", "azure://models/team/dvc", cwd=repo)
    dvc("remote", "modify", "-q", "azr", "account_name", "acme", cwd=repo)
    dvc("remote", "modify", "-q", "--local", "azr", "account_key", "c2VjcmV0", cwd=repo)  # never printed
    dvc("remote", "add", "-q", "minio", "s3://bkt/dvc", cwd=repo)
    dvc("remote", "modify", "-q", "minio", "endpointurl", "http://127.0.0.1:9000", cwd=repo)
    dvc("remote", "modify", "-q", "minio", "region", "eu-west-1", cwd=repo)
    dvc("remote", "modify", "-q", "--local", "minio", "profile", "dev", cwd=repo)
    dvc("remote", "modify", "-q", "--local", "minio", "secret_access_key", "hush", cwd=repo)
    dvc("remote", "add", "-q", "box", "ssh://box.example/srv/dvc", cwd=repo)
    dvc("remote", "modify", "-q", "box", "port", "2222", cwd=repo)
    dvc("remote", "modify", "-q", "--local", "box", "user", "bob", cwd=repo)
    write(repo / "a.bin", b"data\n")
    dvc("add", "-q", "a.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    res = out(mlv("migrate", "from-dvc", "--dry-run", cwd=repo))
    lines = res[res.index("DVC remotes, as git-mlv remotes"):].splitlines()[1:7]
    assert [line.strip() for line in lines] == [
        "git mlv remote add azr az://models@acme/team/dvc --default",
        "git mlv remote add box ssh://bob@box.example:2222/srv/dvc",
        "git mlv remote add minio s3://bkt/dvc",
        "git mlv remote modify minio endpoint http://127.0.0.1:9000",
        "git mlv remote modify minio profile dev",
        "git mlv remote modify minio region eu-west-1",
    ], res
    assert "does not support" not in res and "c2VjcmV0" not in res and "hush" not in res
    for line in lines:  # the commands work as printed
        mlv(*line.split()[2:], cwd=repo)
    listed = out(mlv("remote", "list", cwd=repo))
    assert "* azr" in listed and "endpoint=http://127.0.0.1:9000 profile=dev region=eu-west-1" in listed
