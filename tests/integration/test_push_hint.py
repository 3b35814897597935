"""A push whose commits do not carry the data remote in .gitmlv (or git-mlv's lines of
.gitattributes): the data goes up, but a clone would not know where it is (or that the files are
data). The pre-push hook says so (ops/remote_hint.py)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, write

_HINT = b"a clone will not find this data"


def _repo_with_uncommitted_remote(repo: Path, tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, seed=1))
    git("add", "a.bin", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)  # not committed
    return origin


def test_push_warns_when_the_pushed_gitmlv_lacks_the_remote(repo: Path, tmp_path: Path) -> None:
    origin = _repo_with_uncommitted_remote(repo, tmp_path)
    res = git("push", "origin", "main", cwd=repo)
    assert _HINT in res.stderr and b"Commit .gitmlv" in res.stderr
    assert list((tmp_path / "store" / "packs").glob("*.idx"))  # the data went up all the same
    # what the warning is about: a clone of that push has no data remote, so only pointers
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert (clone / "a.bin").read_bytes().startswith(b"version ")
    # committed: the next push is silent, and a fresh clone gets the bytes
    commit_all(repo, "remote")
    res = git("push", "origin", "main", cwd=repo)
    assert _HINT not in res.stderr
    clone2 = tmp_path / "clone2"
    git("clone", "-q", str(origin), str(clone2), cwd=tmp_path)
    assert (clone2 / "a.bin").read_bytes() == (repo / "a.bin").read_bytes()


def test_push_warns_when_the_pushed_gitmlv_names_another_url(repo: Path, tmp_path: Path) -> None:
    _repo_with_uncommitted_remote(repo, tmp_path)
    commit_all(repo, "remote")
    git("config", "-f", ".gitmlv", "remote.store.url", str(tmp_path / "moved"), cwd=repo)
    (tmp_path / "moved").mkdir()  # push creates no folder remote's folder (remote add does)
    mlv("remote", "trust", "store", cwd=repo)
    res = git("push", "origin", "main", cwd=repo)
    assert _HINT in res.stderr and f"names it at {tmp_path / 'store'}".encode() in res.stderr


def test_a_local_remote_is_not_warned_about(repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "--local", "mine", str(tmp_path / "mine"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, seed=2))
    commit_all(repo, "data")
    res = git("push", "origin", "main", cwd=repo)
    assert _HINT not in res.stderr and b"pushed data of 1 file(s)" in res.stderr


_ATTR_HINT = b"check those files out as pointer text"


def test_push_warns_when_the_pushed_gitattributes_lack_the_patterns(repo: Path,
                                                                     tmp_path: Path) -> None:
    """README's first version: `git mlv track`, then `git add data model.h5`: the filter used
    the worktree's .gitattributes, so pointers were committed, but the file itself was not, and a
    clone checked them out as pointer text (found trying the README as a new user)."""
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(30_000, seed=3))
    git("add", ".gitmlv", "data", cwd=repo)  # not .gitattributes
    git("commit", "-q", "-m", "data", cwd=repo)
    res = git("push", "origin", "main", cwd=repo)
    line = next(x for x in res.stderr.splitlines() if _ATTR_HINT in x)
    assert b"'*.bin' (and 1 more)" in line and b"Commit .gitattributes" in line, line
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert (clone / "data" / "a.bin").read_bytes().startswith(b"version ")

    git("add", ".gitattributes", cwd=repo)
    git("commit", "-q", "-m", "attributes", cwd=repo)
    res = git("push", "origin", "main", cwd=repo)
    assert _ATTR_HINT not in res.stderr and _HINT not in res.stderr, res.stderr
    clone2 = tmp_path / "clone2"
    git("clone", "-q", str(origin), str(clone2), cwd=tmp_path)
    assert (clone2 / "data" / "a.bin").read_bytes() == (repo / "data" / "a.bin").read_bytes()


def test_track_says_to_commit_gitattributes(repo: Path) -> None:
    out = mlv("track", "*.h5", cwd=repo).stdout
    assert b"git add .gitattributes" in out
    assert b"git add .gitattributes" not in mlv("track", "*.h5", cwd=repo).stdout  # nothing added


def test_an_old_tag_without_data_is_not_warned_about(tmp_path: Path) -> None:
    """A tag from before git-mlv came in holds no pointers: its .gitattributes lacks nothing, and a
    clone of it needs no data remote."""
    repo = tmp_path / "old"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    write(repo / "README", b"hello\n")
    commit_all(repo, "before git-mlv")
    git("tag", "v0.1", cwd=repo)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("track", "*.bin", cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, seed=4))
    commit_all(repo, "data")
    res = git("push", "origin", "v0.1", cwd=repo)
    assert _ATTR_HINT not in res.stderr and _HINT not in res.stderr, res.stderr
    res = git("push", "origin", "main", cwd=repo)  # committed with its .gitattributes: silent too
    assert _ATTR_HINT not in res.stderr and _HINT not in res.stderr, res.stderr


def test_push_of_data_with_no_data_remote_is_stopped(repo: Path, tmp_path: Path) -> None:
    """No data remote at all: the push went through in silence and a clone got pointers whose
    data was nowhere but here. Now it is stopped with what to do, unless mlv.pushFailOk; and
    the count follows what git's remote lacks (an empty file needs no data)."""
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    write(repo / "readme.txt", b"code only\n")
    commit_all(repo, "code")
    git("push", "-q", "origin", "main", cwd=repo)  # commits without data: nothing to say
    write(repo / "a.bin", random_bytes(30_000, seed=1))
    write(repo / "empty.bin", b"")
    commit_all(repo, "data")
    res = git("push", "origin", "main", cwd=repo, check=False)
    assert res.returncode != 0 and b"hold the data of 1 file(s), and no data remote" in res.stderr
    assert b"git mlv remote add" in res.stderr
    assert git("rev-parse", "main", cwd=origin).stdout != git("rev-parse", "main", cwd=repo).stdout
    res = git("-c", "mlv.pushFailOk=true", "push", "-q", "origin", "main", cwd=repo)  # the user's choice
    # the refs are up now: a later `git push` says "Everything up-to-date" and sends nothing
    assert b"no data remote is set up: pushing commits anyway (mlv.pushFailOk)" in res.stderr
    assert b"then `git mlv push` once it works (a `git push` sends it only along with new commits)" \
        in res.stderr
    write(repo / "b.bin", random_bytes(30_000, seed=2))
    commit_all(repo, "more")
    res = git("push", "origin", "main", cwd=repo, check=False)
    assert res.returncode != 0 and b"hold the data of 1 file(s)" in res.stderr  # b.bin only
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    commit_all(repo, "remote")
    git("push", "-q", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert (clone / "b.bin").read_bytes() == (repo / "b.bin").read_bytes()
    assert (clone / "a.bin").read_bytes() == (repo / "a.bin").read_bytes()
