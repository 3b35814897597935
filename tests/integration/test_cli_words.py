"""What the data verbs make of the words they are given: `.` is the whole repository, a path that
names no tracked file and a word that is neither a data remote nor a commit are errors of one
line (found by trying the CLI as a new user: `git mlv checkout .` at the top did nothing, and
`git mlv push nope` printed git's "fatal: Not a valid object name")."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, random_bytes


def _committed(repo: Path) -> dict[str, bytes]:
    files = {"a.bin": random_bytes(30_000, 1), "data/b.bin": random_bytes(90_000, 2)}
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    return files


def _as_pointers(repo: Path, files: dict[str, bytes]) -> None:
    """The worktree files replaced by their pointers, as a checkout without the data leaves them."""
    for name in files:
        (repo / name).write_bytes(git("cat-file", "blob", f"HEAD:{name}", cwd=repo).stdout)


def test_dot_is_every_tracked_file_from_the_top_and_from_a_folder(repo: Path) -> None:
    files = _committed(repo)
    _as_pointers(repo, files)
    mlv("checkout", ".", cwd=repo)
    assert {n: (repo / n).read_bytes() for n in files} == files
    _as_pointers(repo, files)
    mlv("checkout", "..", cwd=repo / "data")
    assert {n: (repo / n).read_bytes() for n in files} == files


def test_a_path_that_names_no_tracked_file_is_an_error(repo: Path) -> None:
    files = _committed(repo)
    _as_pointers(repo, files)
    for verb in ("checkout", "ls-files"):
        proc = mlv(verb, "nope", cwd=repo, check=False)
        assert proc.returncode == 2, (verb, proc.stderr)
        err = proc.stderr.decode().strip()
        assert "\n" not in err and "'nope'" in err and "Traceback" not in err, (verb, err)
    # one word that is neither (a tag a shallow clone lacks): said so, with how to get the tag
    assert "nor a revision known here" in proc.stderr.decode() and "git fetch --tags" in err
    proc = mlv("checkout", "a.bin", "nope", cwd=repo, check=False)
    assert proc.returncode == 2 and "'nope'" in proc.stderr.decode()
    assert (repo / "a.bin").read_bytes() == files["a.bin"]  # what the good path names is done


def test_checkout_of_a_revision_says_how_to_switch(repo: Path) -> None:
    """`git mlv checkout v1.0` reads like `git checkout v1.0`; it takes paths, so the error says
    which command switches (and that the data comes with it)."""
    _committed(repo)
    git("tag", "v1.0", cwd=repo)
    for verb in ("checkout", "pull"):
        proc = mlv(verb, "v1.0", cwd=repo, check=False)
        err = proc.stderr.decode().strip()
        assert proc.returncode == 2 and "\n" not in err, (verb, err)
        assert "'v1.0' is a revision: `git checkout v1.0`" in err, (verb, err)
    err = mlv("checkout", "nope", cwd=repo, check=False).stderr.decode()
    assert "is a revision" not in err  # a plain typo gets the plain error


def test_a_word_that_is_neither_a_data_remote_nor_a_commit(repo: Path, tmp_path: Path) -> None:
    _committed(repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for verb in ("push", "fetch"):
        proc = mlv(verb, "stroe", cwd=repo, check=False)
        err = proc.stderr.decode().strip()
        assert proc.returncode == 2 and "\n" not in err, (verb, err)
        assert "'stroe'" in err and "data remotes: store" in err and "fatal" not in err, (verb, err)
    assert mlv("push", "store", "HEAD", cwd=repo).returncode == 0  # the right words still work


def test_ls_files_takes_a_revision_then_paths(repo: Path) -> None:
    files = _committed(repo)
    git("tag", "v1", cwd=repo)

    def listed(*words: str, cwd: Path = repo) -> list[str]:
        return [line.split()[-1] for line in mlv("ls-files", *words, cwd=cwd).stdout.decode().splitlines()]

    assert listed() == sorted(files)
    assert listed("data") == ["data/b.bin"]
    assert listed("v1", "a.bin") == ["a.bin"]
    # paths are relative to where one is, and named so, as `git ls-files ..` names them
    assert listed("..", cwd=repo / "data") == ["../a.bin", "b.bin"]
    assert listed("v1", ".", cwd=repo / "data") == ["b.bin"]
    assert listed("--full-name", "v1", ".", cwd=repo / "data") == ["data/b.bin"]
    (repo / "v1").write_bytes(b"a file named like the tag")
    proc = mlv("ls-files", "v1", cwd=repo, check=False)
    assert proc.returncode == 2 and b"both a revision and a path" in proc.stderr


def test_listings_quote_odd_paths_as_git_does(repo: Path) -> None:
    """A path with a newline, or a byte that is not UTF-8: `ls-files` and `status` printed them
    raw (a path broken over two lines, a replacement character); now C-quoted as git quotes them,
    one path a line. Unicode stays as it is."""
    import os

    names = {"a\nb.bin": '"a\\nb.bin"', os.fsdecode(b"bad\xff.bin"): '"bad\\377.bin"',
             "caf\u00e9.bin": "caf\u00e9.bin"}
    for name in names:
        (repo / name).write_bytes(random_bytes(5_000, len(name)))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "odd names", cwd=repo)
    listed = mlv("ls-files", cwd=repo).stdout.decode().splitlines()
    assert sorted(line[27:] for line in listed) == sorted(names.values())  # after oid, mark, size
    for name in names:
        with open(repo / name, "ab") as f:
            f.write(b"more")
    status = mlv("status", cwd=repo).stdout.decode().splitlines()
    assert sorted(line.strip() for line in status if line.startswith("  ")) == sorted(names.values())


def test_a_path_outside_the_repository_is_named_so(repo: Path, tmp_path: Path) -> None:
    """`git mlv pull /etc/passwd` said "no file tracked by git-mlv is at or under
    '../../../../etc/passwd'": the path the user typed, turned into one they did not."""
    _committed(repo)
    outside = tmp_path / "elsewhere.bin"
    for verb in ("status", "checkout", "pull", "ls-files"):
        p = mlv(verb, str(outside), cwd=repo, check=False)
        err = p.stderr.decode()
        assert p.returncode == 2, (verb, err)
        assert err == f"git-mlv: error: {outside}: outside the repository ({repo})\n", (verb, err)


def test_a_message_for_a_rewrite_is_refused_not_ignored(repo: Path) -> None:
    """`migrate import -m MSG` without --no-rewrite rewrote history and dropped MSG in silence (the
    option names the message of the --no-rewrite commit)."""
    (repo / "big.dat").write_bytes(random_bytes(40_000, 3))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "plain", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo).stdout
    p = mlv("migrate", "import", "--include", "*.dat", "-m", "convert", cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode == 2 and err.count("\n") == 1 and "--no-rewrite" in err, err
    assert git("rev-parse", "HEAD", cwd=repo).stdout == head
