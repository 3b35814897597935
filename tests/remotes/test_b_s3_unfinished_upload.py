"""A push to S3 killed while it sends a pack above 16 MiB (multipart) leaves an unfinished
multipart upload: invisible to every listing, its parts stored (and, on AWS, billed) until it is
aborted. `git mlv gc --remote` now aborts those older than the grace period, as it deletes a
folder push's staged packs and an SFTP put's temp files (S3Remote.list_staged).

The upload is left here as the kill leaves it, with the real server's own calls: begun, one part
sent, never completed (test_fetch's kill of a real push cannot stop between two parts on demand).
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

from tests.helpers import git, mlv, random_bytes, write
from tests.remotes.conftest import BUCKET, make_backend
from tests.remotes.servers import SeaweedServer


def test_gc_remote_aborts_a_killed_multipart_upload(repo: Path, tmp_path: Path,
                                                    request: pytest.FixtureRequest,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    backend = make_backend("s3", request, tmp_path, monkeypatch)
    backend.configure(repo)
    data = random_bytes(200_000, seed=77)
    write(repo / "data.bin", data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    mlv("push", cwd=repo)

    assert isinstance(backend.server, SeaweedServer)
    client = backend.server.client()
    prefix = backend.url.split("/", 3)[3]
    key = f"{prefix}/packs/pack-{secrets.token_hex(16)}.pack"
    upload = client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=b"x" * 1024)

    def unfinished() -> list[str]:
        ups = client.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{prefix}/").get("Uploads", [])
        return [u["Key"] for u in ups]

    assert unfinished() == [key]
    mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=repo)
    assert unfinished() == []  # the old code left it: nothing lists it

    shutil.rmtree(repo / ".git" / "mlv")  # the pushed data still comes back whole
    (repo / "data.bin").unlink()
    git("checkout", "--", "data.bin", cwd=repo)
    mlv("pull", cwd=repo)
    assert (repo / "data.bin").read_bytes() == data
