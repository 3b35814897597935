"""`git mlv status` in a clone that cannot reach its data remote (no or wrong credentials, server
down) and never listed it: nothing is known about which commits' data the remote holds.

Regression: status answered from the empty cache and listed every commit under "Commits whose data
is not all on remote 'store' (`git push` or `git mlv push --all` sends it)", advising a push of
data the clone does not even have, while the remote held all of it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers import BIN, commit_all, git, random_bytes, run, sha256_file, write
from tests.remotes.conftest import make_backend

UNPUSHED = "Commits whose data is not all on remote"


def _mlv_env(args: list[str], cwd: Path, **env: str) -> str:
    full = {**os.environ, **env}
    proc = run([os.path.join(BIN, "git-mlv"), *args], cwd=cwd, check=False, env=full)
    return proc.stdout.decode() + proc.stderr.decode()


def test_status_of_a_clone_that_cannot_list_its_remote_claims_no_unpushed_commits(
        repo: Path, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    be = make_backend("s3", request, tmp_path, monkeypatch)
    be.configure(repo)
    write(repo / "a.bin", random_bytes(30_000, seed=1))
    commit_all(repo, "one")
    write(repo / "b.bin", random_bytes(30_000, seed=2))
    commit_all(repo, "two")
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)

    clone = tmp_path / "clone"
    wrong = {"AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    run(["git", "-c", f"mlv-remote.store.endpoint={be.options['endpoint']}", "clone", "-q", str(origin),
         str(clone)], cwd=tmp_path, env={**os.environ, **wrong})
    git("config", "mlv-remote.store.endpoint", be.options["endpoint"], cwd=clone)
    text = _mlv_env(["status"], clone, **wrong)
    assert "could not be asked" in text and "rejected the credentials" in text, text
    assert UNPUSHED not in text, text  # it was never listed: no claim about what it lacks

    # with the right key the same clone gets everything, and status has nothing to say
    text = _mlv_env(["pull"], clone)
    assert sha256_file(clone / "a.bin") == sha256_file(repo / "a.bin")
    assert sha256_file(clone / "b.bin") == sha256_file(repo / "b.bin")
    text = _mlv_env(["status"], clone)
    assert "Everything is in place and on remote 'store'" in text, text

    # once listed, the listing answers: a commit whose data never went up is still named
    write(clone / "c.bin", random_bytes(30_000, seed=3))
    commit_all(clone, "three, not pushed")
    text = _mlv_env(["status"], clone, **wrong)
    assert UNPUSHED in text and "three, not pushed" in text, text


def test_status_asks_a_stopped_server_once(repo: Path, tmp_path: Path, request: pytest.FixtureRequest,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Status answers from the cached listing when the remote cannot be reached, so it does not
    retry: with mlv.remoteRetries 8 its backoff alone took at least 12 s against a stopped server
    (34 s with the default 5 against a stopped Azure endpoint, whose client retries too)."""
    from tests.remotes.servers import free_port

    be = make_backend("s3", request, tmp_path, monkeypatch)
    be.configure(repo)
    write(repo / "a.bin", random_bytes(30_000, seed=1))
    commit_all(repo, "one")
    _mlv_env(["push"], repo)
    git("config", "mlv.remoteRetries", "8", cwd=repo)
    git("config", "mlv-remote.store.endpoint", f"http://127.0.0.1:{free_port()}", cwd=repo)  # stopped
    listed = repo / ".git" / "mlv" / "remotes" / "store" / "listed"
    os.utime(listed, (time.time() - 7200, time.time() - 7200))  # two hours old: status lists again
    start = time.monotonic()
    text = _mlv_env(["status"], repo)
    took = time.monotonic() - start
    assert "could not be asked" in text and "answered from its listing of 2 hours ago" in text, text
    assert took < 8, (took, text)


def test_a_changed_url_is_not_answered_from_the_old_places_listing(repo: Path, tmp_path: Path) -> None:
    """`remote modify NAME url NEW` empties the cached indexes; the mark of when the remote was
    last listed went on saying "answered from its listing of a moment ago" about the new place,
    never listed, and status then named every commit as not on it."""
    import shutil

    from tests.helpers import mlv

    mlv("remote", "add", "store", str(tmp_path / "old"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, seed=4))
    commit_all(repo, "one")
    mlv("push", cwd=repo)
    assert "Everything is in place and on remote 'store'" in _mlv_env(["status"], repo)
    mlv("remote", "modify", "store", "url", str(tmp_path / "new"), cwd=repo)
    shutil.rmtree(tmp_path / "new")  # a share not mounted
    text = _mlv_env(["status"], repo)
    assert "could not be asked" in text and "it was never listed here" in text, text
    assert UNPUSHED not in text and "listing of" not in text, text


def test_a_default_remote_that_cannot_be_opened_is_not_claimed_to_hold_everything(
        repo: Path, tmp_path: Path) -> None:
    """A `.gitmlv` whose `core.remote` names no remote (a hand-made rename of the section): status
    said it could not be asked, "not compared with it", and ended "Everything is in place (and on
    remote 'box' by that listing)"."""
    from tests.helpers import mlv

    mlv("remote", "add", "box", str(tmp_path / "box"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, seed=4))
    commit_all(repo, "one")
    mlv("push", cwd=repo)
    text = (repo / ".gitmlv").read_text().replace('[remote "box"]', '[remote "renamed"]')
    (repo / ".gitmlv").write_text(text)
    out = _mlv_env(["status"], repo)
    assert "could not be asked: the default data remote 'box' (core.remote in .gitmlv) is not" in out, out
    assert "by that listing" not in out and "on remote 'box'" not in out, out
