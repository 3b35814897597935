"""Trust in tracked remote URLs compares places, not spellings.

Regression: ops/trust.py compared the URL a clone accepted with the one ``.gitmlv`` names as text,
so a commit that only added a trailing slash (``s3://b/p/``) or wrote a folder as ``file://`` made
every clone refuse to push (exit 7, 'not pushing data there') and warn on every fetch, though the
data goes to the very same place. A change of place is still refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.remotes.url import same_place
from tests.helpers import git, mlv, out, random_bytes, write
from tests.remotes.conftest import make_backend
from tests.remotes.test_faults import commit_data


@pytest.mark.parametrize(("a", "b", "same"), [
    ("s3://bkt/p", "s3://bkt/p/", True),
    ("s3://bkt/p", "s3://bkt//p", True),
    ("s3://bkt/a/b", "s3://bkt/a//b", False),  # the second is refused (an inner //)
    ("s3://bkt/p", "s3://bkt/q", False),
    ("gs://bkt", "gs://bkt/", True),
    ("az://cont@acct/p", "az://cont@acct/p/", True),
    ("az://cont@acct/p", "az://cont/p", False),  # the account may come from elsewhere
    ("/srv/data", "/srv/data/", True),
    ("/srv/data", "file:///srv/data/", True),
    ("/srv/data", "/srv/other", False),
    ("../store", "../store/", True),
    ("../store", "../../store", False),
    ("../x/../store", "../store", True),
    ("host:store", "ssh://host/~/store", True),
    ("ssh://Host/srv/x/", "ssh://host/srv/x", True),
    ("ssh://u@host/srv/x", "ssh://host/srv/x", False),
    ("ssh://host:22/srv/x", "ssh://host/srv/x", False),  # ~/.ssh/config may give the host another port
    ("s3://BAD", "s3://bad", False),  # no URL: compared as text
])
def test_same_place(a: str, b: str, same: bool) -> None:
    assert same_place(a, b) is same
    assert same_place(b, a) is same


def test_a_trailing_slash_in_gitmlv_is_the_same_remote(repo: Path, tmp_path: Path,
                                                      request: pytest.FixtureRequest,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    backend = make_backend("s3", request, tmp_path, monkeypatch)
    backend.configure(repo)  # `remote add`: this clone accepted the URL
    files = commit_data(repo, n=1)
    mlv("push", "-q", cwd=repo)
    git("config", "-f", ".gitmlv", "remote.store.url", backend.url + "/", cwd=repo)
    git("commit", "-q", "-am", "same place, another spelling", cwd=repo)
    write(repo / "data/two.bin", random_bytes(40_000, seed=7))
    git("add", "data/two.bin", cwd=repo)
    git("commit", "-q", "-m", "two", cwd=repo)
    res = mlv("push", cwd=repo, check=False)
    assert res.returncode == 0, res.stderr
    assert "changed from" not in out(mlv("remote", "list", cwd=repo))
    res = mlv("fetch", cwd=repo)
    assert b"note: data remote" not in res.stderr
    # everything arrives in a fresh clone from that remote
    clone = tmp_path / "clone"
    git("clone", "-q", "--no-checkout", str(repo), str(clone), cwd=tmp_path)
    for k, v in backend.options.items():
        git("config", f"mlv-remote.store.{k}", v, cwd=clone)
    git("checkout", "-q", "main", cwd=clone)
    mlv("pull", "-q", cwd=clone)
    for path, data in {**files, "data/two.bin": random_bytes(40_000, seed=7)}.items():
        assert (clone / path).read_bytes() == data
    # another place is still refused
    git("config", "-f", ".gitmlv", "remote.store.url", backend.url + "-elsewhere", cwd=repo)
    assert mlv("push", cwd=repo, check=False).returncode == 7
