"""What a new user meets with folder remotes and two remotes (found by trying them):

- `git mlv remote add NAME PATH` where PATH is a file took it as the remote (os.makedirs's
  "exists" passed), and every push then failed with "/x/afile: packs/: Not a directory";
- the first remote added said "(default)" without ``--default``: it was the default only while it
  was the only one, and adding a second left none, silently;
- data pushed to one remote and pulled from another: "b.bin stays a pointer: not on the remote",
  with no word of the other remotes that may hold it.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, one_error_line, random_bytes, write


def test_a_file_is_refused_as_a_folder_remote(repo: Path, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_bytes(b"not a folder")
    p = mlv("remote", "add", "store", str(afile), cwd=repo, check=False)
    err = one_error_line(p, 2)
    assert f"{afile} is a file, not a folder" in err, err
    assert "store" not in mlv("remote", "list", cwd=repo).stdout.decode()
    # one that became a file after it was added: the push says what is wrong
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("config", "mlv-remote.store.url", str(afile), cwd=repo)
    write(repo / "a.bin", random_bytes(20_000, seed=1))
    commit_all(repo, "v1")
    err = one_error_line(mlv("push", cwd=repo, check=False), 5)
    assert f"data remote {afile} is a file, not a folder" in err, err  # "packs/: Not a directory"


def test_an_implied_default_says_it_holds_only_while_it_is_the_only_one(repo: Path, tmp_path: Path) -> None:
    out = mlv("remote", "add", "a", str(tmp_path / "a"), cwd=repo).stdout.decode()
    assert "(default)" not in out and "the default while it is the only data remote" in out, out
    out = mlv("remote", "add", "b", str(tmp_path / "b"), "--default", cwd=repo).stdout.decode()
    assert "(default)" in out, out


def test_data_not_on_the_remote_pulled_from_names_the_others(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "one", str(tmp_path / "one"), "--default", cwd=repo)
    mlv("remote", "add", "two", str(tmp_path / "two"), cwd=repo)
    write(repo / "a.bin", random_bytes(20_000, seed=1))
    commit_all(repo, "v1")
    mlv("push", "two", cwd=repo)  # pushed to the other one only
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    p = mlv("pull", cwd=clone, check=False)
    assert p.returncode == 1
    assert "other data remotes: two (`git mlv fetch NAME` or `pull NAME`" in p.stderr.decode(), p.stderr
    mlv("pull", "two", cwd=clone)
    assert (clone / "a.bin").read_bytes() == random_bytes(20_000, seed=1)


def test_a_relative_url_from_a_clone_elsewhere_says_how_to_point_at_it(repo: Path, tmp_path: Path) -> None:
    """A relative folder URL in .gitmlv is relative to each clone's root: a clone made at another
    depth looks for another folder. Before, it was told "a share not mounted? moved?" only."""
    mlv("remote", "add", "store", "../store", "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(20_000, seed=1))
    commit_all(repo, "v1")
    mlv("push", cwd=repo)
    clone = tmp_path / "deeper" / "clone"
    clone.parent.mkdir()
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)  # a.bin stays a pointer, with a warning
    err = one_error_line(mlv("pull", cwd=clone, check=False), 5)
    assert "its URL '../store' is relative to this repository's root" in err, err
    assert "git config mlv-remote.store.url /ABS/PATH" in err, err
    git("config", "mlv-remote.store.url", str(tmp_path / "store"), cwd=clone)
    listed = mlv("remote", "list", cwd=clone).stdout.decode()
    assert "tracked (url local)" in listed, listed  # "tracked" before, with the local URL beside it
    mlv("pull", cwd=clone)
    assert (clone / "a.bin").read_bytes() == random_bytes(20_000, seed=1)


def test_a_missing_default_says_which_setting_names_it(repo: Path, tmp_path: Path) -> None:
    """``mlv.remote`` left naming a remote removed since: "no data remote named 'gone'" named no
    setting, though the user typed no name."""
    mlv("remote", "add", "store", str(tmp_path / "store"), cwd=repo)
    write(repo / "a.bin", random_bytes(20_000, seed=1))
    commit_all(repo, "v1")
    git("config", "mlv.remote", "gone", cwd=repo)
    err = one_error_line(mlv("pull", cwd=repo, check=False), 2)
    assert "the default data remote 'gone' (git config mlv.remote) is not configured (known: store)" in err
    said = mlv("status", cwd=repo).stdout.decode()
    assert "(git config mlv.remote)" in said, said


def test_a_url_given_where_a_remote_name_goes_says_so(repo: Path, tmp_path: Path) -> None:
    """`git mlv push ../store` (git's habit: `git push URL`) read the URL as a revision: "'../store'
    names no commit here (a typo, or a ref not fetched yet?)"."""
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(20_000, seed=1))
    commit_all(repo, "v1")
    err = one_error_line(mlv("push", str(tmp_path / "store"), cwd=repo, check=False), 2)
    assert "is a folder or URL, not a revision" in err and "this is data remote 'store'" in err, err
    err = one_error_line(mlv("fetch", "s3://bucket/p", cwd=repo, check=False), 2)
    assert "`git mlv remote add NAME URL` adds one" in err, err
