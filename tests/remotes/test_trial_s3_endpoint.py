"""S3 endpoints as users mistype them: no scheme (`127.0.0.1:8333`), or the URL of a server that is
not S3 (a web server, the wrong port of a gateway).

Regressions: an endpoint without http:// said "internal error: ValueError: Invalid endpoint" (and
`remote modify` stored it silently); a plain web server's 404 to the bucket listing said
"packs/ does not exist", as if the remote were empty.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import git, mlv
from tests.remotes.conftest import make_backend
from tests.remotes.test_faults import commit_data, one_error


@pytest.fixture
def s3_repo(repo: Path, tmp_path: Path, request: pytest.FixtureRequest,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    make_backend("s3", request, tmp_path, monkeypatch).configure(repo)
    commit_data(repo, n=1)
    return repo


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    """A plain web server on loopback serving an empty folder: 404 to every S3 request, with an
    HTML body and no S3 error code."""
    (tmp_path / "www").mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(tmp_path / "www")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_endpoint_without_scheme_is_one_line(s3_repo: Path) -> None:
    one_error(mlv("remote", "modify", "store", "endpoint", "127.0.0.1:8333", cwd=s3_repo, check=False),
              "not an http:// or https:// URL", "http://127.0.0.1:8333")
    git("config", "mlv-remote.store.endpoint", "127.0.0.1:8333", cwd=s3_repo)  # set by hand
    line = one_error(mlv("push", cwd=s3_repo, check=False), "127.0.0.1:8333", "mlv-remote.store.endpoint")
    assert "internal error" not in line


def test_an_endpoint_that_is_no_s3_server_is_named(s3_repo: Path, web_server: str) -> None:
    mlv("remote", "modify", "store", "endpoint", web_server, cwd=s3_repo)
    for verb in ("push", "fetch"):
        line = one_error(mlv(verb, cwd=s3_repo, check=False), web_server, "not as S3 does",
                         "mlv-remote.store.endpoint")
        assert "does not exist" not in line


def test_a_clone_without_the_endpoint_is_told_it_asked_aws(s3_repo: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Endpoints are local settings: a fresh clone of a project on an S3-compatible server has
    none, asks AWS, and was told only that https://BUCKET.s3.amazonaws.com could not be reached.
    AWS is made unreachable here by a proxy on a closed port (no network needed)."""
    mlv("push", cwd=s3_repo)
    git("config", "--unset", "mlv-remote.store.endpoint", cwd=s3_repo)  # as in a fresh clone
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    line = one_error(mlv("fetch", "--all", cwd=s3_repo, check=False), "amazonaws", "proxy")
    assert "no endpoint is set for 'store' here, so AWS's (https://" in line, line
    assert "git mlv remote modify store endpoint URL" in line, line
